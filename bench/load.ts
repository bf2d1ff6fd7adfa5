import autocannon from 'autocannon';
import {
  hrtimeUs,
  LIST_PAGES,
  LoadMessage,
  LoadSpec,
  Paging,
  RoundResult,
  WorkloadId,
} from './protocol';
import { prng } from './prng';

/**
 * The load generator: a separate process (forked by run.ts, one per workload and target), so
 * that the client's own CPU use is not mixed into the orchestrator's. It receives a LoadSpec
 * over IPC, runs autocannon for the warm-up (if any), then again for one measured round, and
 * answers with a RoundResult: counts and every response's exact latency (sub-ms; autocannon's
 * own histogram rounds to whole milliseconds), which run.ts sums up over the rounds.
 */

const PRIORITIES = ['low', 'medium', 'high', 'critical'];

interface Built {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

class RequestSource {
  private readonly random: () => number;
  private readonly users: string[];
  private next = 0;
  private created = 0;
  exhausted = false;

  constructor(private readonly spec: LoadSpec) {
    this.random = prng(spec.seed);
    this.users = Object.keys(spec.tokens);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private auth(user = this.pick(this.users)): Record<string, string> {
    return { authorization: `Bearer ${this.spec.tokens[user]}` };
  }

  get idsUsed(): number {
    return this.next;
  }

  build(workload: WorkloadId): Built {
    switch (workload) {
      case 'get': {
        const id = 1 + Math.floor(this.random() * this.spec.maxTaskId);
        return { method: 'GET', path: `/api/tasks/${id}`, headers: this.auth() };
      }
      case 'list': {
        const project = encodeURIComponent(this.pick(this.spec.projects));
        return {
          method: 'GET',
          path: `/api/tasks?project=${project}&status=in_progress&sort=-updated_at&limit=50`,
          headers: this.auth(),
        };
      }
      case 'create': {
        this.created += 1;
        const body = JSON.stringify({
          title: `Bench task ${this.spec.seed}-${this.created}`,
          project_slug: this.pick(this.spec.projects),
          priority: this.pick(PRIORITIES),
        });
        return {
          method: 'POST',
          path: '/api/tasks',
          headers: { ...this.auth(), 'content-type': 'application/json' },
          body,
        };
      }
      case 'list-all':
        return { method: 'GET', path: '/api/tasks?limit=50', headers: this.auth() };
      case 'list-pending':
        return { method: 'GET', path: '/api/tasks?status=pending&limit=50', headers: this.auth() };
      case 'list-pages':
        // One chain of pages per connection: see `pageChain`.
        return { method: 'GET', path: FIRST_PAGE, headers: this.auth() };
      case 'analytics': {
        const groupBy = this.random() < 0.5 ? 'actor_type' : 'worker';
        return {
          method: 'GET',
          path: `/api/analytics/summary?group_by=${groupBy}`,
          headers: this.auth(),
        };
      }
      case 'progress':
      case 'writes': {
        const [id, assignee] = this.pick(this.spec.inProgress);
        const percent = Math.floor(this.random() * 101);
        return {
          method: 'POST',
          path: `/api/tasks/${id}/progress?percent=${percent}`,
          headers: this.auth(assignee),
        };
      }
      case 'claim':
        // Any bench user; claim-next picks the task (never a 409: SKIP LOCKED).
        return { method: 'POST', path: '/api/tasks/claim-next', headers: this.auth() };
      case 'start': {
        // Each id once. If they run out, the run is stopped (see below); the few requests built
        // meanwhile reuse the last id and are honestly counted as the 409s they get.
        const ids = this.spec.pending;
        if (this.next >= ids.length) this.exhausted = true;
        const id = ids[Math.min(this.next, ids.length - 1)];
        this.next += 1;
        return { method: 'POST', path: `/api/tasks/${id}/start`, headers: this.auth() };
      }
    }
  }
}

const FIRST_PAGE = '/api/tasks?limit=50';

/** The target of `Link: <…>; rel="next"` (absolute or relative), as a path and query. */
function nextLink(headers: Record<string, string | string[]>, baseUrl: string): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'link') continue;
    for (const part of [value]
      .flat()
      .join(',')
      .split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (match && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(match[2])) {
        const url = new URL(match[1], baseUrl);
        return `${url.pathname}${url.search}`;
      }
    }
  }
  return undefined;
}

