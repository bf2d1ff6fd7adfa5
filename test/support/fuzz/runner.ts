import fc from 'fast-check';
import { SentRequest, Verdict, classify, decodeQueryComponent } from './classify';
import type { Contract, Operation } from './contract';
import { HttpClient, WireRequest, WireResponse } from './http-client';
import { toJsonText } from './json-text';
import { judge } from './oracle';
import type {
  Caller,
  FreshTask,
  FreshWorker,
  GeneratedRequest,
  PathId,
  QueryPair,
} from './requests';
import { PoolRef } from './values';

/** nginx's default `large_client_header_buffers`: the longest request line the gateway passes. */
export const MAX_URL_LENGTH = 8 * 1024;

export interface Identity {
  id: string;
  token: string;
}

export interface Identities {
  user: Identity;
  admin: Identity;
  other: Identity;
}

/** Worker ids that are awkward in a URL: every one of them must be reachable at /api/workers/{id}. */
export const AWKWARD_WORKER_IDS = [
  'fuzz-agent',
  'émile 😀',
  '😀'.repeat(255),
  'x'.repeat(255),
  'a b',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  'a/b',
  '..',
  '%',
  '%2F',
  '?x=1#y',
  '\u202eabc',
  'e\u0301\u0302',
  '+plus+',
];

export interface Stats {
  requests: number;
  setupRequests: number;
  byStatus: Map<number, number>;
  byOperation: Map<string, number>;
  byCaller: Map<Caller, number>;
  /** Requests the document accepts (whoever sends them) and requests that break it. */
  valid: number;
  hostile: number;
  slowest: { ms: number; what: string };
  /** Valid-by-the-document requests the API refused, grouped by operation and reason. */
  stricter: Map<string, { count: number; example: string }>;
}

export const newStats = (): Stats => ({
  requests: 0,
  setupRequests: 0,
  byStatus: new Map(),
  byOperation: new Map(),
  byCaller: new Map(),
  valid: 0,
  hostile: 0,
  slowest: { ms: 0, what: '' },
  stricter: new Map(),
});

const bump = <K>(map: Map<K, number>, key: K): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** One fuzz request and its answer, as printed when a run fails. */
export interface Exchange {
  request: WireRequest;
  response?: WireResponse;
  verdict?: Verdict;
}

export class FuzzFailure extends Error {}

/**
 * Sends generated requests to the running app and judges the answers. Resources that requests
 * refer to (the pool) are made through the API itself, as a client would.
 */
export class FuzzRunner {
  tasks: number[] = [];
  workers: string[] = [];
  readonly stats = newStats();

  constructor(
    private readonly contract: Contract,
    private readonly http: HttpClient,
    private readonly identities: Identities,
  ) {}

  /** Tasks in every state (and a parent with a child), and the awkward workers, again. */
  async resetPool(): Promise<void> {
    this.tasks = [];
    for (const status of ['pending', 'in_progress', 'review', 'completed', 'blocked'] as const) {
      this.tasks.push(await this.freshTask({ status, assignee: 'user', withChild: false }));
    }
    this.tasks.push(
      await this.freshTask({ status: 'in_progress', assignee: 'other', withChild: false }),
    );
    this.tasks.push(await this.freshTask({ status: 'pending', assignee: null, withChild: true }));
    this.workers = [this.identities.user.id, this.identities.other.id];
    await this.setup(
      'POST',
      '/api/workers',
      this.identities.user,
      { name: 'Fuzz user' },
      [201, 409],
    );
    for (const id of AWKWARD_WORKER_IDS) {
      this.workers.push(
        await this.freshWorker({ id, type: id === 'fuzz-agent' ? 'agent' : 'human' }),
      );
    }
  }

  async freshTask(spec: FreshTask): Promise<number> {
    const assignee =
      spec.assignee === 'user'
        ? this.identities.user.id
        : spec.assignee === 'other'
          ? this.identities.other.id
          : null;
    // Created pending (or blocked) and moved on by its holder, as any client has to.
    const { body: task } = (await this.setup(
      'POST',
      '/api/tasks',
      this.identities.user,
      {
        title: `fuzz ${spec.status}`,
        status: spec.status === 'blocked' ? 'blocked' : 'pending',
        assigned_to: assignee,
      },
      [201],
    )) as { body: { id: number } };
    const holder = spec.assignee === 'other' ? this.identities.other : this.identities.user;
    const moves = {
      in_progress: ['start'],
      review: ['start', 'review'],
      completed: ['start', 'complete'],
    };
    for (const move of moves[spec.status as keyof typeof moves] ?? []) {
      await this.setup('POST', `/api/tasks/${task.id}/${move}`, holder, undefined, [200]);
    }
    if (spec.withChild) {
      await this.setup(
        'POST',
        '/api/tasks',
        this.identities.user,
        { title: 'child', parent_id: task.id },
        [201],
      );
    }
    return task.id;
  }

