import { decodeJwtClaims } from './better-auth';

/**
 * Where the typed client's JWT comes from, and when to renew it. No Node APIs here, so a
 * frontend bundling the client bundles none; the renewable login session the CLI and the MCP
 * server share lives in ./login-session.ts.
 */

/** Renew this long before `exp` at most, so a request never races the expiry… */
const REFRESH_MARGIN_SECONDS = 60;
/** …and at 80% of the token's lifetime when that comes later (short-lived tokens). */
const REFRESH_AT_LIFETIME_SHARE = 0.8;

/**
 * A credential that cannot give a token: an unreadable config file, a login session the auth
 * server refused (`status` 401), an auth server that cannot be reached (no `status`).
 */
export class CredentialError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

/**
 * Whether to fetch the next JWT before using this one: within 60 s of `exp`, or past 80% of its
 * lifetime (`iat` to `exp`) when that is shorter. A token whose claims cannot be read is left
 * for the API to judge.
 */
export function renewalDue(token: string, nowMs = Date.now()): boolean {
  const claims = decodeJwtClaims(token);
  if (typeof claims?.exp !== 'number') return false;
  const lifetime = typeof claims.iat === 'number' ? claims.exp - claims.iat : Infinity;
  const margin = Math.min(REFRESH_MARGIN_SECONDS, lifetime * (1 - REFRESH_AT_LIFETIME_SHARE));
  return claims.exp - margin <= nowMs / 1000;
}

/** What the typed client asks for the `Authorization` header of each request. */
export interface Credentials {
  /** A JWT for the next request, renewed first when it is about to expire. */
  token(): Promise<string>;
  /**
   * The API answered 401 to `rejected`: a different JWT to retry that request with, once, or
   * `undefined` when there is none to be had.
   */
  renewAfterRejection(rejected: string): Promise<string | undefined>;
  /** For a log line: where the token comes from. */
  readonly source: string;
}

/**
 * A token used as it is: a pasted JWT (TASKFLOW_TOKEN) until it expires, or an API key
 * (TASKFLOW_API_KEY, `tf_…`) until it expires or is revoked; then the API refuses it.
 */
export function staticToken(token: string, source = 'TASKFLOW_TOKEN'): Credentials {
  return {
    token: () => Promise.resolve(token),
    renewAfterRejection: () => Promise.resolve(undefined),
    source,
  };
}
