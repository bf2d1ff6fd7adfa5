import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import { Client } from 'pg';
import { loadConfig, LOG_LEVELS } from '../src/config/config';
import { recreateDatabase, runMigrations } from '../src/database/database-admin';
import { BenchIdentity } from './identity';
import {
  benchScript,
  cpuMs,
  DbProxy,
  distPath,
  freePort,
  killAllChildren,
  machineCpu,
  memoryMb,
  removeDistSnapshot,
  ROOT_DIR,
  RssSampler,
  runLoad,
  Server,
  snapshotDist,
  startDbProxy,
  startServer,
  stopServer,
} from './processes';
import { executionMs, explainStatements, RequestPlans } from './plans';
import { PostgresCpu, PostgresCpuSample } from './postgres-cpu';
import { summarizeProfile } from './profile-summary';
import {
  LoadSpec,
  PRODUCTION_NODE_OPTIONS,
  API_NODE_ARGS,
  RoundResult,
  summarizeRounds,
  Target,
  WORKLOAD_IDS,
  WORKLOADS,
  WorkloadId,
  WRITES_TASKS,
} from './protocol';
import {
  computeResults,
  consoleTable,
  Environment,
  pagingLabel,
  Phase,
  ProxyInfo,
  RunRecord,
  Settings,
  writeResults,
} from './report';
import { addPendingTasks, readWorkloadData, seed, SeedStats, WorkloadData } from './seed';

/**
 * `npm run bench [-- --quick] [--tasks 10000] [--duration 20] [--connections 64] …`
 *
 * Seeds its own database (taskflow_bench), starts a JWKS server, TaskFlow in production mode
 * (`node dist/src/main.js`, from a private copy of dist/) and the raw baseline
 * (baseline-server.ts) as child processes, checks that both send the same SQL and answer alike,
 * then drives each workload against both targets, alternating in rounds, from separate load
 * generator processes (load.ts), and reports req/s, latency, errors, memory and CPU per
 * request, with TaskFlow/baseline as the headline. docs/benchmark.md explains it all.
 */

const OUT_DIR = path.join(ROOT_DIR, 'bench', 'out');
const DEFAULT_DB_URL = 'postgresql://postgres@127.0.0.1:5432/taskflow_bench';

/** The bench users: 39 humans (5 of them registered workers) and one registered agent. */
const HUMANS = Array.from({ length: 39 }, (_, i) => `bench-user-${String(i + 1).padStart(2, '0')}`);
const AGENTS = ['bench-agent-01'];
const USERS = [...HUMANS, ...AGENTS];

/** TaskFlow's configuration variables: never inherited from the caller's shell. */
const TASKFLOW_VARIABLES = [
  'NODE_ENV',
  'NODE_OPTIONS',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DB_POOL_SIZE',
  'DB_CONNECT_TIMEOUT_MS',
  'DB_STATEMENT_TIMEOUT_MS',
  'AUTH_SERVER_URL',
  'JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_ALGORITHMS',
  'ALLOWED_ORIGINS',
  'LOG_LEVEL',
  'RATE_LIMIT_PER_MINUTE',
  'METRICS_PORT',
  'TRUST_PROXY',
  'SHUTDOWN_TIMEOUT_MS',
];

interface Options {
  quick: boolean;
  tasks: number;
  growthTasks: number;
  skipGrowth: boolean;
  duration: number;
  warmup: number;
  connections: number;
  workloads: WorkloadId[];
  logLevel: string;
  profile: boolean;
  checkSql: boolean;
  out?: string;
  keepDb: boolean;
  apiNodeArgs: string[];
  apiDist?: string;
  rounds: number;
  /** 0: no proxy. */
  dbLatencyMs: number;
}

const positiveInt = (value: string): number => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds');
  return n;
};

