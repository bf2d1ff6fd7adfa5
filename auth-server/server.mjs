// @ts-check
/**
 * A small, real Better Auth identity server for development, QA and tests (see README.md here).
 *
 * Email + password accounts, roles (admin plugin) and EdDSA/Ed25519 JWTs (jwt plugin, default
 * algorithm). The API only fetches `GET /api/auth/jwks` from it. Plain ESM JavaScript run by
 * node: better-auth is ESM-only while the rest of the repository compiles to CommonJS.
 *
 * stdout carries exactly one line, `auth-server: listening on http://127.0.0.1:<port>`;
 * everything else goes to stderr.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { symmetricDecrypt } from 'better-auth/crypto';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { admin } from 'better-auth/plugins/admin';
import { jwt } from 'better-auth/plugins/jwt';
import { ConfigError, loadAuthConfig } from './config.mjs';

/** @typedef {import('./config.mjs').AuthServerConfig} AuthServerConfig */

const DUPLICATE_DATABASE = '42P04';
/** pg_advisory_lock key serialising migrations when several servers start on one database. */
const MIGRATION_LOCK = 7_283_614_001;

/** @param {string} message */
const log = (message) => console.error(`auth-server: ${message}`);

/**
 * The Better Auth options. One function, so the migrations and the served instance always see
 * the same schema (the admin plugin adds user.role/banned…, the jwt plugin the jwks table).
 *
 * @param {AuthServerConfig} config
 * @param {pg.Pool} pool
 * @param {string} baseURL public origin; also the JWT `iss` and `aud`
 * @param {string[]} selfOrigins the server's own loopback origins, trusted like baseURL
 */
function authOptions(config, pool, baseURL, selfOrigins = []) {
  return /** @satisfies {import('better-auth').BetterAuthOptions} */ ({
    appName: 'TaskFlow',
    baseURL,
    secret: config.secret,
    database: pool,
    trustedOrigins: [...config.trustedOrigins, ...selfOrigins],
    emailAndPassword: { enabled: true, requireEmailVerification: false },
    telemetry: { enabled: false },
    logger: {
      /** @type {(level: string, message: string, ...args: unknown[]) => void} */
      log: (level, message, ...args) =>
        console.error(`auth-server: [better-auth] ${level}: ${message}`, ...args),
    },
    plugins: [
      admin(),
      jwt({
        // No keyPairConfig: the plugin's default, EdDSA over Ed25519.
        jwt: { expirationTime: config.jwtExpiration },
        jwks: {
          ...(config.jwksRotationInterval ? { rotationInterval: config.jwksRotationInterval } : {}),
          ...(config.jwksGracePeriod !== undefined ? { gracePeriod: config.jwksGracePeriod } : {}),
        },
      }),
    ],
  });
}

/**
 * Creates the auth database if it is missing, through the `postgres` maintenance database of
 * the same server. Two servers starting at once may both try: the loser sees 42P04.
 *
 * @param {AuthServerConfig} config
 * @returns {Promise<boolean>} whether it created the database
 */
