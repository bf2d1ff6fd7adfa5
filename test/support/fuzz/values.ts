import fc from 'fast-check';
import type { Contract, Schema } from './contract';
import { deeplyNested, raw } from './json-text';

/** A reference to an existing resource, resolved when the request is sent (ids change per run). */
export class PoolRef {
  constructor(
    readonly pool: 'task' | 'worker',
    readonly index: number,
  ) {}

  toString(): string {
    return `<${this.pool} #${this.index}>`;
  }
}

export const SQL_PAYLOADS = [
  "' OR 1=1 --",
  "'; DROP TABLE tasks; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5) --',
  "' UNION SELECT id, created_by FROM tasks --",
  '%',
  '_',
  '%_%',
  '\\',
  "\\'",
  '$1',
  '?',
  ':title',
];

export const HTML_PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  '${7*7}',
  '&lt;b&gt;',
];

export const UNICODE_TEXT = [
  'emoji 😀🎉',
  '👩‍👩‍👧‍👦 family',
  '\u202eRTL override',
  'مرحبا بالعالم',
  'שלום עולם',
  'e\u0301\u0302\u0303\u0304\u0305 combining',
  'Z̴̡̢̛̖̗a̷l̶g̵o̸',
  '\ufeffbyte order mark',
  'zero\u200bwidth',
  'line\u2028separator',
  'ℌ𝔢𝔩𝔩𝔬 𝕨𝕠𝕣𝕝𝕕',
  'İstanbul ß ǅ',
  '\uffff non-character',
  'tab\there',
  'new\nline',
];

/** Text that is hostile to something other than the validator: SQL, HTML, exotic Unicode. */
export const NASTY_VALID_TEXT = [...SQL_PAYLOADS, ...HTML_PAYLOADS, ...UNICODE_TEXT];

/** Strings that no text field should take, or that test its edges. */
export const NASTY_STRINGS = [
  ...NASTY_VALID_TEXT,
  '',
  ' ',
  '   \t\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'lone \ud83d high',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '50',
  '0x10',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '2026-02-30T00:00:00Z',
  '9999-12-31T23:59:59-23:59',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
];

const clip = (text: string, min: number, max: number): string => {
  const points = [...text];
  const clipped = points.length > max ? points.slice(0, max) : points;
  while (clipped.length < min) clipped.push('x');
  return clipped.join('');
};

/** Text within documented bounds, mostly ordinary, sometimes SQL, HTML or exotic Unicode. */
export function textArb(min: number, max: number): fc.Arbitrary<string> {
  const atMax = fc.constantFrom('x', '😀', 'é', 'ש').map((c) => c.repeat(max));
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ._-]{0,30}[A-Za-z0-9]$/) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
      { weight: 2, arbitrary: fc.constantFrom(...NASTY_VALID_TEXT) },
      { weight: 1, arbitrary: atMax },
    )
    .map((s) => clip(s, min, max));
}

