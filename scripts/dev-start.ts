import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createApp } from '../src/app.factory';
import { AppConfig, ConfigError, loadConfig } from '../src/config/config';
import { ensureDatabase, runMigrations } from '../src/database/database-admin';
import { installGracefulShutdown } from '../src/graceful-shutdown';

/**
 * `npm start` on a fresh machine: create the database if it is missing, apply pending
 * migrations, start the bundled Better Auth server on :3001 unless AUTH_SERVER_URL or JWKS_URL
 * name another one, then serve the API on :8000.
 *
 * Production does none of this: `npm run migrate` is a deploy step, the identity server is its
 * own service, and `npm run start:prod` only serves.
 */

/** Compiled to dist/scripts/, run from there; the repository root is two levels up. */
const ROOT = resolve(__dirname, '..', '..');
const AUTH_SERVER = join(ROOT, 'auth-server', 'server.mjs');
const DEV_SECRETS = join(ROOT, '.taskflow', 'dev-secrets.json');
const AUTH_PORT = 3001;

const log = (message: string) => console.log(`start: ${message}`);

/**
 * The auth server encrypts its signing keys with BETTER_AUTH_SECRET, so a development secret is
 * generated once and kept (git-ignored) rather than changed on every start.
 */
function devAuthSecret(): string {
  if (process.env.BETTER_AUTH_SECRET) return process.env.BETTER_AUTH_SECRET;
  if (existsSync(DEV_SECRETS)) {
    const saved = JSON.parse(readFileSync(DEV_SECRETS, 'utf8')) as { betterAuthSecret?: string };
    if (saved.betterAuthSecret) return saved.betterAuthSecret;
  }
  const secret = randomBytes(32).toString('hex');
  mkdirSync(join(ROOT, '.taskflow'), { recursive: true });
  writeFileSync(DEV_SECRETS, JSON.stringify({ betterAuthSecret: secret }, null, 2), {
    mode: 0o600,
  });
  log(`generated a development BETTER_AUTH_SECRET in ${DEV_SECRETS}`);
  return secret;
}

async function alreadyServing(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts auth-server/server.mjs and resolves once it listens. */
async function startBundledAuthServer(config: AppConfig): Promise<ChildProcess | undefined> {
  const url = `http://localhost:${AUTH_PORT}`;
  if (await alreadyServing(url)) {
    log(`an auth server already answers on ${url}; using it`);
    return undefined;
  }
  const child = spawn(process.execPath, [AUTH_SERVER], {
    env: {
      ...process.env,
      AUTH_PORT: String(AUTH_PORT),
      BETTER_AUTH_SECRET: devAuthSecret(),
      DATABASE_URL: process.env.DATABASE_URL ?? config.database.url,
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('auth-server: listening on')) resolvePromise();
    });
    child.once('exit', (code) => reject(new Error(`the auth server exited (code ${code})`)));
  });
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGTERM') console.error(`start: the auth server stopped (${signal ?? code})`);
  });
  return child;
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (await ensureDatabase(config.database)) log('created the database');
  const ran = await runMigrations(config.database);
  if (ran.length) log(`applied migrations ${ran.join(', ')}`);

  let authServer: ChildProcess | undefined;
  if (config.auth.usingDefaultAuthServer) {
    authServer = await startBundledAuthServer(config);
    log(
      `AUTH_SERVER_URL and JWKS_URL are not set: using the bundled Better Auth server on http://localhost:${AUTH_PORT}`,
    );
    log('get a token with: npm run token -- --email you@example.com [--admin]');
  } else {
    log(`trusting the identity server whose keys are at ${config.auth.jwksUrl}`);
  }

  const app = await createApp(config);
  installGracefulShutdown(app, config.shutdownTimeoutMs, () => authServer?.kill('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
  log(`TaskFlow API on http://localhost:${config.port} (Swagger UI: /docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
