import { ArgumentMetadata } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { prng } from '../../../bench/prng';
import { ValidationFailedError } from '../errors/domain-errors';
import { compileAcceptor } from './fast-accept';
import { StrictValidationPipe } from './validation.pipe';

type Dto = new () => object;

/** Every DTO a route validates: the body and query parameters of every controller's handlers. */
function routeDtos(): Map<Dto, ArgumentMetadata['type']> {
  const dtos = new Map<Dto, ArgumentMetadata['type']>();
  const src = path.join(__dirname, '../..');
  const controllers = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.controller.ts'),
  );
  for (const file of controllers) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- at describe time, which cannot await
    const module = require(path.join(src, file)) as Record<string, unknown>;
    for (const exported of Object.values(module)) {
      if (typeof exported !== 'function') continue;
      const proto = exported.prototype as object;
      for (const method of Object.getOwnPropertyNames(proto)) {
        const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, exported, method) as
          Record<string, { index: number }> | undefined;
        const types = Reflect.getMetadata('design:paramtypes', proto, method) as
          unknown[] | undefined;
        if (!args || !types) continue;
        for (const [key, { index }] of Object.entries(args)) {
          const kind = Number(key.split(':')[0]) as RouteParamtypes;
          const type =
            kind === RouteParamtypes.BODY
              ? 'body'
              : kind === RouteParamtypes.QUERY
                ? 'query'
                : null;
          const metatype = types[index];
          if (type && typeof metatype === 'function' && metatype !== Object) {
            dtos.set(metatype as Dto, type);
          }
        }
      }
    }
  }
  return dtos;
}

const GENERIC: unknown[] = [
  null,
  '',
  ' ',
  'a',
  'abc',
  'Ship it',
  'x'.repeat(1000),
  'x'.repeat(1001),
  'a\u0000b',
  '0',
  '1',
  '37',
  '100',
  '101',
  '-1',
  '1e3',
  '1.5',
  0,
  1,
  37,
  100,
  101,
  -1,
  1.5,
  true,
  false,
  'true',
  'false',
  [],
  ['a'],
  ['a', 'b'],
  ['a', 'a'],
  ['a', 1],
  'a,b',
  ' a , ,b',
  '2026-12-01T17:00:00Z',
  '2026-12-01 17:00',
  '2026-02-30',
  '2026-12-01',
  'proj-1',
  'https://example.com/hook',
  { a: 1 },
  [null],
];

/** A DTO's validation rules by property, as class-validator's executor reads them. */
const rulesOf = (dto: Dto) =>
  getMetadataStorage().groupByPropertyName(
    getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false, []),
  );

/** Values worth trying for one property: the generic ones, its examples and its constraints'. */
function candidates(dto: Dto, property: string): unknown[] {
  const own: unknown[] = [];
  const swagger = Reflect.getMetadata('swagger/apiModelProperties', dto.prototype, property) as
    { example?: unknown; enum?: unknown[] } | undefined;
  if (swagger?.example !== undefined) own.push(swagger.example, [swagger.example]);
  for (const value of swagger?.enum ?? []) own.push(value, [value], String(value));
  for (const metadata of rulesOf(dto)[property]) {
    for (const constraint of (metadata.constraints ?? []) as unknown[]) {
      if (Array.isArray(constraint)) {
        own.push(...(constraint as unknown[]), constraint.slice(0, 2));
      } else if (typeof constraint === 'number') {
        own.push(constraint, constraint - 1, constraint + 1, String(constraint));
      }
    }
  }
  // The property's own values three times as often: most inputs should be close to valid.
  return [...GENERIC, ...own, ...own, ...own];
}

/**
 * The candidates class-validator finds nothing wrong with when the property is sent alone: inputs
 * made only of those are often valid as a whole, so the accepting half is well exercised too.
 */