/** RFC 3339 timestamps with assorted offsets and precisions, as clients write them. */
export const dateTimeArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2099-12-31T00:00:00Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom(0, 60, -300, 330, 840, -720),
    fc.constantFrom('ms', 's', 'lower'),
  )
  .map(([date, offsetMinutes, style]) => {
    const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
    let text = shifted.toISOString().slice(0, style === 'ms' ? 23 : 19);
    if (offsetMinutes === 0) text += 'Z';
    else {
      const sign = offsetMinutes > 0 ? '+' : '-';
      const abs = Math.abs(offsetMinutes);
      text += `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    }
    return style === 'lower' ? text.replace('T', 't').replace('Z', 'z') : text;
  });

/** Integers within documented bounds, biased towards the small and the boundaries. */
export function intArb(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 20) }) },
    { weight: 2, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
  );
}

const MIN_INT32 = -2_147_483_648;
const MAX_INT32 = 2_147_483_647;

/** Field names whose values are ids of other resources: valid values often name real ones. */
const REFERENCES: Record<string, PoolRef['pool']> = {
  parent_id: 'task',
  task_id: 'task',
  assigned_to: 'worker',
  actor_id: 'worker',
};

export class ValueGenerators {
  constructor(private readonly contract: Contract) {}

  /**
   * A value the documented schema accepts. Numbers are integers (every number in this API is a
   * count or an id); strings are ordinary text, hostile-but-valid text (SQL, HTML, Unicode) or
   * text at the documented maximum.
   */
  valid(schema: Schema, name?: string): fc.Arbitrary<unknown> {
    const s = this.contract.resolve(schema);
    let arb: fc.Arbitrary<unknown>;
    const alternatives = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
    if (alternatives) {
      arb = fc.oneof(...alternatives.map((alternative) => this.valid(alternative, name)));
    } else if (Array.isArray(s.enum)) {
      arb = fc.constantFrom(...(s.enum as unknown[]).filter((v) => v !== null));
    } else if (s.type === 'string' && s.format === 'date-time') {
      arb = dateTimeArb;
    } else if (s.type === 'string') {
      arb = textArb(s.minLength ?? 0, s.maxLength ?? 300);
    } else if (s.type === 'number' || s.type === 'integer') {
      arb = intArb(s.minimum ?? MIN_INT32, s.maximum ?? MAX_INT32);
    } else if (s.type === 'boolean') {
      arb = fc.boolean();
    } else if (s.type === 'array') {
      const max = s.maxItems ?? 10;
      arb = fc.oneof(
        { weight: 5, arbitrary: fc.array(this.valid(s.items as Schema), { maxLength: 4 }) },
        {
          weight: 1,
          arbitrary: fc.array(this.valid(s.items as Schema), { minLength: max, maxLength: max }),
        },
      );
    } else if (s.type === 'object') {
      arb = this.validObject(s).map((entries) => Object.fromEntries(entries));
    } else {
      arb = fc.jsonValue({ maxDepth: 2 });
    }
    const pool = name ? REFERENCES[name] : undefined;
    if (pool) {
      arb = fc.oneof(
        { weight: 3, arbitrary: fc.nat().map((i) => new PoolRef(pool, i)) },
        { weight: 1, arbitrary: arb },
      );
    }
    return s.nullable === true ? fc.option(arb, { nil: null, freq: 6 }) : arb;
  }

  /** The entries of a valid object: every required property, and any of the others. */
  validObject(schema: Schema): fc.Arbitrary<[string, unknown][]> {
    const s = this.contract.resolve(schema);
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required ?? []) as string[]);
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, property] of Object.entries(properties)) {
      record[key] = this.valid(property, key);
    }
    return fc
      .record(record, { requiredKeys: [...required] })
      .map((value): [string, unknown][] => Object.entries(value));
  }

  /** Any JSON value a hostile client might put where a field goes. */
  readonly hostile: fc.Arbitrary<unknown> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom<unknown>(
        null,
        true,
        false,
        0,
        -1,
        1.5,
        1e308,
        -1e308,
        2 ** 31,
        2 ** 53 + 2,
        Number.MIN_VALUE,
        -2_147_483_649,
        [],
        {},
        [1, 'a', null],
        { a: 1 },
        { $gt: '' },
        raw('-0'),
        raw('1e400'),
        raw('-1e400'),
        raw('100.0'),
        raw('1E2'),
      ),
    },
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 1, arbitrary: hugeString() },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(100, 3_000, 20_000),
          fc.constantFrom<'array' | 'object'>('array', 'object'),
        )
        .map(([depth, kind]) => deeplyNested(depth, kind)),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.integer(),
        fc.double(),
        fc.bigInt().map((b) => raw(String(b))),
      ),
    },
  );
}

/** 10 kB to 1.2 MB of text: around the 1 MB body limit, and far over every field's maximum. */
export function hugeString(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(10_001, 100_000, 1_048_000, 1_048_600, 1_200_000),
      fc.constantFrom('x', '😀', 'é'),
    )
    .map(([length, unit]) => unit.repeat(Math.ceil(length / Buffer.byteLength(unit))));
}
