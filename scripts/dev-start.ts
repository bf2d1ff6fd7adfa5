import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createApp } from '../src/app.factory';
import { AppConfig, ConfigError, DatabaseConfig, loadConfig } from '../src/config/config';
import { ensureDatabase, prepareAppRole, runMigrations } from '../src/database/database-admin';
import { installGracefulShutdown } from '../src/graceful-shutdown';

/**
 * `npm start` on a fresh machine: create the database if it is missing, give the restricted app
 * role (DATABASE_APP_ROLE) a generated password, apply pending migrations as the owner, start the
 * bundled Better Auth server on :3001 unless AUTH_SERVER_URL or JWKS_URL name another one, then
 * serve the API on :8000 as the app role.
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

interface DevSecrets {
  betterAuthSecret?: string;
  appDbPassword?: string;
}

/**
 * Development secrets are generated once and kept (git-ignored) rather than changed on every
 * start: the auth server encrypts its signing keys with BETTER_AUTH_SECRET, and the app role's
 * password had better not change under a running API.
 */
function devSecret(name: keyof DevSecrets, label: string): string {
  const saved: DevSecrets = existsSync(DEV_SECRETS)
    ? (JSON.parse(readFileSync(DEV_SECRETS, 'utf8')) as DevSecrets)
    : {};
  const existing = saved[name];
  if (existing) return existing;
  const secret = randomBytes(32).toString('hex');
  mkdirSync(join(ROOT, '.taskflow'), { recursive: true });
  writeFileSync(DEV_SECRETS, JSON.stringify({ ...saved, [name]: secret }, null, 2), {
    mode: 0o600,
  });
  log(`generated a development ${label} in ${DEV_SECRETS}`);
  return secret;
}

const devAuthSecret = (): string =>
  process.env.BETTER_AUTH_SECRET || devSecret('betterAuthSecret', 'BETTER_AUTH_SECRET');

/**
 * With one URL for everything (no MIGRATIONS_DATABASE_URL, the default), that URL is the
 * owner's: migrations keep it, and the API gets the same server and database as the app role,
 * with its development password. A DATABASE_URL that already names another role is used as is.
 */
function apiDatabase(db: DatabaseConfig): DatabaseConfig {
  const url = new URL(db.url);
  if (db.owner.url !== db.url || decodeURIComponent(url.username) === db.appRole) return db;
  url.username = db.appRole;
  url.password = devSecret('appDbPassword', `password for the ${db.appRole} role`);
  return { ...db, url: url.toString() };
}

const roleOf = (url: string): string => decodeURIComponent(new URL(url).username) || '(default)';

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
      // Better Auth keeps its own tables: it connects as the owner, not as the API's role.
      DATABASE_URL:
        process.env.MIGRATIONS_DATABASE_URL ??
        process.env.DATABASE_URL ??
        config.database.owner.url,
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
  const loaded = loadConfig();
  const config: AppConfig = { ...loaded, database: apiDatabase(loaded.database) };
  if (await ensureDatabase(config.database)) log('created the database');
  await prepareAppRole(config.database);
  const ran = await runMigrations(config.database);
  if (ran.length) log(`applied migrations ${ran.join(', ')}`);
  log(
    `migrations ran as ${roleOf(config.database.owner.url)}; the API connects as ${roleOf(config.database.url)}`,
  );

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
