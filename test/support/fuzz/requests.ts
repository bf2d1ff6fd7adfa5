import fc from 'fast-check';
import type { Contract, Operation, Parameter, Schema } from './contract';
import { JsonEntries, Padded, deeplyNested, raw } from './json-text';
import { NASTY_STRINGS, PoolRef, ValueGenerators, hugeString, intArb, textArb } from './values';

/** Who calls: a regular user mostly, sometimes an admin or another user, rarely nobody. */
export type Caller = 'user' | 'admin' | 'other' | 'none' | 'garbage';

export interface FreshTask {
  status: 'pending' | 'in_progress' | 'review' | 'completed' | 'blocked';
  assignee: 'user' | 'other' | null;
  withChild: boolean;
}

export interface FreshWorker {
  id: string;
  type: 'human' | 'agent';
}

/** The path id: an existing resource, one made just before, any text, or raw bytes of URL. */
export type PathId =
  | { kind: 'pool'; ref: PoolRef }
  | { kind: 'fresh-task'; task: FreshTask }
  | { kind: 'fresh-worker'; worker: FreshWorker }
  /** Decoded text, percent-encoded when sent. */
  | { kind: 'text'; value: string }
  /** Sent exactly as written: broken escapes, `%00`. */
  | { kind: 'raw'; text: string };

export interface QueryPair {
  key: string;
  /** Absent: the key alone (`?limit`). */
  value?: string | number | PoolRef;
  /** Key and value are sent as written instead of percent-encoded. */
  raw?: boolean;
}

export type Body =
  | { kind: 'none' }
  /**
   * A JSON tree (with `RawJson` / `JsonEntries` / `PoolRef` leaves) sent as JSON text, as
   * `application/json` unless another content type is named (`null`: none at all).
   */
  | { kind: 'json'; value: unknown; contentType?: string | null }
  /** Bytes sent as they are, with whatever content type (or none). */
  | { kind: 'bytes'; text: string | number[]; contentType?: string };

export interface GeneratedRequest {
  caller: Caller;
  /** Which bad `Authorization` header a `garbage` caller sends (see the runner's list). */
  badToken: number;
  id?: PathId;
  query: QueryPair[];
  body: Body;
  /** What the generator was after, for the statistics: `valid` or the hostile parts. */
  intent: string[];
}

const TASK_STATUSES = ['pending', 'in_progress', 'review', 'completed', 'blocked'] as const;

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
];

const WRONG_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/jsonx',
  'json',
  '*/*',
];

const MALFORMED_JSON = [
  '{',
  '{"title": }',
  "{'title': 'x'}",
  '{"title":"x",}',
  '{"title":"x"}garbage',
  '{"title":"x"}{"title":"y"}',
  'NaN',
  'undefined',
  '{"title":"\\u00"}',
  '{"title":"\\x41"}',
  '\u0000',
  '{"title":"x"\u0000}',
  '{"__proto__":{"is_admin":true},"title":"x"}',
  '{"constructor":{"prototype":{"is_admin":true}},"title":"x"}',
  '{"a":{"__proto__":{"polluted":1}}}',
];

const NON_OBJECT_JSON = ['null', '[]', '1', '-0', '"x"', 'true', '[{"title":"x"}]', '1e400'];

/** Property names a whitelist must refuse: unknown, server-owned, or Object.prototype's own. */
const UNKNOWN_KEYS = [
  'is_admin',
  'role',
  'id',
  'created_by',
  'created_at',
  'updated_at',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'constructor',
  '__defineGetter__',
  '$where',
  '',
  'title ',
  'TITLE',
  'a'.repeat(300),
];

/** Path ids no route should take for a task (and two odd spellings of valid ones). */
const HOSTILE_TASK_IDS = [
  '01',
  '0000000001',
  '-1',
  '0',
  '1e9',
  'abc',
  '99999999999999999999',
  '2147483648',
  '1.5',
  '+1',
  ' 1',
  '1 ',
  '0x10',
  '٣',
  '..',
  '.',
  'null',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '😀',
  '1/../2',
  '1'.repeat(600),
];

/** Sent as written: broken escapes (not UTF-8, incomplete, overlong) and encoded NUL. */
const RAW_PATH_IDS = [
  '%00',
  '1%00',
  '%zz',
  '%',
  '%E0%A4%A',
  '%C0%AE',
  '%2e%2e',
  '%2F',
  '%ff',
  '%u0031',
];

/** Worker ids (any text up to 255 characters) that should not be accepted or that test edges. */
const HOSTILE_WORKER_IDS = [
  '\u0001ctrl',
  'tab\there',
  'x'.repeat(256),
  '😀'.repeat(256),
  ' ',
  'a'.repeat(2000),
];

