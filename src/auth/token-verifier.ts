import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import {
  RESERVED_WORKER_ID_RULE,
  isReservedWorkerId,
  isValidWorkerId,
} from '../common/validation/worker-id';
import type { AppConfig, JwtAlgorithm } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuthUser, isAdminRole } from './auth-user';

/** Bounds the memory of the verified-token cache (a token plus its user is ~1 KB). */
const VERIFIED_TOKENS_MAX = 10_000;
/** A Better Auth JWT is well under 2 KB; anything this large is not worth parsing. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * What both verification paths share, around the signature check that each does with its own
 * package (`JoseStrategy` for EdDSA, `PassportJwtStrategy` for RS256 and ES256):
 * - before it, `inspect`: the size, the protected header (decoded, not verified) and its `alg`,
 *   which must be one of JWT_ALGORITHMS; then each strategy verifies only its own algorithms;
 * - after it, `accept`: the claim checks neither package makes the same way (`exp` required,
 *   `iat`/`nbf` not in the future, `iss` and `aud`, a `sub` that is a valid worker id);
 * - the verified-token cache, which `JwtAuthGuard` reads before Passport and fills after it: a
 *   token verified earlier is not verified again until its `exp`, so a busy client does not pay
 *   for a signature check on every request.
 */
/** What a strategy makes of a token it verified (Passport's `user`). */
export interface VerifiedToken {
  user: AuthUser;
  /** Seconds since the epoch. */
  exp: number;
}

@Injectable()
export class TokenVerifier {
  private readonly verified = new LRUCache<string, AuthUser>({ max: VERIFIED_TOKENS_MAX });
  private readonly algorithms: readonly string[];
  /** Counters for /metrics: how often the cache saved a signature check. */
  readonly stats = { cacheHits: 0, signatureChecks: 0 };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.algorithms = config.auth.algorithms;
  }

  /** The user of a token verified earlier and not expired yet, without verifying anything. */
  cached(token: string): AuthUser | undefined {
    return this.verified.get(token);
  }

  /** As `cached`, counted as a cache hit (the guard's lookup). */
  lookup(token: string): AuthUser | undefined {
    const user = this.verified.get(token);
    if (user) this.stats.cacheHits += 1;
    return user;
  }

  /**
   * The token's algorithm, after the checks that need no key: `none`, HS256-with-the-public-key
   * and the like never get as far as a strategy or the JWKS.
   */
  inspect(token: string): JwtAlgorithm {
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('Malformed token');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new UnauthenticatedError('Malformed token');
    }
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw new UnauthenticatedError(
        `Token algorithm ${JSON.stringify(header.alg ?? null)} is not accepted`,
      );
    }
    // RFC 7515: a recipient must refuse extensions it does not understand, and this API
    // understands none. jose refuses them itself; jsonwebtoken (passport-jwt) ignores them.
    if (header.crit !== undefined) {
      throw new UnauthenticatedError(
        'Token header has critical extensions this API does not understand',
      );
    }
    return header.alg as JwtAlgorithm;
  }

  /** After a valid signature: the shared claim checks, then the caller and the token's `exp`. */
  accept(payload: JWTPayload): VerifiedToken {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new UnauthenticatedError('Malformed token');
    }
    checkTimeClaims(payload, this.config.auth.clockToleranceS);
    checkIssuerAndAudience(payload, this.config.auth);
    return { user: toUser(payload), exp: payload.exp as number };
  }

  /**
   * Forgets every cached token of an API key (it was revoked here). Other replicas forget it
   * when their entry runs out (VERIFIED_KEY_TTL_MS).
   */
  forgetKey(keyId: string): void {
    for (const [token, user] of this.verified.entries()) {
      if (user.keyId === keyId) this.verified.delete(token);
    }
  }

  /** Remembers a verified token's caller until its `exp` (an API key's: a few seconds). */
  remember(token: string, { user, exp }: VerifiedToken): void {
    const ttl = exp * 1000 - Date.now();
    if (ttl > 0) this.verified.set(token, user, { ttl });
  }
}

/** The 401 for a claim of the wrong type, or a required one missing. */
export function invalidClaim(claim: string): UnauthenticatedError {
  return new UnauthenticatedError(`Token claim "${claim}" is missing or invalid`);
}

/**
 * `exp` is required, and a token issued (or valid only from) later than now, beyond the clock
 * tolerance, was minted by a clock that is wrong or by someone stockpiling tokens: neither jose
 * nor jsonwebtoken checks `iat`, and jsonwebtoken does not require `exp`. (Both check an `exp`
 * in the past and an `nbf` in the future themselves, with the same tolerance.)
 */
export function checkTimeClaims(payload: JWTPayload, toleranceS: number): void {
  if (typeof payload.exp !== 'number') throw invalidClaim('exp');
  for (const claim of ['iat', 'nbf'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'number') {
      throw invalidClaim(claim);
    }
  }
  const latest = Math.floor(Date.now() / 1000) + toleranceS;
  if (typeof payload.iat === 'number' && payload.iat > latest) {
    throw new UnauthenticatedError('Token is issued in the future');
  }
  if (typeof payload.nbf === 'number' && payload.nbf > latest) {
    throw new UnauthenticatedError('Token is not valid yet');
  }
}

/**
 * `iss` and `aud` when JWT_ISSUER and JWT_AUDIENCE are set: here rather than in jose and
 * jsonwebtoken, since jsonwebtoken tells these refusals from a bad signature only by the words
 * of its message.
 */
export function checkIssuerAndAudience(
  payload: JWTPayload,
  expected: Pick<AppConfig['auth'], 'issuer' | 'audience'>,
): void {
  if (expected.issuer !== undefined && payload.iss !== expected.issuer) {
    throw new UnauthenticatedError('Token issuer is not trusted');
  }
  if (expected.audience !== undefined) {
    const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes(expected.audience)) {
      throw new UnauthenticatedError('Token audience is not this API');
    }
  }
}

/**
 * The caller a verified payload names; its `sub` must be a valid worker id, and not one the API
 * keeps for itself (worker-id.ts).
 */
export function toUser(payload: JWTPayload): AuthUser {
  const sub = payload.sub;
  if (!isValidWorkerId(sub)) throw new UnauthenticatedError('Token subject is missing or invalid');
  if (isReservedWorkerId(sub)) {
    throw new UnauthenticatedError(`Token subject ${RESERVED_WORKER_ID_RULE}`);
  }
  const role = typeof payload.role === 'string' && payload.role ? payload.role : 'user';
  return {
    id: sub,
    email: typeof payload.email === 'string' ? payload.email : null,
    role,
    isAdmin: isAdminRole(role),
  };
}