function parseOptions(argv: string[]): Options {
  const program = new Command()
    .name('npm run bench --')
    .description(
      'TaskFlow against a raw node:http + pg baseline, in the same run (docs/benchmark.md)',
    )
    .option('--quick', 'smoke test: 10k tasks, ~3 s per workload, no growth phase (CI)', false)
    .option('--tasks <n>', 'tasks in the main phase', positiveInt)
    .option(
      '--growth-tasks <n>',
      'tasks in the growth phase (workload 2 only)',
      positiveInt,
      1_000_000,
    )
    .option('--skip-growth', 'skip the growth phase', false)
    .option('--duration <s>', 'measured seconds per workload and target', seconds)
    .option('--warmup <s>', 'warm-up seconds before each measurement', seconds)
    .option('--connections <n>', 'concurrent connections of the load generator', positiveInt, 64)
    .option(
      '--rounds <n>',
      'TaskFlow and the baseline alternate in this many rounds per workload (quick: 1)',
      positiveInt,
    )
    .option(
      '--workloads <list>',
      `comma-separated subset of ${WORKLOAD_IDS.join(',')} (or 1-${WORKLOAD_IDS.length})`,
      (v: string) =>
        v.split(',').map((w) => {
          const id = WORKLOAD_IDS.find(
            (k) => k === w.trim() || String(WORKLOADS[k].n) === w.trim(),
          );
          if (!id) throw new InvalidArgumentError(`unknown workload "${w}"`);
          return id;
        }),
    )
    .option('--log-level <level>', `TaskFlow's LOG_LEVEL (${LOG_LEVELS.join(', ')})`, 'info')
    .option(
      '--profile',
      'run each server under --cpu-prof (one process per workload); profiles in bench/out/',
      false,
    )
    .option(
      '--check-sql',
      'only check that TaskFlow and the baseline send the same SQL, then exit',
      false,
    )
    .option(
      '--out <prefix>',
      'results file prefix (default bench/results, or bench/out/results-<variant>)',
    )
    .option('--keep-db', 'leave the taskflow_bench database in place at the end', false)
    .option(
      '--db-latency-ms <ms>',
      'after the direct runs, run the workloads again through a TCP proxy that delays PostgreSQL traffic this much each way',
      seconds,
    )
    .option(
      '--api-dist <dir>',
      "run another build's TaskFlow (its dist/, e.g. an earlier commit built in a worktree) on this bench's schema and data; skips the SQL, parity and plan checks",
    )
    .option(
      '--api-node-args <args>',
      'extra node options for the TaskFlow process, space-separated (experiments: "--max-semi-space-size=32")',
    )
    .allowExcessArguments(false);
  program.parse(argv);
  const o = program.opts<{
    quick: boolean;
    tasks?: number;
    growthTasks: number;
    skipGrowth: boolean;
    duration?: number;
    warmup?: number;
    connections: number;
    rounds?: number;
    workloads?: WorkloadId[];
    logLevel: string;
    profile: boolean;
    checkSql: boolean;
    out?: string;
    keepDb: boolean;
    apiNodeArgs?: string;
    apiDist?: string;
    dbLatencyMs?: number;
  }>();
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) {
    program.error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    quick: o.quick,
    tasks: o.tasks ?? 10_000,
    growthTasks: o.growthTasks,
    skipGrowth: o.skipGrowth || o.quick || o.profile,
    duration: o.duration ?? (o.quick ? 3 : 20),
    warmup: o.warmup ?? (o.quick ? 1 : 3),
    connections: o.connections,
    rounds: o.rounds ?? (o.quick ? 1 : 4),
    // Always in workload order: the reads run on the seeded data, before the writes change it.
    workloads: WORKLOAD_IDS.filter((w) =>
      o.workloads ? o.workloads.includes(w) : !o.quick || !('quick' in WORKLOADS[w]),
    ),
    logLevel: o.logLevel,
    profile: o.profile,
    checkSql: o.checkSql,
    out: o.out,
    keepDb: o.keepDb,
    apiNodeArgs: o.apiNodeArgs ? o.apiNodeArgs.split(/\s+/).filter(Boolean) : [],
    apiDist: o.apiDist ? path.resolve(o.apiDist) : undefined,
    dbLatencyMs: o.dbLatencyMs ?? 0,
  };
}

function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[bench ${t}] ${message}`);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function environment(dbUrl: string): Promise<Environment> {
  const client = new Client({ connectionString: dbUrl.replace(/\/[^/?]+(\?|$)/, '/postgres$1') });
  await client.connect();
  try {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const settings = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1) ORDER BY name`,
      [
        [
          'shared_buffers',
          'max_connections',
          'synchronous_commit',
          'fsync',
          'work_mem',
          'effective_cache_size',
          'jit',
        ],
      ],
    );
    return {
      date: new Date().toISOString(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: version.rows[0].server_version,
      postgresSettings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
      gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
      // The bench's own output does not count: short runs right after a full run are still clean.
      gitDirty:
        git([
          'status',
          '--porcelain',
          '--untracked-files=no',
          '--',
          '.',
          ':(exclude)bench/results.json',
          ':(exclude)bench/results.md',
        ]) !== '',
      loadAverageBefore: os.loadavg(),
    };
  } finally {
    await client.end();
  }
}

/** CPU time (ms) during a measured round. */
interface CpuSample {
  server: number;
  /** The server's own backends (by application_name). */
  postgres: number;
  /** All of PostgreSQL (postgres-cpu.ts); null where it cannot be read. */
  db: number | null;
  /** Backends of other databases that exited during the round (their CPU is in `db`). */
  dbForeignExited: number;
  load: number;
  proxy: number;
  machineBusy: number;
  machineTotal: number;
}

class CpuTotals implements CpuSample {
  server = 0;
  postgres = 0;
  db: number | null = 0;
  dbForeignExited = 0;
  load = 0;
  proxy = 0;
  machineBusy = 0;
  machineTotal = 0;

  add(sample: CpuSample): void {
    this.server += sample.server;
    this.postgres += sample.postgres;
    this.db = this.db === null || sample.db === null ? null : this.db + sample.db;
    this.dbForeignExited += sample.dbForeignExited;
    this.load += sample.load;
    this.proxy += sample.proxy;
    this.machineBusy += sample.machineBusy;
    this.machineTotal += sample.machineTotal;
  }
}

/** Deterministic shuffle (Fisher-Yates with a seeded LCG). */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

class Bench {
  private readonly dbUrl: string;
  private identity?: BenchIdentity;
  private tokens: Record<string, string> = {};
  private servers: Partial<Record<Target, Server>> = {};
  private db?: Client;
  private readonly runs: RunRecord[] = [];
  private readonly failures: string[] = [];
  private readonly seedInfo: Record<string, unknown> = {};
  /** RSS of each server right after start-up, before any load. */
  private readonly startupRss: { tasks: number; taskflowMb: number; baselineMb: number }[] = [];
  private data?: WorkloadData;
  private tasks = 0;
  private postgresCpu?: PostgresCpu | { unavailable: string };
  /** --db-latency-ms: the proxy, and the URL the servers reach PostgreSQL by through it. */
  private proxy?: DbProxy;
  private serverDbUrl?: string;
  private proxyInfo?: ProxyInfo;
  private readonly plans: RequestPlans[] = [];

  constructor(private readonly options: Options) {
    this.dbUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_DB_URL;
    const name = decodeURIComponent(new URL(this.dbUrl).pathname.slice(1));
    if (!/^taskflow_bench/.test(name)) {
      throw new Error(
        `BENCH_DATABASE_URL must name a database starting with taskflow_bench (it is dropped and recreated), not "${name}"`,
      );
    }
  }

