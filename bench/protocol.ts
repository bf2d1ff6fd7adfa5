/** What the orchestrator (run.ts) and the load generator (load.ts) exchange over IPC. */

export type Target = 'taskflow' | 'baseline';

/** The writes workload: one caller's tasks, as the "Production scale" measurement took them. */
export const WRITES_TASKS = 64;
/** The list workloads measured at both table sizes: connections, and pages per chain. */
export const LIST_SIZE_CONNECTIONS = 4;
export const LIST_PAGES = 20;

export const WORKLOADS = {
  get: { n: 1, title: 'GET /api/tasks/{id}', kind: 'read', baseline: true },
  list: {
    n: 2,
    title: 'GET /api/tasks?project=…&status=in_progress&sort=-updated_at&limit=50',
    kind: 'read',
    baseline: true,
    growth: true,
  },
  create: { n: 3, title: 'POST /api/tasks', kind: 'write', baseline: false },
  progress: {
    n: 4,
    title: 'POST /api/tasks/{id}/progress?percent=N (by the assignee)',
    kind: 'write',
    baseline: true,
  },
  start: {
    n: 5,
    title: 'POST /api/tasks/{id}/start (fresh pending tasks)',
    kind: 'write',
    baseline: false,
  },
  claim: {
    n: 6,
    title: 'POST /api/tasks/claim-next (20 agents at once)',
    kind: 'write',
    baseline: false,
    // Twenty agents polling for work, each on its own connection.
    connections: [20],
  },
  writes: {
    n: 7,
    title: `POST /api/tasks/{id}/progress?percent=N, one caller, ${WRITES_TASKS} of its tasks`,
    kind: 'write',
    baseline: true,
    // Workload 4's request, as one busy agent sends it: every write queues on the audit trail's
    // commit-order lock, so how writes/s moves from 16 to 64 connections is the question.
    connections: [16, 64],
    // --quick leaves it out: workload 4's code, and four more rounds.
    quick: false,
  },
  'list-all': {
    n: 8,
    title: 'GET /api/tasks?limit=50 (no filter, default order)',
    kind: 'read',
    baseline: false,
    growth: true,
    // --quick leaves it out: workload 10's first page is this request.
    quick: false,
    // Few connections: these answer how long one request takes at each size, not how many queue
    // up; and a COUNT over a million rows times 64 would run into the load generator's timeout.
    connections: [LIST_SIZE_CONNECTIONS],
  },
  'list-pending': {
    n: 9,
    title: 'GET /api/tasks?status=pending&limit=50',
    kind: 'read',
    baseline: false,
    growth: true,
    // --quick leaves it out: workload 2's code with another filter.
    quick: false,
    connections: [LIST_SIZE_CONNECTIONS],
  },
  'list-pages': {
    n: 10,
    title: `GET /api/tasks?limit=50, then ${LIST_PAGES - 1} next pages (Link rel=next, else offset)`,
    kind: 'read',
    baseline: false,
    growth: true,
    connections: [LIST_SIZE_CONNECTIONS],
  },
  analytics: {
    n: 11,
    title: 'GET /api/analytics/summary (the default 30 days; by actor type or by worker)',
    kind: 'read',
    baseline: false,
    growth: true,
    // One at a time: a report a person opens, whose question is how long one takes at each size.
    connections: [1],
  },
} as const satisfies Record<
  string,
  {
    n: number;
    title: string;
    kind: 'read' | 'write';
    baseline: boolean;
    /** Measured at each of these instead of --connections. */
    connections?: readonly number[];
    /** Measured again in the growth phase. */
    growth?: boolean;
    /** false: not in --quick's default set. */
    quick?: boolean;
  }
>;
export type WorkloadId = keyof typeof WORKLOADS;

/** The workloads that TaskFlow and the baseline both run, whose overhead is the headline. */
export type OverheadWorkload = 'get' | 'list' | 'progress';
export const OVERHEAD_WORKLOADS: readonly OverheadWorkload[] = ['get', 'list', 'progress'];

/**
 * The overhead targets, in server CPU µs per request above the baseline: half of what commit
 * 9ac491c measured on the development VM (median of three runs of `npm run bench --
 * --workloads 1,2,4 --skip-growth --duration 8 --rounds 2`, in the same session as the
 * measurements of today's code; docs/benchmark.md has the figures). Halve again on another
 * machine: check out 9ac491c there and measure it the same way.
 */
export const OVERHEAD_TARGETS_US: Record<OverheadWorkload, number> = {
  get: 58, // 9ac491c: 116 (106, 116, 122)
  list: 159, // 9ac491c: 319 (285, 319, 342)
  progress: 189, // 9ac491c: 378 (378, 371, 437)
};
export const WORKLOAD_IDS = Object.keys(WORKLOADS) as WorkloadId[];

export interface LoadSpec {
  target: Target;
  workload: WorkloadId;
  baseUrl: string;
  connections: number;
  durationS: number;
  warmupS: number;
  /** JWT per user id. */
  tokens: Record<string, string>;
  seed: number;
  /** Workload 1: ids 1..maxTaskId all exist. */
  maxTaskId: number;
  /** Workloads 2 and 3. */
  projects: string[];
  /** Workloads 4 and 7: [task id, assignee]. */
  inProgress: [number, string][];
  /** Workload 5: distinct pending ids, each used once. */
  pending: number[];
}

