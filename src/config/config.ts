import { z } from 'zod';
import { version } from '../../package.json';

/**
 * The one place that reads `process.env`. Everything else receives a typed, validated `AppConfig`.
 * A bad value throws a `ConfigError` whose message is a single line naming the variable, so the
 * process can print it and exit instead of failing later with a stack trace.
 */

/**
 * The algorithms a strategy verifies: EdDSA with jose, RS256 and ES256 with passport-jwt
 * (src/auth/*.strategy.ts). Anything else is refused at start-up rather than at every request.
 */
export const SUPPORTED_JWT_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof SUPPORTED_JWT_ALGORITHMS)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_AUTH_SERVER_URL = 'http://localhost:3001';
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/taskflow';
/** The login role the API runs as: it owns nothing and may only append to the audit log. */
export const DEFAULT_APP_ROLE = 'taskflow_app';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const httpUrl = z
  .string()
  .url('must be an http(s) URL')
  .refine((v) => /^https?:\/\//i.test(v), 'must be an http(s) URL');

const commaList = (s: string): string[] =>
  s
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be an integer between ${min} and ${max}`);

const postgresUrl = z.string().refine((v) => {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be a postgresql:// URL');

const redisUrl = z.string().refine((v) => {
  try {
    return ['redis:', 'rediss:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intInRange(0, 65535).default('8000'),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.default(DEFAULT_DATABASE_URL),
  MIGRATIONS_DATABASE_URL: postgresUrl.optional(),
  // Spelled into GRANT statements and connection strings: a plain lower-case identifier only.
  DATABASE_APP_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (a-z, 0-9, _)')
    .default(DEFAULT_APP_ROLE),
  DB_POOL_SIZE: intInRange(1, 500).default('10'),
  DB_CONNECT_TIMEOUT_MS: intInRange(100, 120_000).default('3000'),
  DB_STATEMENT_TIMEOUT_MS: intInRange(100, 3_600_000).default('15000'),
  AUTH_SERVER_URL: httpUrl.optional(),
  JWKS_URL: httpUrl.optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_TOLERANCE_S: intInRange(0, 300).default('30'),
  JWT_ALGORITHMS: z
    .string()
    .default('EdDSA,ES256,RS256')
    .transform(commaList)
    .superRefine((algs, ctx) => {
      if (algs.length === 0) ctx.addIssue({ code: 'custom', message: 'must list an algorithm' });
      for (const alg of algs) {
        if (!(SUPPORTED_JWT_ALGORITHMS as readonly string[]).includes(alg)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown or forbidden algorithm "${alg}" (allowed: ${SUPPORTED_JWT_ALGORITHMS.join(', ')}; none and HS* are never accepted)`,
          });
        }
      }
    })
    .transform((algs) => algs as JwtAlgorithm[]),
  ALLOWED_ORIGINS: z
    .string()
    .default('http://localhost:3000,http://localhost:3001')
    .transform(commaList)
    .superRefine((origins, ctx) => {
      for (const origin of origins) {
        if (origin === '*') {
          ctx.addIssue({ code: 'custom', message: '"*" is not allowed; list the origins' });
          continue;
        }
        try {
          const url = new URL(origin);
          if (url.origin !== origin.replace(/\/$/, '')) throw new Error('not an origin');
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: `"${origin}" is not an origin like https://app.example.com`,
          });
        }
      }
    }),
  LOG_LEVEL: z
    .string()
    .default('info')
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })),
  RATE_LIMIT_PER_MINUTE: intInRange(0, 10_000_000).default('1200'),
  REDIS_URL: redisUrl.optional(),
  // Goes in front of every key the API writes, so one Redis can serve several deployments.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[!-~]{1,64}$/, 'must be 1 to 64 printable characters without spaces')
    .default('taskflow:'),
  METRICS_PORT: intInRange(0, 65535).optional(),
  TRUST_PROXY: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  SHUTDOWN_TIMEOUT_MS: intInRange(0, 600_000).default('10000'),
  EVENTS_HEARTBEAT_SECONDS: intInRange(1, 300).default('15'),
  EVENTS_POLL_SECONDS: intInRange(1, 300).default('3'),
  EVENTS_MAX_BUFFER_BYTES: intInRange(1, 1024 * 1024 * 1024).default(String(1024 * 1024)),
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  WEBHOOK_POLL_INTERVAL_MS: intInRange(0, 3_600_000).default('1000'),
  WEBHOOK_TIMEOUT_MS: intInRange(100, 120_000).default('5000'),
  WEBHOOK_MAX_FAILURES: intInRange(1, 1000).default('8'),
  WEBHOOK_BACKOFF_BASE_MS: intInRange(1, 3_600_000).default('1000'),
  WEBHOOK_BACKOFF_MAX_MS: intInRange(1, 86_400_000).default('600000'),
  RETRY_BASE_SECONDS: intInRange(1, 86_400).default('30'),
  RETRY_MAX_SECONDS: intInRange(1, 604_800).default('3600'),
  SWEEP_INTERVAL_MS: intInRange(0, 3_600_000).default('10000'),
});