  async run(): Promise<number> {
    const o = this.options;
    mkdirSync(OUT_DIR, { recursive: true });
    snapshotDist(path.join(OUT_DIR, `dist-${process.pid}`));
    const env = await environment(this.dbUrl);
    if (env.loadAverageBefore[0] > env.cores * 0.5) {
      log(
        `WARNING: load average is ${env.loadAverageBefore[0].toFixed(2)} on ${env.cores} cores: something else is running, the numbers will be noisy`,
      );
    }
    this.identity = await BenchIdentity.start();
    this.tokens = await this.identity.tokens(USERS);

    await this.prepareDatabase(o.tasks, 'main');
    // Before anything is measured: does the baseline still send exactly TaskFlow's SQL? (Not
    // asked of another build, which sends its own.)
    const sqlOk = o.apiDist ? true : await this.checkSql();
    if (o.checkSql || !sqlOk) {
      await this.db?.end();
      this.db = undefined;
      if (!o.keepDb) await this.dropDatabase();
      if (!sqlOk) log('the baseline no longer mirrors TaskFlow: update bench/baseline-server.ts');
      return sqlOk ? 0 : 1;
    }

    await this.serve();
    for (const workload of o.workloads) await this.measure(workload, 'main');

    if (o.dbLatencyMs > 0) {
      // The same workloads again, with PostgreSQL one (simulated) network hop away.
      await this.stopServers();
      await this.startProxy();
      await this.serve();
      for (const workload of o.workloads) await this.measure(workload, 'proxied');
      await this.stopServers();
      await this.stopProxy();
    }

    const growth = o.workloads.filter((w) => 'growth' in WORKLOADS[w]);
    if (!o.skipGrowth && growth.length > 0) {
      await this.stopServers();
      await this.prepareDatabase(o.growthTasks, 'growth');
      if (!o.apiDist) await this.plansOnce('growth');
      await this.startServers();
      if (!o.apiDist) await this.parityCheck(['list']);
      for (const workload of growth) await this.measure(workload, 'growth');
    }
    await this.stopServers();
    await this.db?.end();
    this.db = undefined;
    if (!o.keepDb) await this.dropDatabase();

    env.loadAverageAfter = os.loadavg();
    const settings: Settings = {
      label: [
        o.quick ? 'quick' : 'full',
        o.profile ? 'under the CPU profiler' : '',
        !o.quick && o.skipGrowth ? 'no growth phase' : '',
        o.logLevel !== 'info' ? `LOG_LEVEL=${o.logLevel}` : '',
        o.apiNodeArgs.length ? `node ${o.apiNodeArgs.join(' ')}` : '',
        o.apiDist ? `TaskFlow from ${o.apiDist}` : '',
        o.dbLatencyMs ? `direct and with PostgreSQL ${o.dbLatencyMs} ms away each way` : '',
      ]
        .filter(Boolean)
        .join(', '),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      tasks: o.tasks,
      growthTasks: o.skipGrowth ? null : o.growthTasks,
      durationS: o.duration,
      warmupS: o.warmup,
      connections: o.connections,
      rounds: o.rounds,
      logLevel: o.logLevel,
      profile: o.profile,
      apiNodeArgs: o.apiNodeArgs,
      dbPoolSize: loadConfig({}).database.poolSize,
      dbLatencyMs: o.dbLatencyMs || null,
    };
    const results = computeResults(
      settings,
      env,
      this.seedInfo,
      this.startupRss,
      this.runs,
      this.failures,
      {
        plans: this.plans,
        proxy: this.proxyInfo,
        postgresCpu:
          this.postgresCpu instanceof PostgresCpu
            ? `postmaster pid ${this.postgresCpu.postmasterPid}`
            : (this.postgresCpu?.unavailable ?? 'not located'),
      },
    );
    const prefix = path.resolve(o.out ?? this.defaultOut());
    mkdirSync(path.dirname(prefix), { recursive: true });
    const files = await writeResults(results, prefix);
    console.log(`\n${consoleTable(results)}\n`);
    log(`wrote ${files.join(' and ')}`);
    return results.failures.length ? 1 : 0;
  }

  private defaultOut(): string {
    const o = this.options;
    if (o.profile) return path.join(OUT_DIR, 'results-profile');
    if (o.quick) return path.join(OUT_DIR, 'results-quick');
    if (o.logLevel !== 'info') return path.join(OUT_DIR, `results-log-${o.logLevel}`);
    if (o.apiNodeArgs.length) return path.join(OUT_DIR, 'results-node-args');
    if (o.apiDist) return path.join(OUT_DIR, 'results-api-dist');
    return path.join(ROOT_DIR, 'bench', 'results');
  }

  private get dbConfig() {
    return loadConfig({ DATABASE_URL: this.dbUrl }).database;
  }