  /**
   * Registers a worker (an admin may name any id). Whatever registration accepts must then be
   * reachable at `/api/workers/{id}`: a worker nobody can fetch, update or delete is a bug.
   */
  async freshWorker(spec: FreshWorker): Promise<string> {
    const { status, body } = await this.setup(
      'POST',
      '/api/workers',
      this.identities.admin,
      { id: spec.id, name: 'Fuzz worker', type: spec.type },
      [201, 409, 422],
    );
    if (status === 201) {
      const id = (body as { id: string }).id;
      if (id !== wellFormed(spec.id)) {
        throw new FuzzFailure(`registered ${JSON.stringify(spec.id)} as ${JSON.stringify(id)}`);
      }
      await this.setup('GET', `/api/workers/${encode(id)}`, this.identities.user, undefined, [200]);
    }
    return spec.id;
  }

  /**
   * Sends one generated request and throws a `FuzzFailure` describing the exchange when the
   * answer breaks the contract.
   */
  async run(op: Operation, generated: GeneratedRequest): Promise<void> {
    const { wire, sent } = await this.materialize(op, generated);
    // Longer request lines never reach the app: the gateway (nginx, 8 kB) or Node's HTTP parser
    // (16 kB of headers, a bare 431) refuses them first. Such a run is discarded, not judged.
    fc.pre(wire.url.length <= MAX_URL_LENGTH);
    const verdict = classify(this.contract, op, sent);
    let response: WireResponse;
    try {
      response = await this.http.send(wire);
    } catch (error) {
      throw new FuzzFailure(describe({ request: wire, verdict }, [`no answer: ${String(error)}`]));
    }
    this.count(op, generated, verdict, wire, response);
    const judgement = judge(this.contract, op, verdict, sent.authenticated, response);
    if (judgement.stricterThanDocumented) {
      const key = `${op.id}: ${response.status} ${judgement.stricterThanDocumented.slice(0, 160)}`;
      const entry = this.stats.stricter.get(key);
      if (entry) entry.count += 1;
      else this.stats.stricter.set(key, { count: 1, example: summariseRequest(wire) });
    }
    if (judgement.failures.length) {
      throw new FuzzFailure(describe({ request: wire, response, verdict }, judgement.failures));
    }
  }

  private count(
    op: Operation,
    generated: GeneratedRequest,
    verdict: Verdict,
    wire: WireRequest,
    response: WireResponse,
  ): void {
    const s = this.stats;
    s.requests += 1;
    bump(s.byStatus, response.status);
    bump(s.byOperation, op.id);
    bump(s.byCaller, generated.caller);
    // Judged by the document, not by what the generator meant: some hostile values are valid.
    if (verdict.violations.length === 0) s.valid += 1;
    else s.hostile += 1;
    if (response.ms > s.slowest.ms) {
      s.slowest = { ms: response.ms, what: `${summariseRequest(wire)} -> ${response.status}` };
    }
  }