/** One measured round of one load generator (load.ts → run.ts). */
export interface RoundResult {
  /** Seconds actually measured (workload 5 may stop early when its ids run out). */
  durationS: number;
  requests: number;
  /** Every response's latency, ms. */
  latencies: number[];
  statusCounts: Record<string, number>;
  /** Socket errors (timeouts excluded). */
  errors: number;
  timeouts: number;
  stoppedEarly: boolean;
  idsUsed: number;
  /** process.hrtime in µs at the start and end of the measured phase (for profile windows). */
  fromUs: number;
  toUs: number;
  /** list-pages: pages reached by following `Link: <…>; rel="next"`, and by offset instead. */
  paging?: Paging;
}

export interface Paging {
  link: number;
  offset: number;
}

/** A workload against a target: its rounds summed up. */
export interface LoadResult {
  target: Target;
  workload: WorkloadId;
  /** Measured rounds (TaskFlow and the baseline alternate, round by round). */
  rounds: number;
  /** Seconds measured, all rounds together. */
  durationS: number;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCounts: Record<string, number>;
  ok2xx: number;
  status4xx: number;
  status5xx: number;
  non2xx: number;
  /** Socket errors and timeouts (no HTTP status at all). */
  errors: number;
  timeouts: number;
  /** Workload 5: true when the distinct ids ran out and the run stopped early. */
  stoppedEarly: boolean;
  idsUsed?: number;
  paging?: Paging;
  /** The measured windows, in µs of process.hrtime (for profile summaries). */
  windowsUs: [number, number][];
}

export type LoadMessage =
  | { type: 'phase'; phase: 'warmup' | 'measure' | 'done'; atUs: number }
  | { type: 'result'; result: RoundResult }
  | { type: 'error'; message: string };

export const hrtimeUs = (): number => Number(process.hrtime.bigint() / 1000n);

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The nearest-rank percentile `p` (0–100) of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** Sums up the rounds of a workload against a target; percentiles over every response. */
export function summarizeRounds(
  target: Target,
  workload: WorkloadId,
  rounds: RoundResult[],
): LoadResult {
  const total = rounds.reduce((n, r) => n + r.latencies.length, 0);
  const sorted = new Float64Array(total);
  let at = 0;
  for (const r of rounds) {
    sorted.set(r.latencies, at);
    at += r.latencies.length;
  }
  sorted.sort();
  const statusCounts: Record<string, number> = {};
  for (const r of rounds) {
    for (const [code, n] of Object.entries(r.statusCounts)) {
      statusCounts[code] = (statusCounts[code] ?? 0) + n;
    }
  }
  const count = (from: number, to: number) =>
    Object.entries(statusCounts)
      .filter(([code]) => Number(code) >= from && Number(code) < to)
      .reduce((sum, [, n]) => sum + n, 0);
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const durationS = round2(rounds.reduce((n, r) => n + r.durationS, 0));
  const ok2xx = count(200, 300);
  return {
    target,
    workload,
    rounds: rounds.length,
    durationS,
    requests,
    rps: durationS > 0 ? round2(requests / durationS) : 0,
    latencyMs: {
      p50: round2(percentile(sorted, 50)),
      p90: round2(percentile(sorted, 90)),
      p99: round2(percentile(sorted, 99)),
      max: round2(total ? sorted[total - 1] : 0),
      mean: round2(total ? sorted.reduce((a, b) => a + b, 0) / total : 0),
    },
    statusCounts,
    ok2xx,
    status4xx: count(400, 500),
    status5xx: count(500, 600),
    non2xx: requests - ok2xx,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    timeouts: rounds.reduce((n, r) => n + r.timeouts, 0),
    stoppedEarly: rounds.some((r) => r.stoppedEarly),
    idsUsed: workload === 'start' ? rounds.reduce((n, r) => n + r.idsUsed, 0) : undefined,
    paging: rounds.some((r) => r.paging)
      ? {
          link: rounds.reduce((n, r) => n + (r.paging?.link ?? 0), 0),
          offset: rounds.reduce((n, r) => n + (r.paging?.offset ?? 0), 0),
        }
      : undefined,
    windowsUs: rounds.map((r) => [r.fromUs, r.toUs]),
  };
}

/**
 * The Node options TaskFlow runs with in production (the Dockerfile's NODE_OPTIONS, checked by
 * test/ops.e2e-spec.ts): a heap cap that keeps RSS bounded under load. The bench measures the
 * API as it is deployed.
 */
export const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=192';

/**
 * The API process's own heap sizing, on its command line (the image's CMD and the compose api
 * command; NODE_OPTIONS refuses `--initial-old-space-size`). With V8's defaults the API settled,
 * from one start to the next, into one of two states under load: objects of requests in flight
 * survived the small young generation, were promoted, and the old generation, grown from a small
 * start, was collected twice as often (get 125 or 200 µs of CPU per request, by the start). A
 * 32 MB semi-space keeps requests' garbage young and a 128 MB initial old generation skips the
 * slow growth: steady, about 40 MB more RSS, and a page of tasks 60–80 µs cheaper.
 */
export const API_NODE_ARGS = ['--max-semi-space-size=32', '--initial-old-space-size=128'];
