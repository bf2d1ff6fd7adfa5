import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { executionMs, RequestPlans } from './plans';
import type { ProfileSummary } from './profile-summary';
import { profileMarkdown } from './profile-summary';
import {
  LoadResult,
  OVERHEAD_TARGETS_US,
  OVERHEAD_WORKLOADS,
  OverheadWorkload,
  Paging,
  Target,
  WORKLOADS,
  WorkloadId,
} from './protocol';

/** main: the seeded size, direct; proxied: the same through --db-latency-ms; growth: 1M. */
export type Phase = 'main' | 'growth' | 'proxied';

/** One measured run: a workload against a target, at a table size and connection count. */
export interface RunRecord extends LoadResult {
  phase: Phase;
  tasks: number;
  /** Concurrent connections of the load generator (absent in results before they varied). */
  connections?: number;
  /** Delay added each way between the server and PostgreSQL, ms (0: direct). */
  dbLatencyMs?: number;
  /** Peak VmRSS sampled during the measured phase, and VmHWM (peak since start) after it. */
  serverRssPeakMb: number;
  serverHwmMb: number;
  cpu: {
    /** CPU time of the server process per request (µs). */
    serverUsPerRequest: number;
    /** CPU time of the server's PostgreSQL backends per request (µs). */
    postgresUsPerRequest: number;
    /**
     * All of PostgreSQL per request (µs): every process of the postmaster, exited ones included
     * (postgres-cpu.ts); null where PostgreSQL's processes cannot be read.
     */
    dbUsPerRequest?: number | null;
    /** Other databases' backends that exited during the run: their CPU is in dbUsPerRequest. */
    dbForeignExited?: number;
    /** The --db-latency-ms proxy's CPU per request (µs), proxied runs only. */
    proxyUsPerRequest?: number;
    /** CPU time of the load generator per request (µs). */
    loadUsPerRequest: number;
    /** How busy the whole machine was (all cores, all processes), in %. */
    machineBusyPct: number;
    /**
     * The part of that used by anything but the server, its PostgreSQL backends and the load
     * generator (PostgreSQL's background workers, the orchestrator, and whatever else runs on
     * the machine): the noise indicator.
     */
    othersBusyPct: number;
  };
  /** Present only with --profile. */
  profile?: ProfileSummary;
  profileFile?: string;
}

export interface Environment {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  gitCommit: string;
  gitDirty: boolean;
  loadAverageBefore: number[];
  loadAverageAfter?: number[];
}

export interface Settings {
  label: string;
  command: string;
  tasks: number;
  growthTasks: number | null;
  durationS: number;
  warmupS: number;
  connections: number;
  /** TaskFlow and the baseline alternate in this many rounds per workload. */
  rounds: number;
  logLevel: string;
  profile: boolean;
  /** Extra node options given to the TaskFlow process (--api-node-args). */
  apiNodeArgs: string[];
  dbPoolSize: number;
  /** --db-latency-ms: the proxied runs' delay each way. */
  dbLatencyMs?: number | null;
}

/** The --db-latency-ms proxy, and the `SELECT 1` round trip it was measured to make. */
export interface ProxyInfo {
  delayMs: number;
  roundTripMs: { direct: number; proxied: number };
}

export interface TargetCheck {
  name: string;
  threshold: string;
  value: string;
  met: boolean | null;
  margin: string;
}

