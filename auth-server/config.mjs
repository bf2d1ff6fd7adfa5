// @ts-check
import { authDatabaseUrl } from './database-url.js';

/** A configuration problem: the message is one line naming the variable. */
export class ConfigError extends Error {}

/**
 * @typedef {object} AuthServerConfig
 * @property {number} port AUTH_PORT; 0 asks the OS for a free port
 * @property {string} host AUTH_HOST
 * @property {string} databaseUrl AUTH_DATABASE_URL (or derived from DATABASE_URL)
 * @property {string} databaseName the database part of databaseUrl
 * @property {string} secret BETTER_AUTH_SECRET
 * @property {string | undefined} baseUrl BETTER_AUTH_URL without a trailing slash; undefined means
 *   `http://localhost:<actual port>`, known once the server listens
 * @property {string} jwtExpiration AUTH_JWT_EXPIRATION, e.g. "15m"
 * @property {string[]} trustedOrigins AUTH_TRUSTED_ORIGINS
 * @property {number | undefined} jwksRotationInterval AUTH_JWKS_ROTATION_INTERVAL, seconds
 * @property {number | undefined} jwksGracePeriod AUTH_JWKS_GRACE_PERIOD, seconds
 */

/** The duration formats Better Auth's jwt plugin accepts for `expirationTime` ("15m", "1 hour"). */
const DURATION =
  /^\d+(\.\d+)? ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|months?|mo|years?|yrs?|y)$/i;

/**
 * Reads and validates the auth server's environment. Throws ConfigError on the first bad value.
 *
 * @param {Record<string, string | undefined>} env
 * @returns {AuthServerConfig}
 */
export function loadAuthConfig(env = process.env) {
  const secret = env.BETTER_AUTH_SECRET ?? '';
  if (secret.length < 32) {
    throw new ConfigError(
      'BETTER_AUTH_SECRET must be set to at least 32 characters (e.g. `openssl rand -hex 32`)',
    );
  }

  const port = integer(env, 'AUTH_PORT', 3001, 0, 65535);
  const host = env.AUTH_HOST || '0.0.0.0';

  let databaseUrl;
  try {
    databaseUrl = authDatabaseUrl(env);
  } catch {
    const name = env.AUTH_DATABASE_URL ? 'AUTH_DATABASE_URL' : 'DATABASE_URL';
    throw new ConfigError(`${name} is not a valid URL`);
  }
  const parsed = tryUrl(databaseUrl);
  const databaseName = parsed ? decodeURIComponent(parsed.pathname.replace(/^\//, '')) : '';
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol) || !databaseName) {
    throw new ConfigError(
      'AUTH_DATABASE_URL must be a postgresql:// URL naming a database (e.g. …/taskflow_auth)',
    );
  }

  let baseUrl;
  if (env.BETTER_AUTH_URL) {
    const url = tryUrl(env.BETTER_AUTH_URL);
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search) {
      throw new ConfigError(
        'BETTER_AUTH_URL must be an http(s) origin without a path, e.g. http://localhost:3001',
      );
    }
    baseUrl = url.origin;
  }

  const jwtExpiration = env.AUTH_JWT_EXPIRATION || '15m';
  if (!DURATION.test(jwtExpiration)) {
    throw new ConfigError('AUTH_JWT_EXPIRATION must be a duration such as 15m, 1h or 900s');
  }

  const trustedOrigins = (env.AUTH_TRUSTED_ORIGINS ?? 'http://localhost:3000,http://localhost:8000')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);

  return {
    port,
    host,
    databaseUrl,
    databaseName,
    secret,
    baseUrl,
    jwtExpiration,
    trustedOrigins,
    jwksRotationInterval: optionalInteger(env, 'AUTH_JWKS_ROTATION_INTERVAL', 1),
    jwksGracePeriod: optionalInteger(env, 'AUTH_JWKS_GRACE_PERIOD', 0),
  };
}

/**
 * @param {string} value
 * @returns {URL | undefined}
 */
function tryUrl(value) {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 * @param {number} max
 * @returns {number}
 */
function integer(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {string} name
 * @param {number} min
 * @returns {number | undefined}
 */
function optionalInteger(env, name, min) {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return integer(env, name, 0, min, Number.MAX_SAFE_INTEGER);
}
