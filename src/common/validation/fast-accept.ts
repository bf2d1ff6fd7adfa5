import type { ClassTransformOptions } from 'class-transformer';
import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformMetadataStorage } from 'class-transformer/types/MetadataStorage';
import type { TransformFnParams } from 'class-transformer/types/interfaces';
import {
  ValidationArguments,
  ValidationTypes,
  ValidatorConstraintInterface,
  getMetadataStorage,
} from 'class-validator';

// class-transformer keeps its decorators' metadata in a module it does not re-export.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TransformMetadataStorage;
};

/** A DTO class, as Nest hands it to the validation pipe. */
type DtoClass = new () => object;

/** What turns a flat plain object into a validated DTO instance, or says "ask the full pipe". */
export type Acceptor = (plain: object) => object | undefined;

interface Check {
  constraint: ValidatorConstraintInterface;
  constraints: unknown[];
  each: boolean;
}

interface Rule {
  transforms: ((params: TransformFnParams) => unknown)[];
  conditions: ((object: object, value: unknown) => boolean)[];
  checks: Check[];
}

/** The decorator kinds the acceptor runs itself; a DTO with any other kind is never compiled. */
const RUN_HERE = new Set<string>([
  ValidationTypes.CUSTOM_VALIDATION,
  ValidationTypes.IS_DEFINED,
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.WHITELIST,
]);

const isPrimitive = (value: unknown): boolean =>
  value === null || (typeof value !== 'object' && typeof value !== 'function');

const isThenable = (value: unknown): boolean =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * The valid case of `StrictValidationPipe`, without class-transformer's and class-validator's
 * general machinery: on a hot route they cost about as much as all of TaskFlow's own code in the
 * request (docs/benchmark.md, "Where TaskFlow's time goes").
 *
 * Built from the same decorator metadata those two libraries read, so there is no second
 * description of any DTO. It does what they do for a flat input (primitives and arrays of
 * primitives: every query string and nearly every body): builds the instance with `new`, copies
 * each key (arrays copied), applies the `@Transform`s, then runs each property's `@ValidateIf`
 * conditions and each constraint's own `validate` function with the same arguments, items one by
 * one for `each`.
 *
 * It only ever accepts. Whatever it does not accept (an unknown key, a failed constraint, a nested
 * object, an async constraint) goes to the full pipe, which decides and writes the 422's
 * details, so every error message is still class-validator's own. fast-accept.spec.ts checks,
 * for every route's DTO on 1,500 generated inputs, that both accept exactly the same inputs and
 * build equal instances.
 *
 * `undefined` when the DTO uses anything it does not run (nested DTOs, groups, `@Type`,
 * `@Expose`/`@Exclude`, async constraints): then the full pipe handles every input.
 */
export function compileAcceptor(
  metatype: DtoClass,
  transformOptions: ClassTransformOptions,
): Acceptor | undefined {
  const storage = getMetadataStorage();
  // As class-validator's executor asks for them (no groups, not `always`, not strict).
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, []);
  if (metadatas.length === 0) return undefined;
  if (defaultMetadataStorage.getStrategy(metatype) !== 'none') return undefined;
  if (defaultMetadataStorage.getExposedMetadatas(metatype).length > 0) return undefined;
  if (defaultMetadataStorage.getExcludedMetadatas(metatype).length > 0) return undefined;

  const rules = new Map<string, Rule>();
  for (const [property, own] of Object.entries(storage.groupByPropertyName(metadatas))) {
    if (defaultMetadataStorage.findTypeMetadata(metatype, property)) return undefined;
    // class-transformer skips keys the prototype has a getter or method for.
    if (property in metatype.prototype) return undefined;
    const rule: Rule = {
      transforms: defaultMetadataStorage
        .findTransformMetadatas(metatype, property, TransformationType.PLAIN_TO_CLASS)
        .map((metadata) => metadata.transformFn),
      conditions: [],
      checks: [],
    };
    for (const metadata of own) {
      if (!RUN_HERE.has(metadata.type) || metadata.groups?.length || metadata.always) {
        return undefined;
      }
      if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        rule.conditions.push(metadata.constraints[0] as Rule['conditions'][number]);
      } else if (metadata.type !== ValidationTypes.WHITELIST) {
        for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
          if (constraint.async) return undefined;
          rule.checks.push({
            constraint: constraint.instance,
            constraints: metadata.constraints,
            each: metadata.each === true,
          });
        }
      }
    }
    rules.set(property, rule);
  }

  const passes = (check: Check, value: unknown, args: ValidationArguments): boolean => {
    const result = check.constraint.validate(value, args);
    return !isThenable(result) && Boolean(result);
  };

  return (plain) => {
    const entity = new metatype() as Record<string, unknown>;
    const source = plain as Record<string, unknown>;
    for (const key of Object.keys(source)) {
      const rule = rules.get(key);
      if (!rule) return undefined;
      let value = source[key];
      if (Array.isArray(value)) {
        const copy: unknown[] = [];
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          // A gap reads as undefined, which JSON and query strings cannot send: the full pipe.
          if (item === undefined || !isPrimitive(item)) return undefined;
          copy.push(item);
        }
        value = copy;
      } else if (!isPrimitive(value)) {
        return undefined;
      }
      for (const transform of rule.transforms) {
        value = transform({
          value,
          key,
          obj: source,
          type: TransformationType.PLAIN_TO_CLASS,
          options: transformOptions,
        });
      }
      entity[key] = value;
    }
    // Keys a field initialiser set count as sent, as they do for the whitelist.
    for (const key of Object.keys(entity)) if (!rules.has(key)) return undefined;
    for (const [property, rule] of rules) {
      const value = entity[property];
      if (!rule.conditions.every((condition) => condition(entity, value))) continue;
      for (const check of rule.checks) {
        const args: ValidationArguments = {
          targetName: metatype.name,
          property,
          object: entity,
          value,
          constraints: check.constraints,
        };
        if (check.each && (value instanceof Set || value instanceof Map)) return undefined;
        const ok =
          check.each && Array.isArray(value)
            ? value.every((item) => passes(check, item, args))
            : passes(check, value, args);
        if (!ok) return undefined;
      }
    }
    return entity;
  };
}