  private async prepareDatabase(tasks: number, phase: 'main' | 'growth'): Promise<void> {
    await this.db?.end();
    this.db = undefined;
    log(
      `database taskflow_bench: recreating, migrating and seeding ${tasks.toLocaleString()} tasks`,
    );
    const started = Date.now();
    await recreateDatabase(this.dbConfig);
    await runMigrations(this.dbConfig);
    const stats: SeedStats = await seed(this.dbUrl, {
      tasks,
      users: USERS,
      agents: AGENTS,
      registeredHumans: HUMANS.slice(0, 5),
      log: (m) => log(`  seed: ${m}`),
    });
    this.data = await readWorkloadData(this.dbUrl, USERS);
    this.tasks = tasks;
    this.seedInfo[phase] = { ...stats, totalSeconds: (Date.now() - started) / 1000 };
    log(
      `  ${stats.tasks.toLocaleString()} tasks in ${stats.projects.toLocaleString()} projects (${JSON.stringify(stats.byStatus)}), ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    );
    this.db = new Client({ connectionString: this.dbUrl, application_name: 'taskflow-bench-run' });
    await this.db.connect();
    const hadPostgresCpu = this.postgresCpu;
    this.postgresCpu = await PostgresCpu.locate(this.db);
    if (!(this.postgresCpu instanceof PostgresCpu) && !hadPostgresCpu) {
      log(`PostgreSQL's CPU per request will not be measured: ${this.postgresCpu.unavailable}`);
    }
  }

  private async dropDatabase(): Promise<void> {
    const url = new URL(this.dbUrl);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = '/postgres';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }

  // --- servers ---------------------------------------------------------------------------

