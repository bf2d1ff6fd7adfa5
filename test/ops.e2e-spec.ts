import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { parse } from 'yaml';
import { API_NODE_ARGS, PRODUCTION_NODE_OPTIONS } from '../bench/protocol';
import { fetchJwt, signUpOrIn } from '../src/client/better-auth';
import { loadConfig } from '../src/config/config';
import { recreateDatabase } from '../src/database/database-admin';
import { closedPort } from './support/ports';
import { TEST_APP_ROLE, apiDatabaseEnv, databaseUrl, testDatabaseName } from './support/env';

/**
 * The docker-compose stack, without Docker (no engine on these machines): the exact commands its
 * containers run — migrate, the auth server, the API — as plain processes against the local
 * PostgreSQL, then the healthchecks' own commands, the request log, and SIGTERM draining.
 */
const ROOT = join(__dirname, '..');

interface ComposeService {
  command: string[];
  restart?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** Compose's `${VAR:-default}` and `${VAR:?error}`, resolved against `env`. */
function interpolate(
  values: Record<string, string>,
  env: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      String(value).replace(
        /\$\{(\w+)(?::-([^}]*))?(?::\?[^}]*)?\}/g,
        (_m, name: string, fallback?: string) => {
          const resolved = env[name] ?? fallback;
          if (resolved === undefined) throw new Error(`compose needs ${name}`);
          return resolved;
        },
      ),
    ]),
  );
}

