import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { LoadMessage, LoadSpec, RoundResult } from './protocol';

/**
 * Child processes of the bench (the API, the baseline, the load generators): started here,
 * tracked, and always stopped, on success, on failure and on Ctrl-C, so that no run leaves
 * orphans behind. Also the /proc readers for memory and CPU.
 */

/** The bench folder at run time: dist/bench when compiled, bench/ under ts-node. */
export const BENCH_DIR = __dirname;
/** The repository root (dist/bench/.. /.. when compiled). */
export const ROOT_DIR =
  path.basename(path.dirname(__dirname)) === 'dist'
    ? path.resolve(__dirname, '..', '..')
    : path.resolve(__dirname, '..');
const RUNNING_TS = path.extname(__filename) === '.ts';

/** Where the compiled code is run from: dist/, or the run's private copy of it. */
let distDir = path.join(ROOT_DIR, 'dist');

/** A path in the compiled code the servers run (see `snapshotDist`). */
export const distPath = (...parts: string[]): string => path.join(distDir, ...parts);

/**
 * Copies dist/ (under 2 MB) into `into`, and runs TaskFlow, the baseline and the load generator
 * from the copy. `nest build` wipes dist/ first, and other people build in this working tree: a
 * build in the middle of a run would otherwise pull the files from under it. The copy stays
 * inside the repository so that node_modules still resolves.
 */
export function snapshotDist(into: string): string {
  const source = path.join(ROOT_DIR, 'dist');
  rmSync(into, { recursive: true, force: true });
  cpSync(source, into, {
    recursive: true,
    filter: (file) => !file.endsWith('.tsbuildinfo'),
  });
  for (const file of [
    'src/main.js',
    'bench/load.js',
    'bench/baseline-server.js',
    'bench/db-proxy.js',
  ]) {
    if (!existsSync(path.join(into, file))) {
      throw new Error(
        `dist/${file} is missing: build first (npm run build; npm run bench does), and not while another build runs`,
      );
    }
  }
  distDir = into;
  return into;
}

export function removeDistSnapshot(): void {
  if (distDir !== path.join(ROOT_DIR, 'dist')) rmSync(distDir, { recursive: true, force: true });
}

/** How to run one of the bench's own scripts (compiled, or through ts-node). */
export function benchScript(name: string): { file: string; execArgv: string[] } {
  return RUNNING_TS
    ? {
        file: path.join(BENCH_DIR, `${name}.ts`),
        execArgv: ['--require', 'ts-node/register/transpile-only'],
      }
    : { file: distPath('bench', `${name}.js`), execArgv: [] };
}

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Last resort, synchronous (process 'exit'): kill whatever is still running. */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Server {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  logFile: string;
}

export interface StartOptions {
  name: string;
  /** The script and node options. */
  script: string;
  nodeArgs?: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** A path answering 200 once the server can serve. */
  readyPath: string;
  logFile: string;
  readyTimeoutMs?: number;
}

export async function startServer(options: StartOptions): Promise<Server> {
  const log = openSync(options.logFile, 'w');
  let child: ChildProcess;
  try {
    child = track(
      spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
        cwd: ROOT_DIR,
        env: options.env,
        stdio: ['ignore', log, log],
      }),
    );
  } finally {
    closeSync(log);
  }
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${options.name} exited during start-up (code ${child.exitCode}); see ${options.logFile}:\n${tail(options.logFile)}`,
      );
    }
    try {
      const response = await fetch(`${url}${options.readyPath}`, {
        signal: AbortSignal.timeout(1000),
      });
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} not ready after ${options.readyTimeoutMs ?? 30_000} ms`);
    }
    await sleep(100);
  }
  return { name: options.name, child, pid: child.pid!, url, logFile: options.logFile };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM (TaskFlow drains and exits 0, which is when --cpu-prof writes), SIGKILL after `ms`. */
export async function stopServer(server: Server | undefined, ms = 15_000): Promise<void> {
  if (!server) return;
  const child = server.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** VmRSS / VmHWM of a process, in MB (undefined once it is gone). */
export function memoryMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** A process's parent and CPU times (ms) from /proc/<pid>/stat; undefined once it is gone. */
export function procStat(
  pid: number,
): { ppid: number; cpuMs: number; reapedChildrenMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (a: number, b: number) =>
      ((Number(fields[a]) + Number(fields[b])) * 1000) / ticksPerSecond();
    // utime + stime; cutime + cstime: the children it has waited for (they exited).
    return { ppid: Number(fields[1]), cpuMs: ms(11, 12), reapedChildrenMs: ms(13, 14) };
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number | undefined {
  return procStat(pid)?.cpuMs;
}

/** CPU time (ms) of every live child of `parent`, by pid: one pass over /proc. */
export function childrenCpuMs(parent: number): Map<number, number> {
  const children = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.ppid === parent) children.set(Number(entry), stat.cpuMs);
  }
  return children;
}

/** Machine-wide busy and total CPU time in ms, all cores (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = values[3] + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  const ms = 1000 / ticksPerSecond();
  return { busy: (total - idle) * ms, total: total * ms };
}

/** Samples VmRSS of some processes while a phase runs. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  readonly peakMb = new Map<number, number>();

  start(pids: number[], everyMs = 200): void {
    this.stop();
    const sample = () => {
      for (const pid of pids) {
        const m = memoryMb(pid);
        if (m) this.peakMb.set(pid, Math.max(this.peakMb.get(pid) ?? 0, m.rss));
      }
    };
    sample();
    this.timer = setInterval(sample, everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The `--db-latency-ms` proxy (db-proxy.ts), a child process listening on loopback. */
export interface DbProxy {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export function startDbProxy(postgresPort: number, delayMs: number): Promise<DbProxy> {
  const script = benchScript('db-proxy');
  const child = track(
    fork(script.file, [String(postgresPort), String(delayMs)], {
      cwd: ROOT_DIR,
      execArgv: script.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) =>
      resolve({ pid: child.pid ?? 0, port: message.port, stop }),
    );
    child.once('exit', (code) => reject(new Error(`db-proxy exited during start-up (${code})`)));
  });
}

export interface LoadHooks {
  /** The load generator's pid (its CPU time is measured too). */
  onStart?: (pid: number) => void;
  /** The measured phase starts / ends (RSS and CPU sampling). */
  onMeasure?: () => void;
  onDone?: () => void;
}

/** Runs one round of a workload against a target in a forked load generator. */
export function runLoad(spec: LoadSpec, hooks: LoadHooks = {}): Promise<RoundResult> {
  const script = benchScript('load');
  const child = track(
    fork(script.file, [], {
      cwd: ROOT_DIR,
      execArgv: script.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  hooks.onStart?.(child.pid ?? 0);
  return new Promise((resolve, reject) => {
    let result: RoundResult | undefined;
    let failure: string | undefined;
    child.on('message', (message: LoadMessage) => {
      if (message.type === 'phase' && message.phase === 'measure') hooks.onMeasure?.();
      if (message.type === 'phase' && message.phase === 'done') hooks.onDone?.();
      if (message.type === 'result') result = message.result;
      if (message.type === 'error') failure = message.message;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load generator failed (exit ${code}): ${failure ?? 'no result'}`));
    });
    child.send(spec);
  });
}