export interface Results {
  settings: Settings;
  environment: Environment;
  seed: Record<string, unknown>;
  /** RSS of each server right after start-up, before any load (per phase). */
  startupRss: { tasks: number; taskflowMb: number; baselineMb: number }[];
  runs: RunRecord[];
  ratios: Partial<Record<WorkloadId, number>>;
  /** Server CPU µs per request: TaskFlow's, the baseline's, and the difference (the headline). */
  overheads: Partial<
    Record<OverheadWorkload, { taskflow: number; baseline: number; overhead: number }>
  >;
  growth?: {
    tasksFrom: number;
    tasksTo: number;
    taskflow?: { p99From: number; p99To: number; ratio: number };
    baseline?: { p99From: number; p99To: number; ratio: number };
  };
  targets: TargetCheck[];
  failures: string[];
  /** EXPLAIN (ANALYZE, BUFFERS) of the hot requests' statements, at each size. */
  plans?: RequestPlans[];
  proxy?: ProxyInfo;
  /** How PostgreSQL's CPU was read (its postmaster), or why it was not. */
  postgresCpu?: string;
}

const RSS_LIMIT_MB = 250;

export function find(
  runs: RunRecord[],
  workload: WorkloadId,
  target: Target,
  phase: 'main' | 'growth' = 'main',
): RunRecord | undefined {
  return runs.find((r) => r.workload === workload && r.target === target && r.phase === phase);
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

/**
 * Server CPU µs per request of TaskFlow and the baseline, and their difference, for each
 * workload both ran in the main phase (from the runs alone, so older results files work too).
 */
export function overheadsOf(runs: RunRecord[]): Results['overheads'] {
  const overheads: Results['overheads'] = {};
  for (const w of OVERHEAD_WORKLOADS) {
    const tf = find(runs, w, 'taskflow');
    const base = find(runs, w, 'baseline');
    if (tf && base && tf.requests > 0 && base.requests > 0) {
      const taskflow = Math.round(tf.cpu.serverUsPerRequest);
      const baseline = Math.round(base.cpu.serverUsPerRequest);
      overheads[w] = { taskflow, baseline, overhead: taskflow - baseline };
    }
  }
  return overheads;
}

/** An overhead against its target, as the markdown pages say it. */
export const overheadMargin = (overhead: number, max: number): string =>
  overhead <= max ? `met, ${max - overhead} µs to spare` : `**missed** by ${overhead - max} µs`;

/** `link` (every page by Link rel=next), `offset` (no Link header), or both. */
export function pagingLabel(paging: Paging): string {
  if (paging.link > 0 && paging.offset === 0) return 'followed Link rel=next';
  if (paging.link === 0) return 'offset pages (no Link header)';
  return `mixed: ${paging.link} pages by Link rel=next, ${paging.offset} by offset`;
}

/** Where a run ran, for its name: its size, its connections, PostgreSQL's distance. */
function runName(run: RunRecord): string {
  return [
    `workload ${WORKLOADS[run.workload].n} (${run.workload}) on ${run.target}`,
    run.phase === 'growth' ? ` at ${run.tasks} tasks` : '',
    run.phase === 'proxied' ? ` with PostgreSQL +${run.dbLatencyMs} ms each way` : '',
    'connections' in WORKLOADS[run.workload] ? ` at ${run.connections} connections` : '',
  ].join('');
}

/** Errors a run must not have: socket errors, timeouts, 5xx, or any non-2xx. */
export function runFailures(run: RunRecord): string[] {
  const name = runName(run);
  const out: string[] = [];
  if (run.errors + run.timeouts > 0) {
    out.push(`${name}: ${run.errors} socket errors, ${run.timeouts} timeouts`);
  }
  if (run.non2xx > 0) {
    const codes = Object.entries(run.statusCounts)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, n]) => `${n}× ${code}`)
      .join(', ');
    out.push(`${name}: ${run.non2xx} non-2xx answers (${codes})`);
  }
  if (run.requests === 0) out.push(`${name}: no responses at all`);
  return out;
}

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A run's connections; results from before runs recorded them: the workload's, or the run's. */
const connectionsOf = (r: RunRecord, settings: Settings): number => {
  const definition: { n: number; connections?: readonly number[] } = WORKLOADS[r.workload];
  return r.connections ?? definition.connections?.[0] ?? settings.connections;
};

const phaseLabel = (r: RunRecord): string =>
  r.phase === 'proxied' ? `+${r.dbLatencyMs} ms` : r.phase;

