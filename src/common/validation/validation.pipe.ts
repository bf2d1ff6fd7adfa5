import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ValidationFailedError } from '../errors/domain-errors';

/** Fields the server owns: sending them is a 422 that says so, never a silent overwrite. */
const SERVER_OWNED = new Set(['id', 'created_by', 'created_at', 'updated_at']);

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => {
      if (constraint === 'whitelistValidation') {
        return {
          field,
          message: SERVER_OWNED.has(error.property)
            ? `${field} is server-owned and cannot be set`
            : `${field} is not a known field`,
        };
      }
      return { field, message };
    });
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** No DTO is deeper than this; anything deeper is refused before it reaches a recursive walker. */
const MAX_DEPTH = 32;

/** Fields and items in all: the largest DTO (a worker with 50 capabilities) has about 60. */
const MAX_VALUES = 1000;

/** `constructor`, `toString`, `__proto__`…: keys class-transformer would drop without a word. */
const INHERITED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What the whitelist cannot be trusted with, checked before class-transformer and
 * class-validator see the value:
 * - nesting deeper than any DTO (their recursion, and Nest's own `stripProtoKeys`, overflow the
 *   stack on a few thousand levels, which was a 500);
 * - more fields and items than any DTO: 1 MB of unknown keys took 5 s of CPU to answer with an
 *   8 MB list of "not a known field", and 200,000 capabilities a second to count past 50;
 * - keys named after `Object.prototype` members: class-transformer skips them, so
 *   `forbidNonWhitelisted` never sees them and `{"title":"x","toString":1}` was a 201.
 */
function refuseBeforeTransforming(value: unknown, where: 'body' | 'query'): void {
  const stack: [unknown, number][] = [[value, 0]];
  let values = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    values += 1;
    if (values > MAX_VALUES) {
      throw ValidationFailedError.field(
        where,
        `${where} has more than ${MAX_VALUES} fields and items in all`,
      );
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      throw ValidationFailedError.field(
        where,
        `${where} is nested more than ${MAX_DEPTH} levels deep`,
      );
    }
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  if (isPlainObject(value)) {
    const inherited = Object.keys(value).filter((key) => INHERITED_NAMES.has(key));
    if (inherited.length > 0) {
      throw new ValidationFailedError(
        inherited.map((field) => ({ field, message: `${field} is not a known field` })),
      );
    }
  }
}

/**
 * The global pipe (registered once as APP_PIPE): Nest's `ValidationPipe` with strict
 * whitelisting, no implicit type coercion of JSON bodies (a typed client sends numbers as
 * numbers), and the contract's 422 with `details`. Query DTOs opt into string-to-number
 * conversion field by field with `@Type`. The subclass only adds the checks class-transformer
 * and class-validator cannot be trusted with (`refuseBeforeTransforming`), and leaves single
 * parameters to the route's own pipe.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
    });
  }

  // Not `async`: Nest's pipe runner awaits whatever a pipe returns (and turns a throw into a
  // rejection), so a promise of our own around the base class's is one more per parameter, each
  // paying Node's AsyncLocalStorage hooks (promises per request counted in docs/benchmark.md,
  // round three).
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && value !== undefined) {
      if (metadata.type === 'body' && !isPlainObject(value)) {
        throw ValidationFailedError.field('body', 'body must be a JSON object');
      }
      refuseBeforeTransforming(value, metadata.type);
    }
    return super.transform(value, metadata);
  }

  /**
   * Leaves single path and query parameters as the strings they arrived as: the route's own pipe
   * (`ParseIdPipe`) parses them strictly. The default would turn "1e9" into 1000000000 first.
   */
  protected override transformPrimitive(value: unknown): unknown {
    return value;
  }
}