/**
 * list-pages: LIST_PAGES requests, which autocannon sends in turn on each connection with one
 * context, cleared when it starts over: the first page, then the page its `Link` rel=next names,
 * or, when the answer has none (offset pagination), the next offset.
 */
function pageChain(
  source: RequestSource,
  baseUrl: string,
  paging: Paging,
): autocannon.RequestDefinition[] {
  return Array.from({ length: LIST_PAGES }, (_, page) => ({
    setupRequest: (request, context) => {
      const built = source.build('list-pages');
      if (page === 0) return { ...request, ...built };
      const next = context.next as string | undefined;
      if (next) paging.link += 1;
      else paging.offset += 1;
      return { ...request, ...built, path: next ?? `${FIRST_PAGE}&offset=${50 * page}` };
    },
    onResponse: (_status, _body, context, headers) => {
      context.next = nextLink(headers, baseUrl);
    },
  }));
}

interface Phase {
  durationS: number;
  responses: number;
  latencies: number[];
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  stoppedEarly: boolean;
  fromUs: number;
  toUs: number;
  paging?: Paging;
}

function runPhase(spec: LoadSpec, source: RequestSource, durationS: number): Promise<Phase> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const statusCounts: Record<string, number> = {};
    let stoppedEarly = false;
    const fromUs = hrtimeUs();
    const paging = spec.workload === 'list-pages' ? { link: 0, offset: 0 } : undefined;
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        pipelining: 1,
        duration: durationS,
        timeout: 10,
        requests: paging
          ? pageChain(source, spec.baseUrl, paging)
          : [
              {
                setupRequest: (request) => {
                  const built = source.build(spec.workload);
                  if (source.exhausted && !stoppedEarly) {
                    stoppedEarly = true;
                    setImmediate(() => instance.stop());
                  }
                  return { ...request, ...built };
                },
              },
            ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        resolve({
          durationS: result.duration,
          responses: latencies.length,
          latencies,
          statusCounts,
          errors: result.errors - result.timeouts,
          timeouts: result.timeouts,
          stoppedEarly,
          fromUs,
          toUs: hrtimeUs(),
          paging,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
    });
  });
}

const send = (message: LoadMessage) =>
  new Promise<void>((resolve) => process.send?.(message, () => resolve()));

async function main(spec: LoadSpec): Promise<void> {
  const source = new RequestSource(spec);
  if (spec.warmupS > 0) {
    await send({ type: 'phase', phase: 'warmup', atUs: hrtimeUs() });
    await runPhase(spec, source, spec.warmupS);
  }
  await send({ type: 'phase', phase: 'measure', atUs: hrtimeUs() });
  const measured = await runPhase(spec, source, spec.durationS);
  await send({ type: 'phase', phase: 'done', atUs: hrtimeUs() });
  const result: RoundResult = {
    durationS: measured.durationS,
    requests: measured.responses,
    latencies: measured.latencies,
    statusCounts: measured.statusCounts,
    errors: measured.errors,
    timeouts: measured.timeouts,
    stoppedEarly: measured.stoppedEarly,
    idsUsed: source.idsUsed,
    fromUs: measured.fromUs,
    toUs: measured.toUs,
    paging: measured.paging,
  };
  await send({ type: 'result', result });
}

if (!process.send) {
  console.error('bench/load is started by bench/run (it takes its spec over IPC)');
  process.exit(2);
}
// The orchestrator is gone (killed): stop rather than load a server nobody measures.
process.once('disconnect', () => process.exit(1));
process.once('message', (spec: LoadSpec) => {
  main(spec).then(
    () => process.exit(0),
    async (error: unknown) => {
      await send({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
      });
      process.exit(1);
    },
  );
});