  private serverEnv(port: number): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of TASKFLOW_VARIABLES) delete env[key];
    return {
      ...env,
      NODE_ENV: 'production',
      NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: this.serverDbUrl ?? this.dbUrl,
      JWKS_URL: this.identity!.jwksUrl,
      JWT_ISSUER: this.identity!.issuer,
      JWT_AUDIENCE: this.identity!.audience,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: this.options.logLevel,
    };
  }

  private async startServer(
    target: Target,
    extra: { profileName?: string; preload?: string; traceFile?: string } = {},
  ): Promise<Server> {
    const port = await freePort();
    const nodeArgs: string[] = [];
    let script: string;
    if (target === 'taskflow') {
      script = this.options.apiDist
        ? path.join(this.options.apiDist, 'src', 'main.js')
        : distPath('src', 'main.js');
    } else {
      const baseline = benchScript('baseline-server');
      script = baseline.file;
      nodeArgs.push(...baseline.execArgv);
    }
    if (extra.profileName) {
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', OUT_DIR, '--cpu-prof-name', extra.profileName);
    }
    if (extra.preload) nodeArgs.push('--require', extra.preload);
    if (target === 'taskflow') nodeArgs.push(...API_NODE_ARGS, ...this.options.apiNodeArgs);
    const env = this.serverEnv(port);
    if (extra.traceFile) {
      env.BENCH_SQL_TRACE = extra.traceFile;
      // The check compares each request's SQL: the timers that read the table by themselves
      // (webhook delivery, the event feed's safety-net poll) would land in random requests.
      env.WEBHOOK_POLL_INTERVAL_MS = '0';
      env.EVENTS_POLL_SECONDS = '300';
    }
    const server = await startServer({
      name: target === 'taskflow' ? 'TaskFlow API' : 'baseline',
      script,
      nodeArgs,
      env,
      port,
      readyPath: target === 'taskflow' ? '/api/health/db' : '/health',
      logFile: path.join(OUT_DIR, `${target}${extra.profileName ? '-profiled' : ''}.log`),
    });
    this.servers[target] = server;
    return server;
  }

  private async startServers(): Promise<void> {
    const [api, baseline] = await Promise.all([
      this.startServer('taskflow'),
      this.startServer('baseline'),
    ]);
    const rss = (server: Server) => Math.round((memoryMb(server.pid)?.rss ?? 0) * 10) / 10;
    this.startupRss.push({ tasks: this.tasks, taskflowMb: rss(api), baselineMb: rss(baseline) });
    log(
      `TaskFlow API pid ${api.pid} at ${api.url} (LOG_LEVEL=${this.options.logLevel}, log: ${path.relative(ROOT_DIR, api.logFile)}); baseline pid ${baseline.pid} at ${baseline.url}`,
    );
  }

  private async stopServers(): Promise<void> {
    await Promise.all([stopServer(this.servers.taskflow), stopServer(this.servers.baseline)]);
    this.servers = {};
  }

  /** Both servers up and answering alike; under the profiler, down again (see `measure`). */
  private async serve(): Promise<void> {
    await this.startServers();
    if (!this.options.apiDist) await this.parityCheck();
    // Under the profiler each server is restarted per workload, so its profile is that workload's.
    if (this.options.profile) await this.stopServers();
  }

  /** --db-latency-ms: the proxy on loopback, and both servers' DATABASE_URL through it. */
  private async startProxy(): Promise<void> {
    const url = new URL(this.dbUrl);
    if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
      throw new Error(
        `--db-latency-ms needs PostgreSQL on 127.0.0.1 (the proxy stays on loopback), not ${url.hostname}`,
      );
    }
    const delayMs = this.options.dbLatencyMs;
    this.proxy = await startDbProxy(Number(url.port || 5432), delayMs);
    url.hostname = '127.0.0.1';
    url.port = String(this.proxy.port);
    this.serverDbUrl = url.toString();
    const roundTripMs = {
      direct: await medianRoundTripMs(this.dbUrl),
      proxied: await medianRoundTripMs(this.serverDbUrl),
    };
    this.proxyInfo = { delayMs, roundTripMs };
    log(
      `PostgreSQL through a proxy (pid ${this.proxy.pid}, port ${this.proxy.port}) adding ${delayMs} ms each way: SELECT 1 round trip ${roundTripMs.direct} ms direct, ${roundTripMs.proxied} ms through it`,
    );
  }

  private async stopProxy(): Promise<void> {
    await this.proxy?.stop();
    this.proxy = undefined;
    this.serverDbUrl = undefined;
  }

  // --- parity: both servers answer alike ----------------------------------------------------

  private async request(
    target: Target,
    method: 'GET' | 'POST',
    pathAndQuery: string,
    user: string,
  ): Promise<{ status: number; body: string; total: string | null }> {
    const server = this.servers[target]!;
    const response = await fetch(`${server.url}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${this.tokens[user]}` },
    });
    return {
      status: response.status,
      body: await response.text(),
      total: response.headers.get('x-total-count'),
    };
  }

  /** Requests that exercise each mirrored route and its branches (the COUNT, 404, 403). */
  private async parityCases(): Promise<
    { name: string; method: 'GET' | 'POST'; path: string; user: string; volatile?: string[] }[]
  > {
    const data = this.data!;
    const db = this.db!;
    const sizes = await db.query<{ project_slug: string; n: string }>(
      `SELECT project_slug, count(*) AS n FROM tasks WHERE status = 'in_progress'
        GROUP BY 1 ORDER BY count(*) DESC, 1`,
    );
    const full = sizes.rows[0];
    const small = sizes.rows[sizes.rows.length - 1];
    const listPath = (p: string) =>
      `/api/tasks?project=${encodeURIComponent(p)}&status=in_progress&sort=-updated_at&limit=50`;
    const [taskId, assignee] = data.inProgress[Math.floor(data.inProgress.length / 2)];
    const stranger = USERS.find((u) => u !== assignee)!;
    return [
      { name: 'get: first task', method: 'GET', path: '/api/tasks/1', user: USERS[0] },
      {
        name: 'get: last seeded task',
        method: 'GET',
        path: `/api/tasks/${data.maxSeededId}`,
        user: USERS[1],
      },
      {
        name: 'get: missing (404)',
        method: 'GET',
        path: `/api/tasks/${data.maxSeededId + 10_000_000}`,
        user: USERS[2],
      },
      {
        name: `list: full page (${full.n} in_progress, so a COUNT)`,
        method: 'GET',
        path: listPath(full.project_slug),
        user: USERS[3],
      },
      {
        name: `list: short page (${small.n} in_progress, no COUNT)`,
        method: 'GET',
        path: listPath(small.project_slug),
        user: USERS[4],
      },
      {
        name: 'progress: by the assignee',
        method: 'POST',
        path: `/api/tasks/${taskId}/progress?percent=37`,
        user: assignee,
        // Both servers write the same row, one after the other: each write moves these on.
        volatile: ['updated_at', 'version'],
      },
      {
        name: 'progress: by someone else (403)',
        method: 'POST',
        path: `/api/tasks/${taskId}/progress?percent=38`,
        user: stranger,
      },
    ];
  }

  /**
   * Sends each case to TaskFlow, then to the baseline, and compares status, body (minus
   * `updated_at` and `version` where a write sets them) and X-Total-Count; with `traces`, the
   * SQL too.
   */
  private async parityCheck(
    only?: WorkloadId[],
    traces?: Record<Target, { file: string; offset: number }>,
  ): Promise<string[]> {
    const cases = (await this.parityCases()).filter(
      (c) => !only || only.some((w) => c.name.startsWith(`${w}:`)),
    );
    const mismatches: string[] = [];
    const report: string[] = [];
    // Compared parsed: TaskFlow writes keys in the contract's order (its compiled serializers),
    // the baseline in the table's; the same JSON either way.
    const strip = (body: string, volatile: string[] = []): unknown => {
      try {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        for (const key of volatile) delete parsed[key];
        return parsed;
      } catch {
        return body;
      }
    };
    for (const c of cases) {
      const tf = await this.request('taskflow', c.method, c.path, c.user);
      const tfSql = traces ? readTrace(traces.taskflow) : [];
      const base = await this.request('baseline', c.method, c.path, c.user);
      const baseSql = traces ? readTrace(traces.baseline) : [];
      const problems: string[] = [];
      if (tf.status !== base.status) problems.push(`status ${tf.status} vs ${base.status}`);
      if (!isDeepStrictEqual(strip(tf.body, c.volatile), strip(base.body, c.volatile))) {
        problems.push(
          `body\n    TaskFlow: ${tf.body.slice(0, 400)}\n    baseline: ${base.body.slice(0, 400)}`,
        );
      }
      if (tf.total !== base.total) problems.push(`X-Total-Count ${tf.total} vs ${base.total}`);
      if (traces) {
        const a = tfSql.map((s) => JSON.stringify(s));
        const b = baseSql.map((s) => JSON.stringify(s));
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          problems.push(
            `SQL differs\n    TaskFlow: ${JSON.stringify(a)}\n    baseline: ${JSON.stringify(b)}`,
          );
        }
        report.push(
          `### ${c.method} ${c.path.replace(/\?.*/, (q) => q)} — ${c.name}`,
          '',
          `TaskFlow ${tf.status}, baseline ${base.status}; ${a.length} statements, ${JSON.stringify(a) === JSON.stringify(b) ? 'identical' : '**different**'}:`,
          '',
          '```sql',
          ...tfSql.map((s) => `${s.text};  -- ${JSON.stringify(s.params)}`),
          '```',
          '',
        );
      }
      if (c.name.startsWith('progress: by the assignee')) {
        // Both appended an audit entry; it must say the same thing.
        const entries = await this.db!.query<{ row: string }>(
          `SELECT row_to_json(x)::text AS row FROM (
             SELECT task_id, project_slug, actor_id, actor_type, action, context FROM audit_entries
              WHERE task_id = $1 ORDER BY id DESC LIMIT 2) x`,
          [Number(/tasks\/(\d+)/.exec(c.path)![1])],
        );
        if (entries.rows.length !== 2 || entries.rows[0].row !== entries.rows[1].row) {
          problems.push(`audit entries differ: ${entries.rows.map((r) => r.row).join(' vs ')}`);
        }
      }
      if (problems.length) mismatches.push(`${c.name}: ${problems.join('; ')}`);
    }
    if (mismatches.length) {
      for (const m of mismatches) log(`PARITY MISMATCH ${m}`);
      if (!traces) {
        throw new Error(
          'TaskFlow and the baseline answer differently; the comparison would be unfair',
        );
      }
    } else if (!traces) {
      log(`parity: TaskFlow and the baseline answer alike (${cases.length} cases)`);
    }
    if (traces) {
      this.failures.push(...mismatches);
      return report;
    }
    return [];
  }

  /**
   * Traces the SQL of every parity case on both servers (started for this with the sql-trace
   * preload, then stopped) and compares it. Every run does this first; --check-sql only this.
   */
  private async checkSql(): Promise<boolean> {
    const traces = {
      taskflow: await this.startTraced('taskflow'),
      baseline: await this.startTraced('baseline'),
    };
    let report: string[] = [];
    try {
      report = await this.parityCheck(undefined, traces);
      if (!this.failures.length && !this.options.checkSql) {
        await this.capturePlans('main', traces.taskflow);
      }
    } finally {
      await this.stopServers();
    }
    const file = path.join(OUT_DIR, 'sql-check.md');
    writeFileSync(
      file,
      ['# SQL sent by TaskFlow (and, identically, by the baseline) per route', '', ...report].join(
        '\n',
      ),
    );
    if (this.failures.length) {
      log(
        `SQL CHECK FAILED: ${this.failures.length} case(s) differ; see ${path.relative(ROOT_DIR, file)}`,
      );
      return false;
    }
    log(
      `SQL check: both servers send the same statements for every case (${path.relative(ROOT_DIR, file)})`,
    );
    return true;
  }

  /** A server started with the SQL trace preload, and its trace past the start-up statements. */
  private async startTraced(target: Target): Promise<{ file: string; offset: number }> {
    const file = path.join(OUT_DIR, `sql-trace-${target}.jsonl`);
    writeFileSync(file, '');
    await this.startServer(target, { preload: benchScript('sql-trace').file, traceFile: file });
    return { file, offset: statSync(file).size };
  }

  /** The plans at this size, from a traced TaskFlow started for them (the growth phase). */
  private async plansOnce(phase: 'main' | 'growth'): Promise<void> {
    const trace = await this.startTraced('taskflow');
    try {
      await this.capturePlans(phase, trace);
    } finally {
      await this.stopServers();
    }
  }

  /**
   * EXPLAIN (ANALYZE, BUFFERS) of what TaskFlow sends for the hot requests (get, the default
   * list, the pending filter, a progress report), as traced: whatever the list code becomes,
   * these are its statements, not a copy of them.
   */
  private async capturePlans(
    phase: 'main' | 'growth',
    trace: { file: string; offset: number },
  ): Promise<void> {
    const [taskId, assignee] = this.writesTasks()[0];
    const requests: { name: string; method: 'GET' | 'POST'; path: string }[] = [
      { name: 'get', method: 'GET', path: `/api/tasks/${taskId}` },
      { name: 'list, default', method: 'GET', path: '/api/tasks?limit=50' },
      { name: 'list, status=pending', method: 'GET', path: '/api/tasks?status=pending&limit=50' },
      { name: 'progress', method: 'POST', path: `/api/tasks/${taskId}/progress?percent=42` },
    ];
    for (const r of requests) {
      const answer = await this.request('taskflow', r.method, r.path, assignee);
      const statements = await explainStatements(this.db!, readTrace(trace));
      this.plans.push({
        phase,
        tasks: this.tasks,
        name: r.name,
        request: `${r.method} ${r.path}`,
        status: answer.status,
        statements,
      });
    }
    const total = (name: string) =>
      executionMs(this.plans.find((p) => p.phase === phase && p.name === name)!).toFixed(2);
    log(
      `plans at ${this.tasks.toLocaleString()} tasks: ${requests.map((r) => `${r.name} ${total(r.name)} ms`).join(', ')}`,
    );
  }

  /** The writes workload's tasks: in_progress ones of the bench user who holds the most. */
  private writesTasks(): [number, string][] {
    const byUser = new Map<string, [number, string][]>();
    for (const task of this.data!.inProgress) {
      byUser.set(task[1], [...(byUser.get(task[1]) ?? []), task]);
    }
    const most = [...byUser.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    return most.slice(0, WRITES_TASKS);
  }

  // --- measuring ---------------------------------------------------------------------------

  /** Vacuum and checkpoint between runs, so that each one starts from the same kind of state. */
  private async settle(): Promise<void> {
    await this.db!.query('VACUUM (ANALYZE) tasks, audit_entries');
    // Needs superuser (or pg_checkpoint); without it, a checkpoint may land in a run.
    await this.db!.query('CHECKPOINT').catch(() => undefined);
  }

  private async pendingIdsFor(): Promise<number[]> {
    const o = this.options;
    const db = this.db!;
    const pending = await db.query<{ id: number }>(
      `SELECT id FROM tasks WHERE status = 'pending' ORDER BY id`,
    );
    let ids = pending.rows.map((r) => r.id);
    // Enough distinct ids for warm-up and measurement at 1.5 times the fastest TaskFlow write
    // rate seen so far in this run (3000/s when no write workload ran before).
    const writeRates = this.runs
      .filter((r) => r.target === 'taskflow' && WORKLOADS[r.workload].kind === 'write')
      .map((r) => r.rps);
    const rate = writeRates.length ? Math.max(...writeRates) : 3000;
    const needed = Math.ceil(rate * 1.5 * (o.duration + o.warmup)) + 4 * o.connections;
    if (ids.length < needed) {
      const extra = needed - ids.length;
      log(
        `  workload 5: adding ${extra.toLocaleString()} pending tasks (${ids.length.toLocaleString()} exist)`,
      );
      const added = await addPendingTasks(this.dbUrl, extra, this.data!.projects.length, USERS);
      ids = ids.concat(added);
      this.seedInfo.workload5ExtraPending = extra;
    }
    return shuffle(ids, 7);
  }

  /**
   * Measures a workload against its targets, at each of its connection counts. With two
   * targets, they alternate in rounds (TaskFlow, baseline, TaskFlow, baseline…; each round a
   * fresh load generator, the first one after the warm-up), so that whatever else the machine
   * does meanwhile weighs on both alike.
   */
  private async measure(workload: WorkloadId, phase: Phase): Promise<void> {
    const o = this.options;
    const targets: Target[] = WORKLOADS[workload].baseline
      ? ['taskflow', 'baseline']
      : ['taskflow'];
    const profileNames: Partial<Record<Target, string>> = {};
    if (o.profile) {
      for (const target of targets) {
        profileNames[target] = `${target}-w${WORKLOADS[workload].n}-${workload}.cpuprofile`;
        await this.startServer(target, { profileName: profileNames[target] });
      }
    }
    const definition: { n: number; connections?: readonly number[] } = WORKLOADS[workload];
    // --quick is a smoke test: one connection count each.
    const counts = (definition.connections ?? [o.connections]).slice(0, o.quick ? 1 : undefined);
    const records: Partial<Record<Target, RunRecord>> = {};
    for (const connections of counts) {
      for (const record of await this.measureAt(workload, phase, targets, connections)) {
        records[record.target] = record;
      }
    }
    // Under the profiler, the profile covers every connection count; summed up over the last.
    for (const target of targets) {
      const profileName = profileNames[target];
      const record = records[target];
      if (!profileName || !record) continue;
      await stopServer(this.servers[target]);
      delete this.servers[target];
      const file = path.join(OUT_DIR, profileName);
      record.profileFile = path.relative(ROOT_DIR, file);
      record.profile = summarizeProfile(file, {
        windowsUs: record.windowsUs,
        requests: record.requests,
      });
    }
  }

  private async measureAt(
    workload: WorkloadId,
    phase: Phase,
    targets: Target[],
    connections: number,
  ): Promise<RunRecord[]> {
    const o = this.options;
    const data = this.data!;
    await this.settle();
    // start takes one fresh pending task per request; claim-next needs as many to claim.
    const pending = workload === 'start' || workload === 'claim' ? await this.pendingIdsFor() : [];
    const rounds = targets.length > 1 ? Math.max(1, Math.min(o.rounds, Math.floor(o.duration))) : 1;
    const where =
      phase === 'growth'
        ? `[${this.tasks.toLocaleString()} tasks] `
        : phase === 'proxied'
          ? `[PostgreSQL +${o.dbLatencyMs} ms each way] `
          : '';
    log(
      `${where}workload ${WORKLOADS[workload].n} (${workload}) on ${targets.join(' and ')}: ${o.warmup} s warm-up + ${o.duration} s${rounds > 1 ? ` in ${rounds} alternating rounds` : ''}, ${connections} connections`,
    );
    const inProgress =
      workload === 'progress' ? data.inProgress : workload === 'writes' ? this.writesTasks() : [];

    const acc = Object.fromEntries(
      targets.map((t) => [t, { rounds: [] as RoundResult[], cpu: new CpuTotals(), rss: 0 }]),
    ) as Record<Target, { rounds: RoundResult[]; cpu: CpuTotals; rss: number }>;
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        const server = this.servers[target]!;
        const spec: LoadSpec = {
          target,
          workload,
          baseUrl: server.url,
          connections,
          durationS: o.duration / rounds,
          warmupS: round === 0 ? o.warmup : 0,
          tokens: this.tokens,
          seed: 1000 * WORKLOADS[workload].n + 10 * round + (target === 'taskflow' ? 1 : 2),
          maxTaskId: data.maxSeededId,
          projects: data.projects,
          inProgress,
          pending,
        };
        const { result, cpu, rssPeakMb } = await this.round(spec, server);
        acc[target].rounds.push(result);
        acc[target].cpu.add(cpu);
        acc[target].rss = Math.max(acc[target].rss, rssPeakMb);
      }
    }

    return targets.map((target) => {
      const server = this.servers[target]!;
      const { rounds: done, cpu, rss } = acc[target];
      const result = summarizeRounds(target, workload, done);
      const perRequest = (ms: number) =>
        result.requests > 0 ? Math.round((ms * 1000) / result.requests) : 0;
      const pctOf = (ms: number) =>
        Math.max(0, Math.round((ms / Math.max(1, cpu.machineTotal)) * 1000) / 10);
      const record: RunRecord = {
        ...result,
        phase,
        tasks: this.tasks,
        connections,
        dbLatencyMs: phase === 'proxied' ? o.dbLatencyMs : 0,
        serverRssPeakMb: Math.round(rss * 10) / 10,
        serverHwmMb: Math.round((memoryMb(server.pid)?.hwm ?? 0) * 10) / 10,
        cpu: {
          serverUsPerRequest: perRequest(cpu.server),
          postgresUsPerRequest: perRequest(cpu.postgres),
          dbUsPerRequest: cpu.db === null ? null : perRequest(cpu.db),
          dbForeignExited: cpu.dbForeignExited,
          loadUsPerRequest: perRequest(cpu.load),
          proxyUsPerRequest: phase === 'proxied' ? perRequest(cpu.proxy) : undefined,
          machineBusyPct: pctOf(cpu.machineBusy),
          othersBusyPct: pctOf(
            cpu.machineBusy - cpu.server - (cpu.db ?? cpu.postgres) - cpu.load - cpu.proxy,
          ),
        },
      };
      this.runs.push(record);
      const bad = record.errors + record.timeouts + record.non2xx;
      const paging = record.paging ? `; ${pagingLabel(record.paging)}` : '';
      log(
        `  ${target}: ${record.rps.toLocaleString()} req/s, p50 ${record.latencyMs.p50} ms, p99 ${record.latencyMs.p99} ms, ${record.requests.toLocaleString()} requests${bad ? `, ${bad} FAILED (${JSON.stringify(record.statusCounts)}, ${record.errors} errors, ${record.timeouts} timeouts)` : ''}; server ${record.cpu.serverUsPerRequest} µs CPU/req, PostgreSQL ${record.cpu.dbUsPerRequest ?? '?'} µs/req (its backends ${record.cpu.postgresUsPerRequest}); RSS ${record.serverHwmMb} MB; others ${record.cpu.othersBusyPct} %${record.stoppedEarly ? '; ran out of pending ids' : ''}${paging}`,
      );
      return record;
    });
  }

  /** One round against one server, with its CPU time, its backends' and the load generator's. */
  private async round(
    spec: LoadSpec,
    server: Server,
  ): Promise<{ result: RoundResult; cpu: CpuSample; rssPeakMb: number }> {
    const appName = spec.target === 'taskflow' ? 'taskflow-api' : 'taskflow-bench-baseline';
    const sampler = new RssSampler();
    let loadPid = 0;
    type Edge = Pick<CpuSample, 'server' | 'load' | 'proxy' | 'machineBusy' | 'machineTotal'> & {
      db?: Promise<PostgresCpuSample>;
    };
    let start: (Edge & { backends: Promise<{ pids: number[]; ms: number }> }) | undefined;
    let end: Edge | undefined;
    const postgresCpu = this.postgresCpu instanceof PostgresCpu ? this.postgresCpu : undefined;
    // PostgreSQL's /proc first: it is read at once, the rest of `sample` answers later.
    const read = (): Edge => {
      const db = postgresCpu?.sample();
      const machine = machineCpu();
      return {
        db,
        server: cpuMs(server.pid) ?? 0,
        load: cpuMs(loadPid) ?? 0,
        proxy: this.proxy ? (cpuMs(this.proxy.pid) ?? 0) : 0,
        machineBusy: machine.busy,
        machineTotal: machine.total,
      };
    };
    const result = await runLoad(spec, {
      onStart: (pid) => {
        loadPid = pid;
      },
      onMeasure: () => {
        sampler.start([server.pid]);
        start = {
          ...read(),
          backends: this.db!.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
            [appName],
          ).then((r) => {
            const pids = r.rows.map((row) => row.pid);
            return { pids, ms: pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0) };
          }),
        };
      },
      onDone: () => {
        sampler.stop();
        end = read();
      },
    });
    // The backends' CPU at the start is read a moment late (once the query has named them): a
    // millisecond against seconds of measurement.
    const backends = await start!.backends;
    const pgAtEnd = backends.pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
    const db = start!.db && end!.db ? PostgresCpu.delta(await start!.db, await end!.db) : undefined;
    return {
      result,
      cpu: {
        server: end!.server - start!.server,
        load: end!.load - start!.load,
        proxy: end!.proxy - start!.proxy,
        machineBusy: end!.machineBusy - start!.machineBusy,
        machineTotal: end!.machineTotal - start!.machineTotal,
        postgres: pgAtEnd - backends.ms,
        db: db?.ms ?? null,
        dbForeignExited: db?.foreignExited ?? 0,
      },
      rssPeakMb: sampler.peakMb.get(server.pid) ?? 0,
    };
  }

  async cleanup(): Promise<void> {
    await this.stopServers().catch(() => undefined);
    await this.stopProxy().catch(() => undefined);
    await this.db?.end().catch(() => undefined);
    await this.identity?.stop().catch(() => undefined);
    // Its own database only, and only if it was not asked to keep it (also after a failure).
    if (!this.options.keepDb) await this.dropDatabase().catch(() => undefined);
    removeDistSnapshot();
  }
}