/**
 * Percentages of callers, drawn without fast-check's bias towards the first choice (which would
 * all but starve the callers without a token).
 */
const callerArb = (adminHeavy: boolean): fc.Arbitrary<Caller> => {
  const table: [Caller, number][] = [
    ['user', adminHeavy ? 35 : 62],
    ['admin', adminHeavy ? 45 : 18],
    ['other', 8],
    ['none', 7],
    ['garbage', 5],
  ];
  return fc.noBias(fc.integer({ min: 0, max: 99 })).map((n) => {
    for (const [caller, share] of table) {
      if (n < share) return caller;
      n -= share;
    }
    return 'user';
  });
};

/**
 * Builds, for one documented operation, the arbitrary of its requests: valid ones drawn from
 * the documented parameter and body schemas, and hostile ones made by breaking a valid request
 * in one to three places (a field's type, a missing or extra field, a path id, a query value,
 * the content type, the JSON itself, the size).
 */
export class RequestGenerators {
  private readonly values: ValueGenerators;

  constructor(private readonly contract: Contract) {
    this.values = new ValueGenerators(contract);
  }

  forOperation(op: Operation): fc.Arbitrary<GeneratedRequest> {
    const pathParam = op.parameters.find((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    const adminHeavy = /admins only/i.test(op.summary);
    return fc
      .record({
        caller: callerArb(adminHeavy),
        badToken: fc.nat(),
        id: pathParam ? this.pathId(pathParam) : fc.constant(undefined),
        query: this.query(queryParams),
        // A route without a documented body mostly gets none; a stray one tests the parser
        // (which runs before the route, for every method but GET).
        body: op.body
          ? this.body(op.body.schema)
          : fc.oneof(
              {
                weight: op.method === 'GET' ? 12 : 4,
                arbitrary: fc.constant({ body: { kind: 'none' }, intent: [] }),
              },
              { weight: 1, arbitrary: this.strayBody() },
            ),
      })
      .map(({ caller, badToken, id, query, body }) => {
        const intent = [...(id?.intent ?? []), ...query.intent, ...body.intent];
        if (caller === 'none' || caller === 'garbage') intent.push(`caller:${caller}`);
        return {
          caller,
          badToken,
          id: id?.value,
          query: query.pairs,
          body: body.body,
          intent: intent.length ? intent : ['valid'],
        };
      });
  }

  private pathId(param: Parameter): fc.Arbitrary<{ value: PathId; intent: string[] }> {
    const ok = (value: PathId) => ({ value, intent: [] as string[] });
    const bad = (value: PathId) => ({ value, intent: ['path'] });
    const raws = fc.constantFrom(...RAW_PATH_IDS).map((text) => bad({ kind: 'raw', text }));
    if (this.contract.resolve(param.schema).type === 'string') {
      const workerId = textArb(1, 255);
      // Registration must refuse what the path refuses, or a worker becomes unreachable.
      const withControl = fc
        .tuple(textArb(1, 20), fc.constantFrom('\u0001', '\t', '\n', '\u001f', '\u007f', '\u0085'))
        .map(([text, control]) => `${text}${control}${text}`);
      return fc.oneof(
        {
          weight: 5,
          arbitrary: fc.nat().map((i) => ok({ kind: 'pool', ref: new PoolRef('worker', i) })),
        },
        {
          weight: 3,
          arbitrary: fc
            .record({
              id: fc.oneof(
                { weight: 5, arbitrary: workerId },
                { weight: 1, arbitrary: withControl },
              ),
              type: fc.constantFrom('human' as const, 'agent' as const),
            })
            .map((worker) => ok({ kind: 'fresh-worker', worker })),
        },
        { weight: 2, arbitrary: workerId.map((value) => ok({ kind: 'text', value })) },
        {
          weight: 2,
          arbitrary: fc
            .constantFrom(...HOSTILE_WORKER_IDS, ...NASTY_STRINGS.filter((s) => s !== ''))
            .map((value) => bad({ kind: 'text', value })),
        },
        { weight: 1, arbitrary: raws },
      );
    }
    return fc.oneof(
      {
        weight: 5,
        arbitrary: fc.nat().map((i) => ok({ kind: 'pool', ref: new PoolRef('task', i) })),
      },
      {
        weight: 3,
        arbitrary: fc
          .record({
            status: fc.constantFrom(...TASK_STATUSES),
            assignee: fc.constantFrom<FreshTask['assignee']>('user', 'user', 'other', null),
            withChild: fc.boolean(),
          })
          .map((task) => ok({ kind: 'fresh-task', task })),
      },
      {
        weight: 2,
        arbitrary: intArb(1, 2_147_483_647).map((n) => ok({ kind: 'text', value: String(n) })),
      },
      {
        weight: 3,
        arbitrary: fc
          .constantFrom(...HOSTILE_TASK_IDS)
          .map((value) => bad({ kind: 'text', value })),
      },
      { weight: 1, arbitrary: raws },
    );
  }

  private queryValue(param: Parameter): fc.Arbitrary<string | number | PoolRef> {
    return this.values.valid(param.schema, param.name).map((v) => {
      if (v instanceof PoolRef || typeof v === 'number') return v;
      return String(v);
    });
  }

  private query(params: Parameter[]): fc.Arbitrary<{ pairs: QueryPair[]; intent: string[] }> {
    const junk = fc.array(
      fc.record({
        key: fc.constantFrom('foo', 'page', 'x', 'toString', '__proto__', 'constructor', 'limit[]'),
        value: fc.constantFrom('1', '', ...NASTY_STRINGS.slice(0, 10)),
      }),
      { minLength: 1, maxLength: 2 },
    );
    if (params.length === 0) {
      return fc.oneof(
        {
          weight: 10,
          arbitrary: fc.constant({ pairs: [] as QueryPair[], intent: [] as string[] }),
        },
        { weight: 1, arbitrary: junk.map((pairs) => ({ pairs, intent: ['query:stray'] })) },
      );
    }
    const record: Record<string, fc.Arbitrary<string | number | PoolRef>> = {};
    for (const p of params) record[p.name] = this.queryValue(p);
    const valid = fc
      .record(record, { requiredKeys: params.filter((p) => p.required).map((p) => p.name) })
      .map((values): QueryPair[] => Object.entries(values).map(([key, value]) => ({ key, value })));

    const names = params.map((p) => p.name);
    const hostileValue = fc.oneof(
      fc.constantFrom(
        '',
        'abc',
        '-1',
        '0',
        '1.5',
        '1e3',
        '0x10',
        '+5',
        ' 5',
        '99999999999999999999',
        '2147483648',
        '-0',
        'NaN',
        'Infinity',
        'true',
        'null',
        '[]',
        'pending,review',
        'PENDING',
        ' id',
        '--id',
      ),
      fc.constantFrom(...NASTY_STRINGS),
      fc.integer({ min: 201, max: 1500 }).map((n) => 'q'.repeat(n)),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    type Mutation = (pairs: QueryPair[]) => QueryPair[];
    const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
      fc
        .tuple(fc.constantFrom(...names), hostileValue)
        .map(([key, value]): [string, Mutation] => [
          'query:value',
          (pairs) => [...pairs.filter((p) => p.key !== key), { key, value }],
        ]),
      fc
        .tuple(fc.constantFrom(...names), hostileValue)
        .map(([key, value]): [string, Mutation] => [
          'query:duplicate',
          (pairs) => [
            ...pairs,
            { key, value: pairs.find((p) => p.key === key)?.value ?? 'a' },
            { key, value },
          ],
        ]),
      junk.map((extra): [string, Mutation] => ['query:unknown', (pairs) => [...pairs, ...extra]]),
      fc
        .constantFrom(...names)
        .map((key): [string, Mutation] => ['query:bare-key', (pairs) => [...pairs, { key }]]),
      fc
        .tuple(
          fc.constantFrom(...names),
          fc.constantFrom('%zz', '%', '%00', '%E0%A4%A', 'a+b', '%2B1', 'a%26b%3Dc'),
        )
        .map(([key, value]): [string, Mutation] => [
          'query:raw',
          (pairs) => [...pairs.filter((p) => p.key !== key), { key, value, raw: true }],
        ]),
    );
    const hostile = fc
      .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([pairs, mutations]) => ({
        pairs: mutations.reduce<QueryPair[]>((acc, [, apply]) => apply(acc), pairs),
        intent: [...new Set(mutations.map(([name]) => name))],
      }));
    return fc.oneof(
      { weight: 3, arbitrary: valid.map((pairs) => ({ pairs, intent: [] as string[] })) },
      { weight: 2, arbitrary: hostile },
    );
  }

  /** A body for an operation that documents one. */
  private body(schema: Schema): fc.Arbitrary<{ body: Body; intent: string[] }> {
    const resolved = this.contract.resolve(schema);
    const names = Object.keys((resolved.properties ?? {}) as Record<string, Schema>);
    const validEntries = this.values.validObject(schema);
    const json = (value: unknown, contentType = 'application/json'): Body => ({
      kind: 'json',
      value,
      contentType,
    });

    type Mutation = (entries: [string, unknown][]) => [string, unknown][];
    const mutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom(...names), this.values.hostile)
          .map(([key, value]): [string, Mutation] => [
            'body:field',
            (entries) => [...entries.filter(([k]) => k !== key), [key, value]],
          ]),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(...names)
          .map((key): [string, Mutation] => [
            'body:missing',
            (entries) => entries.filter(([k]) => k !== key),
          ]),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom(...UNKNOWN_KEYS.filter((k) => !names.includes(k))),
            fc.jsonValue({ maxDepth: 1 }),
          )
          .map(([key, value]): [string, Mutation] => [
            'body:unknown',
            (entries) => [...entries, [key, value]],
          ]),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...names), this.values.hostile)
          .map(([key, value]): [string, Mutation] => [
            'body:duplicate-key',
            (entries) => [...entries, [key, value]],
          ]),
      },
    );
    const mutated = fc
      .tuple(
        validEntries,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...JSON_TYPES),
      )
      .map(([entries, mutations, type]) => ({
        body: json(
          new JsonEntries(
            mutations.reduce<[string, unknown][]>((acc, [, apply]) => apply(acc), entries),
          ),
          type,
        ),
        intent: [...new Set(mutations.map(([name]) => name))],
      }));
    const valid = fc.tuple(validEntries, fc.constantFrom(...JSON_TYPES)).map(([entries, type]) => ({
      body: json(new JsonEntries(entries), type),
      intent: [] as string[],
    }));

    return fc.oneof(
      { weight: 10, arbitrary: valid },
      { weight: 7, arbitrary: mutated },
      { weight: 3, arbitrary: this.strayBody(validEntries) },
    );
  }

  /**
   * Bodies that are wrong as a whole: not an object, not JSON, not declared as JSON, over 1 MB,
   * nested too deep; sent to every route that is not a GET (and rarely to GETs too).
   */
  private strayBody(
    entries: fc.Arbitrary<[string, unknown][]> = fc.constant([['title', 'x']]),
  ): fc.Arbitrary<{ body: Body; intent: string[] }> {
    const tag = (intent: string) => (body: Body) => ({ body, intent: [intent] });
    return fc.oneof(
      fc
        .constantFrom(...NON_OBJECT_JSON)
        .map((text) =>
          tag('body:not-object')({ kind: 'bytes', text, contentType: 'application/json' }),
        ),
      fc
        .constantFrom(...MALFORMED_JSON)
        .map((text) =>
          tag('body:malformed')({ kind: 'bytes', text, contentType: 'application/json' }),
        ),
      fc
        .tuple(entries, fc.option(fc.constantFrom(...WRONG_TYPES), { nil: null }))
        .map(([e, contentType]) =>
          tag('body:content-type')({ kind: 'json', value: new JsonEntries(e), contentType }),
        ),
      fc
        .constantFrom<number[]>(
          [0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d],
          [0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d],
          [0xef, 0xbb, 0xbf, 0x7b, 0x7d],
        )
        .map((bytes) =>
          tag('body:bytes')({ kind: 'bytes', text: bytes, contentType: 'application/json' }),
        ),
      fc
        .tuple(entries, fc.constantFrom(1_048_576, 1_048_577, 1_100_000))
        .map(([e, size]) =>
          tag('body:size')({ kind: 'json', value: new Padded(new JsonEntries(e), size) }),
        ),
      fc
        .tuple(
          entries,
          fc.constantFrom(1_000, 10_000, 100_000),
          fc.constantFrom<'array' | 'object'>('array', 'object'),
        )
        .map(([e, depth, kind]) =>
          tag('body:deep')({
            kind: 'json',
            value: new JsonEntries([...e, [e[0]?.[0] ?? 'title', deeplyNested(depth, kind)]]),
          }),
        ),
      fc.tuple(entries, hugeString()).map(([e, huge]) =>
        tag('body:huge-field')({
          kind: 'json',
          value: new JsonEntries([...e.slice(1), [e[0]?.[0] ?? 'title', huge]]),
        }),
      ),
      // Wide rather than deep: thousands of unknown keys, or one field holding a huge array.
      fc.tuple(entries, fc.constantFrom(2_000, 80_000), fc.boolean()).map(([e, width, keys]) =>
        tag('body:wide')({
          kind: 'json',
          value: keys
            ? new JsonEntries([
                ...e,
                ...Array.from({ length: width }, (_, i): [string, unknown] => [`k${i}`, 0]),
              ])
            : new JsonEntries([
                ...e,
                [e[0]?.[0] ?? 'title', raw(`[${'"a",'.repeat(width * 2)}"a"]`)],
              ]),
        }),
      ),
    );
  }
}