export interface DatabaseConnection {
  /** The connection string without `sslmode`, which is translated into `ssl` below. */
  url: string;
  /** `false`, or the TLS options handed to node-postgres. */
  ssl: false | { rejectUnauthorized: boolean };
}

export interface DatabaseConfig extends DatabaseConnection {
  /** The owner's connection (MIGRATIONS_DATABASE_URL): migrations, and creating the database. */
  owner: DatabaseConnection;
  /** The role the migrations grant the API's privileges to (DATABASE_APP_ROLE). */
  appRole: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export interface AuthConfig {
  authServerUrl: string;
  jwksUrl: string;
  /** True when neither AUTH_SERVER_URL nor JWKS_URL was set: `npm start` then runs the bundled server. */
  usingDefaultAuthServer: boolean;
  issuer?: string;
  audience?: string;
  algorithms: JwtAlgorithm[];
  /** Seconds of clock skew allowed on `exp`, and on `iat`/`nbf` lying in the future. */
  clockToleranceS: number;
}

/** Where the rate-limit counters are shared between replicas (absent: each keeps its own). */
export interface RedisConfig {
  url: string;
  keyPrefix: string;
}

export interface AppConfig {
  version: string;
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  database: DatabaseConfig;
  auth: AuthConfig;
  allowedOrigins: string[];
  logLevel: LogLevel;
  rateLimitPerMinute: number;
  redis?: RedisConfig;
  /** Where Prometheus metrics are served (`GET /metrics`), apart from the API; off when unset. */
  metricsPort?: number;
  shutdownTimeoutMs: number;
  /** Behind a proxy (the compose gateway): the client address comes from X-Forwarded-For. */
  trustProxy: boolean;
  /** `GET /api/events` (docs/events.md). */
  events: EventsConfig;
  webhooks: WebhookConfig;
  retries: RetryConfig;
}

/** Failed attempts (docs/lifecycle.md, "Failures and retries"). */
export interface RetryConfig {
  /**
   * Full-jitter exponential backoff after a retryable failure: the task waits a random time up
   * to min(max, base * 2^(attempt-1)) seconds before it may be claimed again.
   */
  baseSeconds: number;
  maxSeconds: number;
  /** How often the sweeper looks for expired leases and timed-out claims; 0: never. */
  sweepIntervalMs: number;
}

export interface EventsConfig {
  /** Seconds between `: keep-alive` comments on an idle stream. */
  heartbeatSeconds: number;
  /** Seconds between reads of the table when no NOTIFY came (a safety net). */
  pollSeconds: number;
  /** Bytes a stream may have waiting unsent before its client counts as too slow. */
  maxBufferBytes: number;
}

export interface WebhookConfig {
  /** Deliver to loopback, private and link-local addresses too (tests, a private network). */
  allowPrivate: boolean;
  /** How often this replica looks for due deliveries; 0: this replica delivers none. */
  pollIntervalMs: number;
  /** The whole HTTP call, connect to response. */
  timeoutMs: number;
  /** Consecutive failures after which a webhook is marked `failing` and stops. */
  maxFailures: number;
  /** Full-jitter exponential backoff: a random delay up to min(max, base * 2^(failures-1)). */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/**
 * libpq's `sslmode` semantics, which Neon's connection strings assume: `require` encrypts without
 * verifying the certificate, `verify-ca`/`verify-full` verify it, `disable`/absent mean plain TCP.
 * node-postgres would otherwise treat `require` as `verify-full`, so the mode is resolved here.
 */
export function parseDatabaseUrl(raw: string, variable = 'DATABASE_URL'): DatabaseConnection {
  const url = new URL(raw);
  const mode = (url.searchParams.get('sslmode') ?? 'disable').toLowerCase();
  url.searchParams.delete('sslmode');
  const ssl: DatabaseConfig['ssl'] = (() => {
    switch (mode) {
      case 'disable':
      case 'allow':
        return false;
      case 'prefer':
      case 'require':
      case 'no-verify':
        return { rejectUnauthorized: false };
      case 'verify-ca':
      case 'verify-full':
        return { rejectUnauthorized: true };
      default:
        throw new ConfigError(
          `Invalid configuration: ${variable}: unknown sslmode "${mode}" (use disable, require, verify-ca or verify-full)`,
        );
    }
  })();
  return { url: url.toString(), ssl };
}

/** Never echo a value that may hold a secret (a password inside DATABASE_URL). */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'MIGRATIONS_DATABASE_URL', 'REDIS_URL']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable (`JWT_ISSUER=` in an .env file) means "unset", as in most tools.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    const value = present[name];
    const shown = value === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got "${value}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  const usingDefaultAuthServer = e.AUTH_SERVER_URL === undefined && e.JWKS_URL === undefined;
  const authServerUrl = (e.AUTH_SERVER_URL ?? DEFAULT_AUTH_SERVER_URL).replace(/\/$/, '');
  return {
    version,
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    database: {
      ...parseDatabaseUrl(e.DATABASE_URL),
      owner: parseDatabaseUrl(
        e.MIGRATIONS_DATABASE_URL ?? e.DATABASE_URL,
        e.MIGRATIONS_DATABASE_URL ? 'MIGRATIONS_DATABASE_URL' : 'DATABASE_URL',
      ),
      appRole: e.DATABASE_APP_ROLE,
      poolSize: e.DB_POOL_SIZE,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    },
    auth: {
      authServerUrl,
      jwksUrl: e.JWKS_URL ?? `${authServerUrl}/api/auth/jwks`,
      usingDefaultAuthServer,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      algorithms: e.JWT_ALGORITHMS,
      clockToleranceS: e.JWT_CLOCK_TOLERANCE_S,
    },
    allowedOrigins: e.ALLOWED_ORIGINS.map((o) => o.replace(/\/$/, '')),
    logLevel: e.LOG_LEVEL,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX } : undefined,
    metricsPort: e.METRICS_PORT,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    events: {
      heartbeatSeconds: e.EVENTS_HEARTBEAT_SECONDS,
      pollSeconds: e.EVENTS_POLL_SECONDS,
      maxBufferBytes: e.EVENTS_MAX_BUFFER_BYTES,
    },
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxFailures: e.WEBHOOK_MAX_FAILURES,
      backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: Math.max(e.WEBHOOK_BACKOFF_MAX_MS, e.WEBHOOK_BACKOFF_BASE_MS),
    },
    retries: {
      baseSeconds: e.RETRY_BASE_SECONDS,
      maxSeconds: Math.max(e.RETRY_MAX_SECONDS, e.RETRY_BASE_SECONDS),
      sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    },
  };
}