  /** `Authorization` headers that must all be a 401: malformed, forged, tampered, wrong scheme. */
  private badAuthorizations(): string[] {
    const [header, payload, signature] = this.identities.user.token.split('.');
    const b64 = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const admin = b64({
      ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
      role: 'admin',
    });
    return [
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      'Bearer a.b.c',
      `Bearer ${'x'.repeat(4000)}`,
      `Bearer ${b64({ alg: 'none' })}.${payload}.`,
      `Bearer ${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}.${signature}`,
      `Bearer ${header}.${admin}.${signature}`,
      `Bearer ${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      `Bearer ${b64({ alg: 'EdDSA', kid: '../../etc/passwd' })}.${payload}.${signature}`,
      `Bearer ${b64({ alg: 'EdDSA', jku: 'http://127.0.0.1:1/jwks' })}.${payload}.${signature}`,
      `Bearer ${this.identities.user.token} extra`,
    ];
  }

  private authorization(caller: Caller, badToken: number): string | undefined {
    if (caller === 'none') return undefined;
    if (caller === 'garbage') {
      const bad = this.badAuthorizations();
      return bad[badToken % bad.length];
    }
    return `Bearer ${this.identities[caller].token}`;
  }

  private poolEntry(ref: PoolRef): string {
    const pool = ref.pool === 'task' ? this.tasks : this.workers;
    return String(pool[ref.index % pool.length]);
  }

  /** A reference to the pool becomes the id it names (a number for a task). */
  private resolveRef(value: unknown): unknown {
    if (!(value instanceof PoolRef)) return value;
    return value.pool === 'task' ? Number(this.poolEntry(value)) : this.poolEntry(value);
  }

  private async pathText(id: PathId): Promise<{ encoded: string; decoded: string | null }> {
    switch (id.kind) {
      case 'pool': {
        const value = wellFormed(String(this.resolveRef(id.ref)));
        return { encoded: encode(value), decoded: value };
      }
      case 'fresh-task': {
        const value = String(await this.freshTask(id.task));
        return { encoded: value, decoded: value };
      }
      case 'fresh-worker': {
        const value = wellFormed(await this.freshWorker(id.worker));
        return { encoded: encode(value), decoded: value };
      }
      case 'text':
        return { encoded: encode(id.value), decoded: wellFormed(id.value) };
      case 'raw': {
        let decoded: string | null;
        try {
          decoded = decodeURIComponent(id.text);
        } catch {
          decoded = null;
        }
        return { encoded: id.text, decoded };
      }
    }
  }

  private async materialize(
    op: Operation,
    generated: GeneratedRequest,
  ): Promise<{ wire: WireRequest; sent: SentRequest }> {
    let path = op.path;
    let pathId: string | null | undefined;
    if (generated.id) {
      const { encoded, decoded } = await this.pathText(generated.id);
      path = path.replace(/\{[^}]+\}/, encoded);
      pathId = decoded;
    }
    const parts = generated.query.map((pair: QueryPair) => {
      const value =
        pair.value instanceof PoolRef ? this.poolEntry(pair.value) : pair.value?.toString();
      if (pair.raw) return value === undefined ? pair.key : `${pair.key}=${value}`;
      const key = encode(pair.key);
      return value === undefined ? key : `${key}=${encode(value)}`;
    });
    const url = parts.length ? `${path}?${parts.join('&')}` : path;
    const query = parts.map((part): [string, string] => {
      const eq = part.indexOf('=');
      return eq === -1
        ? [decodeQueryComponent(part), '']
        : [decodeQueryComponent(part.slice(0, eq)), decodeQueryComponent(part.slice(eq + 1))];
    });

    const headers: Record<string, string> = {};
    const authorization = this.authorization(generated.caller, generated.badToken);
    if (authorization) headers.authorization = authorization;
    let body: Buffer | undefined;
    let contentType: string | undefined;
    if (generated.body.kind === 'json') {
      body = Buffer.from(
        toJsonText(generated.body.value, (v) => this.resolveRef(v)),
        'utf8',
      );
      const named = generated.body.contentType;
      contentType = named === undefined ? 'application/json' : (named ?? undefined);
    } else if (generated.body.kind === 'bytes') {
      const { text } = generated.body;
      body = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
      contentType = generated.body.contentType;
    }
    if (contentType !== undefined) headers['content-type'] = contentType;
    return {
      wire: { method: op.method, url, headers, body },
      sent: {
        method: op.method,
        pathId,
        query,
        body,
        contentType,
        authenticated: generated.caller !== 'none' && generated.caller !== 'garbage',
      },
    };
  }

  private async setup(
    method: string,
    url: string,
    who: Identity,
    body: object | undefined,
    expected: number[],
  ): Promise<{ status: number; body: unknown }> {
    const request: WireRequest = {
      method,
      url,
      headers: { authorization: `Bearer ${who.token}` },
    };
    if (body !== undefined) {
      request.headers['content-type'] = 'application/json';
      request.body = Buffer.from(JSON.stringify(body));
    }
    const response = await this.http.send(request);
    this.stats.setupRequests += 1;
    if (!expected.includes(response.status)) {
      throw new FuzzFailure(
        describe({ request, response }, [
          `setup request answered ${response.status}, expected ${expected.join('/')}`,
        ]),
      );
    }
    const text = response.body.toString('utf8');
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
}

/** What a URL can carry: text as UTF-8 would encode it (a lone surrogate becomes U+FFFD). */
const wellFormed = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');
const encode = (text: string): string => encodeURIComponent(wellFormed(text));

const clipText = (text: string, max = 600): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} characters in all)` : text;

function summariseRequest(request: WireRequest): string {
  const body = request.body ? ` ${clipText(request.body.toString('utf8'), 120)}` : '';
  return `${request.method} ${clipText(request.url, 160)}${body}`;
}

/** The exchange as a reader needs it to reproduce by hand (the token itself is elided). */
export function describe(exchange: Exchange, failures: string[]): string {
  const { request, response, verdict } = exchange;
  const headers = Object.entries(request.headers)
    .map(
      ([k, v]) => `  ${k}: ${k === 'authorization' ? v.replace(/^(Bearer \S{12})\S+/, '$1…') : v}`,
    )
    .join('\n');
  const lines = [
    failures.map((f) => `✗ ${f}`).join('\n'),
    '',
    `request: ${request.method} ${clipText(request.url, 400)}`,
    headers,
    request.body
      ? `  body (${request.body.length} bytes): ${clipText(request.body.toString('utf8'))}`
      : '  (no body)',
    verdict
      ? `  by the document: ${verdict.violations.length ? verdict.violations.join('; ') : 'valid'}`
      : '',
  ];
  if (response) {
    lines.push(
      `response: ${response.status} in ${response.ms.toFixed(0)} ms`,
      `  content-type: ${String(response.headers['content-type'] ?? '')}`,
      `  body: ${clipText(response.body.toString('utf8'))}`,
    );
  }
  return lines.filter((l) => l !== '').join('\n');
}