async function fine(
  pipe: FullPipe,
  dto: Dto,
  type: ArgumentMetadata['type'],
  property: string,
  pool: unknown[],
): Promise<unknown[]> {
  const good: unknown[] = [];
  for (const value of pool) {
    const outcome = await pipe
      .full({ [property]: structuredClone(value) }, { type, metatype: dto })
      .then(
        () => [],
        (error: unknown) => (error instanceof ValidationFailedError ? error.details : [error]),
      );
    const blamed = outcome.some(
      (detail) =>
        typeof detail !== 'object' || (detail as { field: string }).field.startsWith(property),
    );
    if (!blamed) good.push(value);
  }
  return good;
}

/** Inputs as a route sees them: JSON bodies, or query objects (which have no prototype). */
async function inputs(
  pipe: FullPipe,
  dto: Dto,
  type: ArgumentMetadata['type'],
  count: number,
): Promise<object[]> {
  const random = prng(0x5eed ^ dto.name.length);
  const properties = Object.keys(rulesOf(dto));
  const pools = new Map<string, { all: unknown[]; good: unknown[] }>();
  for (const property of properties) {
    const all = candidates(dto, property);
    pools.set(property, { all, good: await fine(pipe, dto, type, property, all) });
  }
  const made: object[] = [];
  for (let i = 0; i < count; i++) {
    // Half the inputs from values that are fine on their own, half from anything.
    const kind = random() < 0.5 ? 'good' : 'all';
    const input: Record<string, unknown> = type === 'query' ? Object.create(null) : {};
    for (const property of properties) {
      if (random() < 0.4) continue;
      const pool = pools.get(property)![kind];
      if (pool.length === 0) continue;
      input[property] = structuredClone(pool[Math.floor(random() * pool.length)]);
    }
    if (random() < 0.05) input.unknown_field = 'x';
    made.push(input);
  }
  return made;
}

/** A copy that keeps a query object's missing prototype (structuredClone would add one). */
const copy = (input: object): object =>
  Object.assign(
    Object.create(Object.getPrototypeOf(input) as object | null) as object,
    structuredClone({ ...input }),
  );

/** Nest's own ValidationPipe with the same options: the reference the acceptor must agree with. */
class FullPipe extends StrictValidationPipe {
  full(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return ValidationPipe.prototype.transform.call(this, value, metadata) as Promise<unknown>;
  }
}

describe('compiled valid case of the validation pipe (fast-accept.ts)', () => {
  const dtos = routeDtos();
  const pipe = new FullPipe();

  it('finds the DTOs of the routes', () => {
    expect(dtos.size).toBeGreaterThanOrEqual(15);
  });

  it.each([...dtos].map(([dto, type]) => [dto.name, dto, type] as const))(
    '%s: accepts exactly what class-validator accepts, and builds the same instance',
    async (_name, dto, type) => {
      const acceptor = compileAcceptor(dto, { enableImplicitConversion: false });
      expect(acceptor).toBeDefined();
      let accepted = 0;
      let refused = 0;
      for (const input of await inputs(pipe, dto, type, 1500)) {
        const fast = acceptor!(copy(input));
        const full = await pipe.full(copy(input), { type, metatype: dto }).then(
          (value) => ({ value }),
          (error: unknown) => {
            if (!(error instanceof ValidationFailedError)) throw error;
            return { error };
          },
        );
        const verdict = { input, fast: fast !== undefined, full: 'value' in full };
        expect(verdict).toEqual({ ...verdict, fast: verdict.full });
        if (fast === undefined) {
          refused += 1;
          continue;
        }
        accepted += 1;
        expect(Object.getPrototypeOf(fast)).toBe(dto.prototype);
        expect({ input, value: fast }).toStrictEqual({
          input,
          value: (full as { value: object }).value,
        });
      }
      // Both verdicts occur, so neither half of the comparison is vacuous.
      expect(accepted).toBeGreaterThan(20);
      expect(refused).toBeGreaterThan(20);
    },
  );

  it('an input it does not run (a nested object) is left to the full pipe', () => {
    const [dto] = [...dtos.keys()];
    const acceptor = compileAcceptor(dto, {});
    const [property] = Object.keys(rulesOf(dto));
    expect(acceptor!({ [property]: { nested: true } })).toBeUndefined();
  });
});