async function ensureDatabase(config) {
  const url = new URL(config.databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      config.databaseName,
    ]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${config.databaseName.replace(/"/g, '""')}"`);
      return true;
    } catch (error) {
      if (/** @type {{ code?: string }} */ (error).code === DUPLICATE_DATABASE) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/**
 * Better Auth's own migrations, offline (no CLI): compares its schema with the database and
 * creates what is missing. A session advisory lock keeps concurrent starts from racing.
 *
 * @param {Parameters<typeof getMigrations>[0]} options
 * @param {pg.Pool} pool
 * @returns {Promise<string[]>} the tables it created or altered
 */
async function migrate(options, pool) {
  const lock = await pool.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
    await runMigrations();
    return [...toBeCreated, ...toBeAdded].map((change) => change.table);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    lock.release();
  }
}

/**
 * Signing keys are stored encrypted with BETTER_AUTH_SECRET. After the secret changes (a dev
 * restart with a new `openssl rand`), Better Auth can no longer decrypt them and answers 500 on
 * every token. So retire such keys the way rotation does: set `expiresAt` to now. The next
 * token mints a fresh key; the old public keys stay in the JWKS for the grace period.
 *
 * @param {{ $context: Promise<{ secretConfig: Parameters<typeof symmetricDecrypt>[0]['key'] }> }} auth
 * @param {pg.Pool} pool
 * @returns {Promise<string[]>} the retired key ids
 */
async function retireUndecryptableKeys(auth, pool) {
  const { secretConfig } = await auth.$context;
  /** @type {{ rows: { id: string, privateKey: string }[] }} */
  const { rows } = await pool.query(
    'SELECT id, "privateKey" FROM jwks WHERE "expiresAt" IS NULL OR "expiresAt" > now()',
  );
  const retired = [];
  for (const { id, privateKey } of rows) {
    try {
      await symmetricDecrypt({
        key: secretConfig,
        data: /** @type {string} */ (JSON.parse(privateKey)),
      });
    } catch {
      retired.push(id);
    }
  }
  if (retired.length) {
    await pool.query('UPDATE jwks SET "expiresAt" = now() WHERE id = ANY($1)', [retired]);
  }
  return retired;
}

async function main() {
  const config = loadAuthConfig(process.env);

  /** @type {import('node:http').Server | undefined} */
  let server;
  /** @type {pg.Pool | undefined} */
  let pool;
  let stopping = false;
  // Installed first: as PID 1 in a container, node ignores SIGTERM that nobody handles.
  /** @param {NodeJS.Signals} signal */
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    // Still starting: nothing to drain, and Better Auth's migrations are safe to resume.
    if (!server?.listening || !pool) process.exit(0);
    const endPool = pool;
    server.close(() => void endPool.end().finally(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  if (await ensureDatabase(config)) log(`created the database ${config.databaseName}`);
  pool = new pg.Pool({ connectionString: config.databaseUrl });
  pool.on('error', (error) => log(`idle database connection failed: ${error.message}`));

  const changed = await migrate(
    authOptions(config, pool, config.baseUrl ?? `http://localhost:${config.port}`),
    pool,
  );
  if (changed.length) log(`migrated tables ${changed.join(', ')}`);

  /** @type {ReturnType<typeof toNodeHandler> | undefined} */
  let handler;
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"healthy"}');
      return;
    }
    if (!handler) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"starting"}');
      return;
    }
    handler(req, res).catch((/** @type {unknown} */ error) => {
      log(`unhandled error on ${req.method} ${req.url}: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"message":"internal error"}');
    });
  });

  const listening = server;
  await new Promise((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(config.port, config.host, () => resolve(undefined));
  });
  const address = listening.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // With AUTH_PORT=0 the port, hence the default public URL (the JWT iss/aud), is known only now.
  const auth = betterAuth(
    authOptions(config, pool, config.baseUrl ?? `http://localhost:${port}`, [
      // Node's fetch sends `Sec-Fetch-Mode: cors`, so Better Auth checks the Origin of every
      // sign-in; scripts/token.ts and the tests send the origin they called, one of these.
      `http://localhost:${port}`,
      `http://127.0.0.1:${port}`,
    ]),
  );
  const retired = await retireUndecryptableKeys(auth, pool);
  if (retired.length) {
    log(`retired signing keys ${retired.join(', ')}: not encrypted with this BETTER_AUTH_SECRET`);
  }
  handler = toNodeHandler(auth);
  console.log(`auth-server: listening on http://127.0.0.1:${port}`);
}

main().catch((/** @type {unknown} */ error) => {
  if (error instanceof ConfigError) {
    console.error(`auth-server: ${error.message}`);
    process.exit(1);
  }
  // A refused connection to "localhost" is an AggregateError (IPv6 + IPv4) with an empty message.
  const cause = error instanceof AggregateError && error.errors.length ? error.errors[0] : error;
  const code = /** @type {{ code?: string } | undefined} */ (cause)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  console.error(`auth-server: failed to start: ${message}${code ? ` (${code})` : ''}`);
  // No code: not a database or system error but a bug, so the stack helps.
  if (!code && error instanceof Error && error.stack) console.error(error.stack);
  process.exit(1);
});
