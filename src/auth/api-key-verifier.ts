import { Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import { RESERVED_WORKER_ID_RULE, isReservedWorkerId } from '../common/validation/worker-id';
import { ApiKeyRepository } from './api-key.repository';
import type { AuthUser } from './auth-user';
import type { VerifiedToken } from './token-verifier';

/** What every API key starts with; a JWT never does (its first segment is base64url JSON). */
export const API_KEY_PREFIX = 'tf_';
/** 32 random bytes: 256 bits, written as 43 base64url characters. */
const SECRET_BYTES = 32;
const API_KEY = /^tf_[A-Za-z0-9_-]{43}$/;
/** Characters of the secret (after `tf_`) kept in clear to name the key in lists and logs. */
const PREFIX_LENGTH = 8;

/**
 * How long a replica trusts a key it checked without asking the table again. This is the bound
 * on revocation: a key revoked on one replica is refused by every other one at most this long
 * after the revocation commits (the replica that revokes forgets it at once). Short enough for
 * the promised 5 seconds, long enough that a busy agent costs one lookup every few seconds.
 */
export const VERIFIED_KEY_TTL_MS = 2000;
/** `last_used_at` is written at most this often per key (and per replica, at most once). */
const TOUCH_EVERY_MS = 60_000;

/** Whether a bearer token is an API key rather than a JWT. */
export const isApiKey = (token: string): boolean => token.startsWith(API_KEY_PREFIX);

/** SHA-256 (hex) of the whole key: all the table keeps of it. */
export const secretHashOf = (key: string): string =>
  createHash('sha256').update(key, 'utf8').digest('hex');

/** A new key: the secret (answered once), the prefix that names it, and the hash to store. */
export function newApiKey(): { key: string; prefix: string; secretHash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return {
    key,
    prefix: key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + PREFIX_LENGTH),
    secretHash: secretHashOf(key),
  };
}

/**
 * Checks an API key against the table and makes the caller of it: the key's worker, never an
 * admin, with the key's scopes and project allow-list. Refusals are 401s worded like the JWT
 * ones, and never echo the key.
 */
@Injectable()
export class ApiKeyVerifier {
  private readonly logger = new Logger('ApiKeys');
  /** When each key's `last_used_at` was last written by this replica. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly keys: ApiKeyRepository) {}

  async verify(token: string): Promise<VerifiedToken> {
    if (!API_KEY.test(token)) throw new UnauthenticatedError('Malformed API key');
    const key = await this.keys.findBySecretHash(secretHashOf(token));
    if (!key) throw new UnauthenticatedError('Invalid API key');
    if (key.revoked_at) throw new UnauthenticatedError('API key revoked');
    const expiresAt = key.expires_at.getTime();
    if (expiresAt <= Date.now()) throw new UnauthenticatedError('API key expired');
    // A worker registered under the id before it was reserved: its keys name no one.
    if (isReservedWorkerId(key.worker_id)) {
      throw new UnauthenticatedError(`API key's worker ${RESERVED_WORKER_ID_RULE}`);
    }
    this.touch(key.id);
    const user: AuthUser = {
      id: key.worker_id,
      email: null,
      role: 'user',
      isAdmin: false,
      keyId: key.id,
      keyExpiresAt: expiresAt,
      scopes: key.scopes,
      projects: key.projects,
    };
    // `exp` bounds the guard's cache: the key is checked again after VERIFIED_KEY_TTL_MS.
    return { user, exp: Math.min(expiresAt, Date.now() + VERIFIED_KEY_TTL_MS) / 1000 };
  }

  private touch(keyId: string): void {
    const now = Date.now();
    if (now - (this.touched.get(keyId) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(keyId, now);
    // Off the request's path: a failed bookkeeping write must not refuse a valid key.
    this.keys.touch(keyId).catch((error: unknown) => {
      this.logger.warn(`Cannot record the use of key ${keyId}: ${(error as Error).message}`);
    });
  }
}