/** All of PostgreSQL's CPU per request, or `?` where it was not read. */
const dbCpu = (r: RunRecord): string =>
  r.cpu.dbUsPerRequest === undefined || r.cpu.dbUsPerRequest === null
    ? '?'
    : num(r.cpu.dbUsPerRequest);

export function computeResults(
  settings: Settings,
  environment: Environment,
  seed: Record<string, unknown>,
  startupRss: Results['startupRss'],
  runs: RunRecord[],
  extraFailures: string[],
  extras: Pick<Results, 'plans' | 'proxy' | 'postgresCpu'> = {},
): Results {
  const ratios: Results['ratios'] = {};
  for (const w of OVERHEAD_WORKLOADS) {
    const tf = find(runs, w, 'taskflow');
    const base = find(runs, w, 'baseline');
    if (tf && base && base.rps > 0) ratios[w] = Math.round((tf.rps / base.rps) * 1000) / 1000;
  }
  const overheads = overheadsOf(runs);

  let growth: Results['growth'];
  const growthRuns = runs.filter((r) => r.phase === 'growth');
  if (growthRuns.length > 0) {
    const pair = (target: Target) => {
      const from = find(runs, 'list', target, 'main');
      const to = find(runs, 'list', target, 'growth');
      if (!from || !to) return undefined;
      return {
        p99From: from.latencyMs.p99,
        p99To: to.latencyMs.p99,
        ratio: Math.round((to.latencyMs.p99 / from.latencyMs.p99) * 100) / 100,
      };
    };
    growth = {
      tasksFrom: settings.tasks,
      tasksTo: growthRuns[0].tasks,
      taskflow: pair('taskflow'),
      baseline: pair('baseline'),
    };
  }

  const targets: TargetCheck[] = [];
  for (const w of OVERHEAD_WORKLOADS) {
    const o = overheads[w];
    const max = OVERHEAD_TARGETS_US[w];
    targets.push({
      name: `Overhead: workload ${WORKLOADS[w].n} (${w}) server CPU µs/req, TaskFlow − baseline`,
      threshold: `≤ ${max} µs`,
      value: o ? `${o.overhead} µs (${o.taskflow} − ${o.baseline})` : 'not measured',
      met: o ? o.overhead <= max : null,
      margin: o
        ? o.overhead <= max
          ? `${max - o.overhead} µs to spare`
          : `${o.overhead - max} µs over`
        : '',
    });
  }
  const ratioTarget = (w: 'get' | 'list' | 'progress', min: number, label: string) => {
    const r = ratios[w];
    targets.push({
      name: `${label}: workload ${WORKLOADS[w].n} (${w}) TaskFlow/baseline req/s`,
      threshold: `≥ ${pct(min)}`,
      value: r === undefined ? 'not measured' : pct(r),
      met: r === undefined ? null : r >= min,
      margin:
        r === undefined
          ? ''
          : r >= min
            ? `${((r - min) * 100).toFixed(1)} points above`
            : `${((min - r) * 100).toFixed(1)} points short (needs ${(min / r).toFixed(2)}× the throughput)`,
    });
  };
  ratioTarget('get', 0.7, 'Reads');
  ratioTarget('list', 0.7, 'Reads');
  ratioTarget('progress', 0.6, 'Writes');

  const failures = [...extraFailures, ...runs.flatMap(runFailures)];
  const bad = runs.reduce((n, r) => n + r.errors + r.timeouts + r.status5xx, 0);
  const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
  targets.push({
    name: `Zero errors and 5xx (every run, both targets; ${settings.connections} connections unless the workload sets its own)`,
    threshold: '0',
    value: `${bad} errors/timeouts/5xx, ${non2xx} non-2xx`,
    met: bad === 0 && non2xx === 0,
    margin: '',
  });

  const tfRuns = runs.filter((r) => r.target === 'taskflow');
  const peak = Math.max(0, ...tfRuns.map((r) => Math.max(r.serverHwmMb, r.serverRssPeakMb)));
  targets.push({
    name: 'TaskFlow API peak RSS (VmHWM)',
    threshold: `< ${RSS_LIMIT_MB} MB`,
    value: tfRuns.length ? `${peak.toFixed(0)} MB` : 'not measured',
    met: tfRuns.length ? peak < RSS_LIMIT_MB : null,
    margin: tfRuns.length
      ? peak < RSS_LIMIT_MB
        ? `${(RSS_LIMIT_MB - peak).toFixed(0)} MB to spare`
        : `${(peak - RSS_LIMIT_MB).toFixed(0)} MB over`
      : '',
  });

  const g = growth?.taskflow;
  targets.push({
    name: growth
      ? `Growth: workload 2 p99 at ${num(growth.tasksTo)} tasks vs ${num(growth.tasksFrom)} (TaskFlow)`
      : 'Growth: workload 2 p99 at 1,000,000 tasks vs the main size',
    threshold: '≤ 1.5×',
    value: g ? `${g.ratio}× (${g.p99From} → ${g.p99To} ms)` : 'not measured (no growth phase)',
    met: g ? g.ratio <= 1.5 : null,
    margin: g ? (g.ratio <= 1.5 ? 'within' : `${(g.ratio - 1.5).toFixed(2)}× over`) : '',
  });

  // The analytics summary's own target: one request at a time, at the largest size measured.
  const summary = [...runs]
    .filter((r) => r.workload === 'analytics' && r.target === 'taskflow')
    .sort((a, b) => b.tasks - a.tasks)[0];
  targets.push({
    name: summary
      ? `Analytics: workload ${WORKLOADS.analytics.n} mean latency at ${num(summary.tasks)} tasks (one connection)`
      : `Analytics: workload ${WORKLOADS.analytics.n} mean latency at 1,000,000 tasks`,
    threshold: `< ${ANALYTICS_LIMIT_MS} ms`,
    value: summary
      ? `${summary.latencyMs.mean.toFixed(1)} ms (p99 ${summary.latencyMs.p99.toFixed(1)} ms)`
      : 'not measured',
    met: summary ? summary.latencyMs.mean < ANALYTICS_LIMIT_MS : null,
    margin: summary
      ? summary.latencyMs.mean < ANALYTICS_LIMIT_MS
        ? `${(ANALYTICS_LIMIT_MS - summary.latencyMs.mean).toFixed(1)} ms to spare`
        : `${(summary.latencyMs.mean - ANALYTICS_LIMIT_MS).toFixed(1)} ms over`
      : '',
  });

  return {
    settings,
    environment,
    seed,
    startupRss,
    runs,
    ratios,
    overheads,
    growth,
    targets,
    failures,
    ...extras,
  };
}