/** A healthcheck `test`, with the ports of this run in place of the containers' fixed ones. */
function healthcheckCommand(test: string[], ports: Record<string, number>): string[] {
  expect(test[0]).toBe('CMD');
  return test
    .slice(1)
    .map((arg) => arg.replace(/:(8000|3001)\//, (_m, port: string) => `:${ports[port]}/`));
}

function run(command: string[], env: NodeJS.ProcessEnv): { status: number; output: string } {
  try {
    const output = execFileSync(command[0], command.slice(1), {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { status: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

class Service {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(command: string[], env: NodeJS.ProcessEnv): Service {
    return new Service(
      spawn(command[0], command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!this.lines.some((l) => pattern.test(l))) {
      if (Date.now() - started > timeoutMs || this.child.exitCode !== null) {
        throw new Error(`never saw ${pattern}:\n${this.lines.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The JSON log lines (pino). */
  json(): Record<string, any>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

describe('The compose stack, run as plain processes (e2e)', () => {
  const secret = randomBytes(32).toString('hex');
  let apiDatabaseUrl: string;
  let authDatabaseUrl: string;
  let ports: { api: number; auth: number; metrics: number };
  let auth: Service;
  let api: Service;
  let apiEnv: NodeJS.ProcessEnv;
  let token: string;
  const services: Service[] = [];

  beforeAll(async () => {
    // The image runs the compiled app: build it as the Dockerfile's build stage does.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    apiDatabaseUrl = databaseUrl(testDatabaseName('ops'));
    authDatabaseUrl = databaseUrl(testDatabaseName('ops_auth'));
    await recreateDatabase(loadConfig({ DATABASE_URL: apiDatabaseUrl }).database); // empty, unmigrated
    ports = { api: await closedPort(), auth: await closedPort(), metrics: await closedPort() };
  }, 120_000);

  afterAll(() => {
    for (const service of services) service.stop();
  });

  const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME });

  it('gives every service a healthcheck and a restart policy, and requires the secrets', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, healthcheck: !!service.healthcheck?.test }).toEqual({
        name,
        healthcheck: true,
      });
      expect({ name, restart: service.restart }).toEqual({ name, restart: expect.any(String) });
    }
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).toMatch(/POSTGRES_PASSWORD:\?/);
    expect(text).toMatch(/APP_DB_PASSWORD:\?/);
    expect(text).toMatch(/BETTER_AUTH_SECRET:\?/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    // The benchmark measures the API with the image's Node options.
    expect(dockerfile).toContain(`ENV NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS}`);
    const apiArgs = API_NODE_ARGS.map((a) => `"${a}"`).join(', ');
    expect(dockerfile).toContain(`CMD ["node", ${apiArgs}, "dist/src/main.js"]`);
    expect(text.replace(/\s+/g, ' ')).toContain(
      `command: ['node', ${API_NODE_ARGS.map((a) => `'${a}'`).join(', ')}, 'dist/src/main.js']`,
    );
  });

  it('uses two roles: migrate as the owner, the API as the restricted app role', () => {
    const secrets = { POSTGRES_PASSWORD: 'owner-pw', APP_DB_PASSWORD: 'app-pw' };
    const migrate = interpolate(compose.services.migrate.environment!, secrets);
    const apiService = interpolate(compose.services.api.environment!, secrets);
    const user = (url: string) => new URL(url).username;
    expect(user(migrate.MIGRATIONS_DATABASE_URL)).toBe('postgres');
    expect(user(migrate.DATABASE_URL)).toBe('taskflow_app');
    expect(new URL(migrate.DATABASE_URL).password).toBe('app-pw');
    expect(apiService.DATABASE_URL).toBe(migrate.DATABASE_URL);
    expect(apiService.MIGRATIONS_DATABASE_URL).toBeUndefined();
  });

  it('migrate: creates the schema on an empty database, then finds nothing to do', () => {
    // The compose environment, on this run's database and with the tests' app role.
    const env = { ...baseEnv(), ...apiDatabaseEnv(apiDatabaseUrl), NODE_ENV: 'production' };
    const first = run(compose.services.migrate.command, env);
    expect(first).toEqual({ status: 0, output: expect.stringContaining('applied CreateTasks') });
    expect(first.output).toContain(`role ${TEST_APP_ROLE} can log in`);
    const again = run(compose.services.migrate.command, env);
    expect(again).toEqual({ status: 0, output: expect.stringContaining('schema is up to date') });
    // The migrate service's own healthcheck: the database answers.
    const check = healthcheckCommand(compose.services.migrate.healthcheck!.test, {});
    expect(run(check, env).status).toBe(0);
    expect(run(check, { ...env, DATABASE_URL: `postgresql://postgres@127.0.0.1:1/x` }).status).toBe(
      1,
    );
  });

  it('auth: starts and passes its healthcheck', async () => {
    auth = Service.start(compose.services.auth.command, {
      ...baseEnv(),
      AUTH_PORT: String(ports.auth),
      AUTH_DATABASE_URL: authDatabaseUrl,
      BETTER_AUTH_SECRET: secret,
      NODE_ENV: 'development',
    });
    services.push(auth);
    await auth.waitFor(/auth-server: listening/);
    const check = healthcheckCommand(compose.services.auth.healthcheck!.test, {
      '3001': ports.auth,
    });
    expect(run(check, baseEnv()).status).toBe(0);
  });

  it('api: starts with the compose environment and passes its healthchecks', async () => {
    const authUrl = `http://localhost:${ports.auth}`;
    apiEnv = {
      ...baseEnv(),
      ...interpolate(compose.services.api.environment!, {
        POSTGRES_PASSWORD: 'unused',
        APP_DB_PASSWORD: 'unused',
      }),
      PORT: String(ports.api),
      ...apiDatabaseEnv(apiDatabaseUrl),
      AUTH_SERVER_URL: authUrl,
      JWT_ISSUER: authUrl,
      JWT_AUDIENCE: authUrl,
      METRICS_PORT: String(ports.metrics),
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'info',
    };
    api = Service.start(compose.services.api.command, apiEnv);
    services.push(api);
    await api.waitFor(/Nest application successfully started/);
    const check = healthcheckCommand(compose.services.api.healthcheck!.test, { '8000': ports.api });
    expect(run(check, baseEnv()).status).toBe(0);
    // The image's own HEALTHCHECK (liveness).
    const imageCheck = /HEALTHCHECK[^[]*(\[[^\]]*\])/.exec(dockerfile)![1];
    expect(
      run(
        healthcheckCommand(['CMD', ...(JSON.parse(imageCheck) as string[])], { '8000': ports.api }),
        baseEnv(),
      ).status,
    ).toBe(0);
    const metrics = await fetch(`http://127.0.0.1:${ports.metrics}/metrics`);
    expect(metrics.status).toBe(200);
    // As the restricted role: no warning, in the log or in the readiness answer.
    const ready = await fetch(`http://127.0.0.1:${ports.api}/api/health/db`);
    expect(await ready.json()).toEqual({ database: 'connected' });
    expect(api.lines.join('\n')).not.toContain('SECURITY WARNING');

    const { session } = await signUpOrIn(authUrl, 'ops@example.com', 'correct horse battery');
    token = await fetchJwt(authUrl, session.cookie);
  });

  it('logs one JSON line per request with id, route, status, duration and actor, and never a secret', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/tasks`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'X-Request-Id': 'ops-trace-1',
      },
      body: JSON.stringify({ title: 'logged', password: 'hunter2-secret' }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('x-request-id')).toBe('ops-trace-1');
    const ok = await fetch(`http://127.0.0.1:${ports.api}/api/tasks?limit=1`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'ops-trace-2' },
    });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));

    const line = api.json().find((l) => l.req?.id === 'ops-trace-2');
    expect(line).toMatchObject({
      level: 30,
      req: { id: 'ops-trace-2', method: 'GET', path: '/api/tasks' },
      route: '/api/tasks',
      res: { status: 200 },
      duration_ms: expect.any(Number),
      actor_id: expect.any(String),
    });
    const me = (await (
      await fetch(`http://127.0.0.1:${ports.api}/api/me`, {
        headers: { Authorization: `Bearer ${token}` },
      })
    ).json()) as { id: string };
    expect(line!.actor_id).toBe(me.id);
    expect(api.json().find((l) => l.req?.id === 'ops-trace-1')).toMatchObject({
      res: { status: 422 },
    });

    const everything = api.lines.join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split('.')[2]);
    expect(everything).not.toContain('hunter2-secret');
    expect(everything).not.toContain('correct horse battery');
    expect(everything.toLowerCase()).not.toContain('authorization');
  });

  it('warns loudly, and says so at /api/health/db, when production connects as a superuser', async () => {
    const port = await closedPort();
    const privileged = Service.start(compose.services.api.command, {
      ...apiEnv,
      PORT: String(port),
      METRICS_PORT: '',
      DATABASE_URL: apiDatabaseUrl, // postgres: a superuser on this server
    });
    services.push(privileged);
    await privileged.waitFor(/SECURITY WARNING: connected as a superuser/);
    const ready = await fetch(`http://127.0.0.1:${port}/api/health/db`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      database: 'connected',
      warning: expect.stringMatching(/^connected as a superuser/),
    });
    privileged.child.kill('SIGTERM');
    expect(await privileged.exited).toBe(0);
  });

  it('honours LOG_LEVEL: at warn, no request lines', async () => {
    const port = await closedPort();
    const quiet = Service.start(compose.services.api.command, {
      ...apiEnv,
      PORT: String(port),
      METRICS_PORT: '',
      LOG_LEVEL: 'warn',
    });
    services.push(quiet);
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await fetch(`http://127.0.0.1:${port}/health`);
    quiet.child.kill('SIGTERM');
    expect(await quiet.exited).toBe(0);
    expect(quiet.json().filter((l) => l.req)).toEqual([]);
    expect(quiet.json().every((l) => l.level >= 40)).toBe(true);
  });

  it('drains on SIGTERM in the middle of a burst: complete answers only, nothing half-written, exit 0', async () => {
    // The burst's tasks are told apart by their project; its creator owns it, so may add to it.
    const project = await fetch(`http://127.0.0.1:${ports.api}/api/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ slug: 'sigterm', name: 'SIGTERM burst', visibility: 'internal' }),
    });
    expect(project.status).toBe(201);
    const url = `http://127.0.0.1:${ports.api}/api/tasks`;
    const body = (i: number) => JSON.stringify({ title: `burst-${i}`, project_slug: 'sigterm' });
    type Outcome = { status: number; body: any } | { error: string };
    let answered = 0;
    let signalled = false;
    const burst = Array.from({ length: 150 }, (_, i) =>
      fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: body(i),
      }).then(
        async (res): Promise<Outcome> => {
          const text = await res.text();
          answered += 1;
          if (answered === 10 && !signalled) {
            signalled = true;
            api.child.kill('SIGTERM');
          }
          return { status: res.status, body: JSON.parse(text) };
        },
        (error: Error): Outcome => ({ error: error.message }),
      ),
    );
    const outcomes = await Promise.all(burst);
    expect(signalled).toBe(true);
    expect(await api.exited).toBe(0);

    const responses = outcomes.filter((o): o is { status: number; body: any } => 'status' in o);
    // Every response that arrived is complete, valid JSON: a created task. (Requests sent on a
    // connection the server closed as idle fail to send, and are not answered at all.)
    for (const r of responses) {
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        id: expect.any(Number),
        title: expect.stringMatching(/^burst-/),
      });
    }
    const created = responses.filter((r) => r.status === 201).length;
    expect(created).toBeGreaterThanOrEqual(10);

    const db = new Client({ connectionString: apiDatabaseUrl });
    await db.connect();
    try {
      const tasks = await db.query(`SELECT id FROM tasks WHERE project_slug = 'sigterm'`);
      const entries = await db.query(
        `SELECT task_id FROM audit_entries WHERE project_slug = 'sigterm' AND action = 'created'`,
      );
      // Exactly the answered creations exist, each with its audit entry: none lost, none extra.
      expect(tasks.rowCount).toBe(created);
      expect(entries.rowCount).toBe(created);
    } finally {
      await db.end();
    }
    expect(api.lines.join('\n')).toMatch(/stopped cleanly/);
  });
});