/** The median round trip of `SELECT 1` on a fresh connection, ms (what the proxy adds). */
async function medianRoundTripMs(url: string): Promise<number> {
  const client = new Client({ connectionString: url, application_name: 'taskflow-bench-run' });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < 220; i++) {
      const started = performance.now();
      await client.query('SELECT 1');
      if (i >= 20) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return Math.round(times[times.length >> 1] * 100) / 100;
  } finally {
    await client.end();
  }
}

function readTrace(trace: { file: string; offset: number }): { text: string; params: unknown[] }[] {
  const content = readFileSync(trace.file);
  const fresh = content.subarray(trace.offset).toString('utf8');
  trace.offset = content.length;
  return fresh
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      // Names differ between processes (list statements are numbered as first used): not SQL.
      const { text, params } = JSON.parse(l) as { text: string; params: unknown[] };
      return { text, params };
    });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const bench = new Bench(options);
  process.on('exit', () => {
    killAllChildren();
    removeDistSnapshot();
  });
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping the servers`);
      void bench.cleanup().finally(() => process.exit(130));
    });
  }
  let code = 1;
  try {
    code = await bench.run();
  } catch (error) {
    if (!interrupted)
      console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    code = 1;
  } finally {
    await bench.cleanup();
  }
  process.exit(code);
}

void main();