/** The table printed at the end of a run. */
export function consoleTable(results: Results): string {
  const header = [
    'phase',
    'workload',
    'target',
    'tasks',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    '2xx',
    '4xx',
    '5xx',
    'err',
    'RSS MB',
    'srv µs/req',
    'pg µs/req',
    'backends',
  ];
  const rows = results.runs.map((r) => [
    phaseLabel(r),
    `${WORKLOADS[r.workload].n} ${r.workload}`,
    r.target,
    num(r.tasks),
    String(connectionsOf(r, results.settings)),
    num(r.rps),
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p99.toFixed(2),
    num(r.ok2xx),
    num(r.status4xx),
    num(r.status5xx),
    num(r.errors + r.timeouts),
    r.serverHwmMb.toFixed(0),
    num(r.cpu.serverUsPerRequest),
    dbCpu(r),
    num(r.cpu.postgresUsPerRequest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push('');
  for (const t of results.targets) {
    const mark = t.met === null ? '  -  ' : t.met ? ' MET ' : 'MISSED';
    out.push(
      `[${mark}] ${t.name}: ${t.value} (target ${t.threshold})${t.margin ? `, ${t.margin}` : ''}`,
    );
  }
  if (results.failures.length) {
    out.push('', 'FAILURES:', ...results.failures.map((f) => `  - ${f}`));
  }
  return out.join('\n');
}

function markdown(results: Results): string {
  const { settings: s, environment: e } = results;
  const out: string[] = [];
  out.push(`# TaskFlow benchmark results (${s.label})`, '');
  out.push(
    `Generated by \`${s.command}\` on ${e.date}: ${num(s.tasks)} tasks, ${s.durationS} s per` +
      ` workload and target after a ${s.warmupS} s warm-up` +
      (s.rounds > 1 ? ` (TaskFlow and the baseline alternating in ${s.rounds} rounds)` : '') +
      `, ${s.connections} connections, TaskFlow with` +
      ` \`LOG_LEVEL=${s.logLevel}\` and a pool of ${s.dbPoolSize}` +
      (s.profile ? ', **under the CPU profiler (numbers are slower than normal)**' : '') +
      (s.apiNodeArgs.length ? `, TaskFlow run with \`node ${s.apiNodeArgs.join(' ')}\`` : '') +
      (s.dbLatencyMs
        ? `; the workloads again with PostgreSQL ${s.dbLatencyMs} ms away each way (rows marked so)`
        : '') +
      `. How to run and read this: [docs/benchmark.md](../docs/benchmark.md).`,
    '',
  );

  out.push('## Headline: framework overhead, server CPU µs per request', '');
  out.push(
    'What TaskFlow costs above the raw baseline doing the same SQL, measured as the CPU time of',
    'each server process per request in the same run (steadier than req/s on a shared machine).',
    '',
  );
  out.push('| workload | TaskFlow µs/req | baseline µs/req | overhead | target | margin |');
  out.push('| --- | --: | --: | --: | --: | --- |');
  for (const w of OVERHEAD_WORKLOADS) {
    const o = results.overheads[w];
    const max = OVERHEAD_TARGETS_US[w];
    out.push(
      o
        ? `| ${WORKLOADS[w].n}. \`${WORKLOADS[w].title}\` | ${num(o.taskflow)} | ${num(o.baseline)} | **${num(o.overhead)}** | ≤ ${max} | ${overheadMargin(o.overhead, max)} |`
        : `| ${WORKLOADS[w].n}. \`${WORKLOADS[w].title}\` | – | – | – | ≤ ${max} | not measured |`,
    );
  }
  out.push('');

  out.push('## Throughput: TaskFlow / raw baseline, same run', '');
  out.push('| workload | TaskFlow req/s | baseline req/s | ratio | target |');
  out.push('| --- | --: | --: | --: | --- |');
  for (const w of OVERHEAD_WORKLOADS) {
    const tf = find(results.runs, w, 'taskflow');
    const base = find(results.runs, w, 'baseline');
    const r = results.ratios[w];
    const min = w === 'progress' ? 0.6 : 0.7;
    out.push(
      `| ${WORKLOADS[w].n}. \`${WORKLOADS[w].title}\` | ${tf ? num(tf.rps) : '–'} | ${base ? num(base.rps) : '–'} | ${r === undefined ? '–' : `**${pct(r)}**`} | ≥ ${pct(min)}: ${r === undefined ? 'not measured' : r >= min ? 'met' : '**missed**'} |`,
    );
  }
  out.push('');

  out.push('## Targets', '');
  out.push('| target | threshold | measured | met | margin |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const t of results.targets) {
    const met = t.met === null ? 'not measured' : t.met ? 'yes' : '**no**';
    out.push(`| ${t.name} | ${t.threshold} | ${t.value} | ${met} | ${t.margin} |`);
  }
  out.push('');
  if (results.failures.length) {
    out.push('**Failures:**', '', ...results.failures.map((f) => `- ${f}`), '');
  }

  out.push('## Every run', '');
  out.push(
    '| # | workload | target | PostgreSQL | tasks | connections | req/s | p50 ms | p99 ms | 2xx | 4xx | 5xx | errors | server RSS peak / HWM MB | server CPU µs/req | PostgreSQL CPU µs/req | of which its backends | load generator CPU µs/req | machine busy | of which others |',
  );
  out.push(
    '| --: | --- | --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  for (const r of results.runs) {
    out.push(
      `| ${WORKLOADS[r.workload].n} | ${r.workload}${r.stoppedEarly ? ' (ids ran out)' : ''} | ${r.target} | ${r.dbLatencyMs ? `+${r.dbLatencyMs} ms each way` : 'direct'} | ${num(r.tasks)} | ${connectionsOf(r, s)} | ${num(r.rps)} | ${r.latencyMs.p50.toFixed(2)} | ${r.latencyMs.p99.toFixed(2)} | ${num(r.ok2xx)} | ${num(r.status4xx)} | ${num(r.status5xx)} | ${num(r.errors + r.timeouts)} | ${r.serverRssPeakMb.toFixed(0)} / ${r.serverHwmMb.toFixed(0)} | ${num(r.cpu.serverUsPerRequest)} | ${dbCpu(r)}${r.cpu.dbForeignExited ? ` (${r.cpu.dbForeignExited} other backends exited)` : ''} | ${num(r.cpu.postgresUsPerRequest)} | ${num(r.cpu.loadUsPerRequest)} | ${r.cpu.machineBusyPct.toFixed(0)} % | ${r.cpu.othersBusyPct.toFixed(0)} % |`,
    );
  }
  out.push(
    '',
    `PostgreSQL CPU: every process of the postmaster, exited ones included, other databases' live backends taken out (${results.postgresCpu ?? 'not measured in this run'}); its backends: the server's own connections only. Both per request of the run.`,
    '',
  );
  out.push(...writesSection(results), ...listSizesSection(results));

  if (results.growth) {
    const g = results.growth;
    out.push(`## Growth: workload 2 at ${num(g.tasksFrom)} and ${num(g.tasksTo)} tasks`, '');
    out.push('| target | p99 at main size ms | p99 at growth size ms | ratio |');
    out.push('| --- | --: | --: | --: |');
    for (const [name, v] of [
      ['TaskFlow', g.taskflow],
      ['baseline', g.baseline],
    ] as const) {
      if (v)
        out.push(`| ${name} | ${v.p99From.toFixed(2)} | ${v.p99To.toFixed(2)} | ${v.ratio}× |`);
    }
    out.push('');
  }

  out.push(...plansSection(results));

  const profiled = results.runs.filter((r) => r.profile);
  if (profiled.length) {
    out.push('## CPU profiles (measured phase only)', '');
    for (const r of profiled) {
      out.push(
        profileMarkdown(
          r.profile!,
          `Workload ${WORKLOADS[r.workload].n} (${r.workload}), ${r.target}`,
          12,
        ),
      );
    }
  }

  out.push('## Environment', '');
  out.push('| | |', '| --- | --- |');
  out.push(`| CPU | ${e.cpuModel}, ${e.cores} cores, ${e.memoryGb} GB |`);
  out.push(`| OS | ${e.os} |`);
  out.push(`| Node.js | ${e.node} |`);
  out.push(`| PostgreSQL | ${e.postgres} |`);
  out.push(
    `| PostgreSQL settings | ${Object.entries(e.postgresSettings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')} |`,
  );
  out.push(`| git commit | \`${e.gitCommit}\`${e.gitDirty ? ' (working tree has changes)' : ''} |`);
  out.push(
    `| load average | ${e.loadAverageBefore.map((n) => n.toFixed(2)).join(' ')} before, ${(e.loadAverageAfter ?? []).map((n) => n.toFixed(2)).join(' ')} after |`,
  );
  out.push(
    `| server RSS after start-up | ${results.startupRss.map((r) => `TaskFlow ${r.taskflowMb} MB, baseline ${r.baselineMb} MB (${num(r.tasks)} tasks)`).join('; ')} |`,
  );
  out.push(
    `| seed | ${Object.entries(results.seed)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('; ')} |`,
  );
  out.push('');
  out.push(
    'The load generator, both servers and PostgreSQL share the same cores: compare the ratios, not the absolute numbers, across machines.',
    '',
  );
  return out.join('\n');
}

/** Workload 7 at each connection count, direct and (with --db-latency-ms) through the proxy. */
function writesSection(results: Results): string[] {
  const runs = results.runs.filter((r) => r.workload === 'writes');
  if (runs.length === 0) return [];
  const out = [`## Writes: ${WORKLOADS.writes.title}`, ''];
  const proxied = runs.filter((r) => r.phase === 'proxied' && r.target === 'taskflow');
  if (proxied.length > 0) {
    const at = (n: number) => proxied.find((r) => r.connections === n);
    const [few, many] = [at(16), at(64)];
    out.push(
      `With PostgreSQL ${proxied[0].dbLatencyMs} ms away each way, TaskFlow: **${many ? num(many.rps) : '–'} writes/s at 64 connections, ${few ? num(few.rps) : '–'} at 16**.` +
        (results.proxy
          ? ` The proxy's measured \`SELECT 1\` round trip: ${results.proxy.roundTripMs.proxied} ms, against ${results.proxy.roundTripMs.direct} ms direct.`
          : ''),
      '',
    );
  }
  out.push(
    '| PostgreSQL | target | connections | writes/s | p50 ms | p90 ms | p99 ms | server CPU µs/req | PostgreSQL CPU µs/req | errors, non-2xx |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  );
  for (const r of runs) {
    out.push(
      `| ${r.dbLatencyMs ? `+${r.dbLatencyMs} ms each way` : 'direct'} | ${r.target} | ${r.connections} | ${num(r.rps)} | ${r.latencyMs.p50.toFixed(2)} | ${r.latencyMs.p90.toFixed(2)} | ${r.latencyMs.p99.toFixed(2)} | ${num(r.cpu.serverUsPerRequest)} | ${dbCpu(r)} | ${r.errors + r.timeouts + r.non2xx} |`,
    );
  }
  out.push('');
  return out;
}

/** The analytics summary's answer time, at every size (docs/analytics.md). */
const ANALYTICS_LIMIT_MS = 200;

/** The list workloads measured at both sizes: time per request at each, and the ratio. */
function listSizesSection(results: Results): string[] {
  const grown = results.runs.filter((r) => r.phase === 'growth' && r.target === 'taskflow');
  const main = (r: RunRecord) => find(results.runs, r.workload, 'taskflow', 'main');
  const pairs = grown.flatMap((to) => {
    const from = main(to);
    return from ? [{ from, to }] : [];
  });
  if (pairs.length === 0) return [];
  const ratio = (a: number, b: number) => (a > 0 ? `${(b / a).toFixed(2)}×` : '–');
  const out = [
    `## Lists and the analytics summary at ${num(pairs[0].from.tasks)} and ${num(pairs[0].to.tasks)} tasks (TaskFlow)`,
    '',
    'Time per request: the mean latency at the connections given (few for workloads 8–11, so it is',
    'mostly the request itself, not a queue). PostgreSQL CPU per request alongside.',
    '',
    '| workload | connections | ms at main size | ms at growth size | ratio | PostgreSQL µs/req at main | at growth | ratio | paging |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --- |',
  ];
  for (const { from, to } of pairs) {
    const db = (r: RunRecord) => r.cpu.dbUsPerRequest ?? 0;
    out.push(
      `| ${WORKLOADS[to.workload].n}. \`${WORKLOADS[to.workload].title}\` | ${connectionsOf(to, results.settings)} | ${from.latencyMs.mean.toFixed(2)} | ${to.latencyMs.mean.toFixed(2)} | **${ratio(from.latencyMs.mean, to.latencyMs.mean)}** | ${dbCpu(from)} | ${dbCpu(to)} | ${ratio(db(from), db(to))} | ${pagingAt(from, to)} |`,
    );
  }
  out.push('');
  return out;
}

/** How workload 10 paged at each size: said once when both sizes paged alike. */
function pagingAt(from: RunRecord, to: RunRecord): string {
  const [a, b] = [from.paging, to.paging].map((p) => (p ? pagingLabel(p) : ''));
  return a === b ? a : `${a || '–'} / ${b || '–'}`;
}

/** EXPLAIN (ANALYZE, BUFFERS) of each hot request's statements, at each size. */
function plansSection(results: Results): string[] {
  const plans = results.plans ?? [];
  if (plans.length === 0) return [];
  const sizes = [...new Set(plans.map((p) => p.tasks))];
  const out = [
    '## Plans of the hot statements',
    '',
    'What TaskFlow sent for each request (traced), run again under `EXPLAIN (ANALYZE, BUFFERS)` in a',
    'transaction that is rolled back; execution ms summed over its statements.',
    '',
    `| request | ${sizes.map((n) => `${num(n)} tasks, ms`).join(' | ')} |${sizes.length > 1 ? ' ratio |' : ''}`,
    `| --- | ${sizes.map(() => '--:').join(' | ')} |${sizes.length > 1 ? ' --: |' : ''}`,
  ];
  for (const name of [...new Set(plans.map((p) => p.name))]) {
    const at = sizes.map((n) => plans.find((p) => p.name === name && p.tasks === n));
    const ms = at.map((p) => (p ? executionMs(p) : undefined));
    const first = ms[0];
    const last = ms[ms.length - 1];
    out.push(
      `| ${name} | ${ms.map((m) => (m === undefined ? '–' : m.toFixed(2))).join(' | ')} |${sizes.length > 1 ? ` ${first && last !== undefined ? `${(last / first).toFixed(1)}×` : '–'} |` : ''}`,
    );
  }
  out.push('');
  for (const p of plans) {
    out.push(`### ${p.name} at ${num(p.tasks)} tasks: \`${p.request}\` (${p.status})`, '');
    p.statements.forEach((st, i) => {
      const sql = st.sql.replace(/\s+/g, ' ');
      out.push(
        `${i + 1}. \`${sql.length > 140 ? `${sql.slice(0, 140)}…` : sql}\`` +
          (st.error
            ? `: **failed**: ${st.error}`
            : st.plan.length
              ? `: planning ${st.planningMs ?? '?'} ms, execution ${st.executionMs ?? '?'} ms`
              : ' (run as it is)'),
      );
    });
    out.push('');
    for (const [i, st] of p.statements.entries()) {
      if (st.plan.length) out.push(`Statement ${i + 1}:`, '', '```text', ...st.plan, '```', '');
    }
  }
  return out;
}

/** `md` as prettier formats `file` (as it came if prettier fails: the page is still written). */
export async function formatMarkdown(md: string, file: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(md, { ...config, filepath: file });
  } catch (error) {
    console.warn(`(${path.basename(file)} left unformatted: ${(error as Error).message})`);
    return md;
  }
}

/** Writes `<prefix>.json` and a prettier-formatted `<prefix>.md`. */
export async function writeResults(results: Results, prefix: string): Promise<string[]> {
  const jsonFile = `${prefix}.json`;
  const mdFile = `${prefix}.md`;
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(mdFile, await formatMarkdown(markdown(results), mdFile));
  return [path.relative(process.cwd(), jsonFile), path.relative(process.cwd(), mdFile)];
}
