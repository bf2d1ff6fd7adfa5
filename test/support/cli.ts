import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The `taskflow` CLI as a user runs it: a separate node process talking HTTP to a listening API.
 * No build is needed: the CLI's sources are compiled once per test file into a temporary
 * directory and run by plain node, about 0.1 s a call where ts-node takes about 1 s.
 */
const ROOT = join(__dirname, '..', '..');
const SOURCE = join(ROOT, 'src', 'cli', 'main.ts');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test's environment without anything of the developer's that the CLI would read. */
function cleanEnv(): NodeJS.ProcessEnv {
  // The compiled files live outside the repository: node must still find its node_modules.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(ROOT, 'node_modules') };
  for (const name of [
    'TASKFLOW_URL',
    'TASKFLOW_TOKEN',
    'TASKFLOW_API_KEY',
    'TASKFLOW_PASSWORD',
    'AUTH_SERVER_URL',
  ]) {
    delete env[name];
  }
  return env;
}

export class CompiledCli {
  constructor(
    readonly workDir: string,
    private readonly main: string,
  ) {}

  run(args: string[], env: Record<string, string>): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [this.main, ...args],
        { cwd: this.workDir, env: { ...cleanEnv(), ...env }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** A long-running command (`watch`): the child process, for the test to read and to kill. */
  spawn(args: string[], env: Record<string, string>): ChildProcess {
    return spawn(process.execPath, [this.main, ...args], {
      cwd: this.workDir,
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  remove(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** TypeScript's emit with the project's compiler options; `tsc --noEmit` checks the types. */
export function compileCli(): CompiledCli {
  const workDir = mkdtempSync(join(tmpdir(), 'taskflow-cli-'));
  const outDir = join(workDir, 'build');
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const options = {
    ...config!.options,
    outDir,
    noEmit: false,
    incremental: false,
    tsBuildInfoFile: undefined,
    sourceMap: false,
  };
  if (ts.createProgram([SOURCE], options).emit().emitSkipped) {
    throw new Error(`could not compile ${SOURCE}`);
  }
  return new CompiledCli(workDir, join(outDir, 'src', 'cli', 'main.js'));
}

/**
 * The CLI run as `actor`, with no config file: the environment alone configures it. `json` adds
 * `--json`, expects exit 0 and parses what it printed. `target` is asked at each run, since a
 * spec compiles the CLI and starts the API in its `beforeAll`.
 */
export function runAs(target: () => { cli: CompiledCli; baseUrl: string }) {
  const as = (actor: { token: string }, ...args: string[]) => {
    const { cli, baseUrl } = target();
    return cli.run(args, {
      TASKFLOW_URL: baseUrl,
      TASKFLOW_TOKEN: actor.token,
      TASKFLOW_CONFIG: join(cli.workDir, 'none.json'),
    });
  };
  const json = async (actor: { token: string }, ...args: string[]) =>
    JSON.parse(ok(await as(actor, '--json', ...args)).stdout);
  return { as, json };
}

/** Fails with the CLI's stderr, which says why, instead of a bare "expected 0, got 3". */
export function ok(run: Run): Run {
  if (run.code !== 0) throw new Error(`exit code ${run.code}\n${run.stderr}`);
  return run;
}
