import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { obtainToken } from '../../scripts/token';
import { AuthSession, DEFAULT_PASSWORD, signUp } from '../../src/client/better-auth';
import { databaseUrl, testDatabaseName } from './env';

/**
 * The real Better Auth server (auth-server/server.mjs) as a child process, for tests that need
 * real accounts and real EdDSA tokens. better-auth is ESM-only and Jest cannot load it, so it is
 * never imported here: the server runs in its own node process, on a free port, with a random
 * secret and a fresh database of its own. Independent of the API app.
 */

const SERVER = join(__dirname, '..', '..', 'auth-server', 'server.mjs');
const LISTENING = /^auth-server: listening on (http:\/\/\S+)$/m;
const MAX_LOG = 20_000;

export interface AuthServerOptions {
  /** AUTH_JWT_EXPIRATION for the server, e.g. '2m' (default 15m). */
  jwtExpiration?: string;
  /** More environment for the server; wins over everything this helper sets. */
  env?: Record<string, string>;
  /** How long to wait for the "listening" line (default 20 s). */
  startTimeoutMs?: number;
}

export interface TokenOptions {
  admin?: boolean;
  password?: string;
  name?: string;
}

export interface AuthServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly jwksUrl: string;
  /** `iss` of its JWTs: BETTER_AUTH_URL, by default http://localhost:<port>. */
  readonly issuer: string;
  /** `aud` of its JWTs (Better Auth uses the same base URL). */
  readonly audience: string;
  /** Its private database, for assertions the HTTP API cannot make. */
  readonly databaseUrl: string;
  /** Signs up a new account (and is signed in); throws if the email is taken. */
  signUp(email: string, password?: string): Promise<AuthSession>;
  /**
   * A JWT through the real HTTP flow: sign-up (or sign-in if the account exists), then
   * `GET /api/auth/token`. With `admin`, the user's role is set to `admin` in the auth database
   * and it signs in again first.
   */
  token(email: string, options?: TokenOptions): Promise<string>;
  /**
   * Retires the signing keys without restarting the server, the way Better Auth's own
   * `jwks.rotationInterval` does: their `expiresAt` is set to the past, so the next token mints
   * and uses a new key while the retired public keys stay in the JWKS (grace period). With
   * `revoke`, the keys are deleted instead: they leave the JWKS at once and tokens signed with
   * them no longer verify. Returns the retired key ids.
   */
  rotateKeys(options?: { revoke?: boolean }): Promise<string[]>;
  /** What the server wrote to stderr (the end of it), for debugging a failing test. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

let counter = 0;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A Jest worker that dies must not leave servers behind. */
function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of running) server.kill('SIGKILL');
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function recreateDatabase(name: string): Promise<void> {
  await withClient(databaseUrl('postgres'), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  counter += 1;
  const name = testDatabaseName(`auth${counter}`);
  await recreateDatabase(name);
  const dbUrl = databaseUrl(name);

  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the developer's shell may change what the tests see.
  delete env.BETTER_AUTH_URL;
  delete env.BETTER_AUTH_SECRETS;
  delete env.AUTH_JWKS_ROTATION_INTERVAL;
  delete env.AUTH_JWKS_GRACE_PERIOD;
  Object.assign(env, {
    // Jest sets NODE_ENV=test, in which Better Auth skips its origin checks: test what dev runs.
    NODE_ENV: 'development',
    AUTH_PORT: '0',
    AUTH_HOST: '127.0.0.1',
    AUTH_DATABASE_URL: dbUrl,
    BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
    AUTH_JWT_EXPIRATION: options.jwtExpiration ?? '15m',
    ...options.env,
  });

  const child = spawn(process.execPath, [SERVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_LOG);
  });

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not print its "listening" line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout = (stdout + chunk).slice(-MAX_LOG);
        const match = LISTENING.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${signal ?? `code ${code}`} before listening`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await waitForExit(child, 5000);
    throw new Error(
      `auth server (${SERVER}) failed to start: ${(error as Error).message}\n--- its stderr ---\n${stderr}`,
    );
  }

  const port = new URL(url).port;
  // The server keeps only the origin of BETTER_AUTH_URL, as Better Auth does.
  const issuer = env.BETTER_AUTH_URL
    ? new URL(env.BETTER_AUTH_URL).origin
    : `http://localhost:${port}`;

  return {
    url,
    jwksUrl: `${url}/api/auth/jwks`,
    issuer,
    audience: issuer,
    databaseUrl: dbUrl,

    async signUp(email, password = DEFAULT_PASSWORD) {
      const session = await signUp(url, email, password);
      if (!session) throw new Error(`${email} already has an account`);
      return session;
    },

    token(email, tokenOptions = {}) {
      return obtainToken({ url, email, databaseUrl: dbUrl, ...tokenOptions });
    },

    rotateKeys({ revoke = false } = {}) {
      return withClient(dbUrl, async (client) => {
        // One second in the past: a clock a little ahead in PostgreSQL must not keep a key live.
        const result = await client.query<{ id: string }>(
          revoke
            ? 'DELETE FROM jwks RETURNING id'
            : `UPDATE jwks SET "expiresAt" = now() - interval '1 second'
               WHERE "expiresAt" IS NULL OR "expiresAt" > now() RETURNING id`,
        );
        return result.rows.map((row) => row.id);
      });
    },

    output: () => stderr,

    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
    },
  };
}
