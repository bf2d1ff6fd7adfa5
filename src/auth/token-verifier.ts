import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import { isValidWorkerId } from '../common/validation/worker-id';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuthUser, isAdminRole } from './auth-user';
import { SigningKeys } from './signing-keys';

/** Bounds the memory of the verified-token cache (a token plus its user is ~1 KB). */
const VERIFIED_TOKENS_MAX = 10_000;
/** A Better Auth JWT is well under 2 KB; anything this large is not worth parsing. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies bearer tokens: EdDSA, ES256, RS256 (… within JWT_ALGORITHMS) with jose, which unlike
 * jsonwebtoken (and so passport-jwt) can verify EdDSA. A verified token is remembered until its
 * `exp` so that a busy client does not pay for a signature check on every request.
 */
@Injectable()
export class TokenVerifier {
  private readonly verified = new LRUCache<string, AuthUser>({ max: VERIFIED_TOKENS_MAX });
  private readonly algorithms: string[];
  /** Counters for /metrics: how often the cache saved a signature check. */
  readonly stats = { cacheHits: 0, signatureChecks: 0 };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
  ) {
    this.algorithms = config.auth.algorithms;
  }

  /** The user of a token verified earlier and not expired yet, without verifying anything. */
  cached(token: string): AuthUser | undefined {
    return this.verified.get(token);
  }

  async verify(token: string): Promise<AuthUser> {
    const cached = this.verified.get(token);
    if (cached) {
      this.stats.cacheHits += 1;
      return cached;
    }
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('Malformed token');

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new UnauthenticatedError('Malformed token');
    }
    // Checked before any key lookup: `none`, HS256-with-the-public-key and the like never get
    // as far as the JWKS.
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw new UnauthenticatedError(
        `Token algorithm ${JSON.stringify(header.alg ?? null)} is not accepted`,
      );
    }
    const kid = typeof header.kid === 'string' && header.kid.length <= 256 ? header.kid : undefined;
    const { key, alg: keyAlg } = await this.keys.get(kid);
    if (keyAlg && keyAlg !== header.alg) {
      throw new UnauthenticatedError('Token algorithm does not match its signing key');
    }

    let payload: JWTPayload;
    this.stats.signatureChecks += 1;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [header.alg],
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
        clockTolerance: this.config.auth.clockToleranceS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new UnauthenticatedError(reasonOf(error));
    }

    checkIssuedAt(payload, this.config.auth.clockToleranceS);
    const user = toUser(payload);
    const ttl = (payload.exp as number) * 1000 - Date.now();
    if (ttl > 0) this.verified.set(token, user, { ttl });
    return user;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'Token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'Token issuer is not trusted';
      case 'aud':
        return 'Token audience is not this API';
      case 'nbf':
        return 'Token is not valid yet';
      default:
        return `Token claim "${error.claim}" is missing or invalid`;
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'Invalid token signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'Token algorithm is not accepted';
  return 'Malformed token';
}

/**
 * A token issued (or valid only from) later than now, beyond the clock tolerance, was minted by
 * a clock that is wrong or by someone stockpiling tokens: jose checks `nbf` but not `iat`.
 */
export function checkIssuedAt(payload: JWTPayload, toleranceS: number): void {
  const latest = Math.floor(Date.now() / 1000) + toleranceS;
  if (typeof payload.iat === 'number' && payload.iat > latest) {
    throw new UnauthenticatedError('Token is issued in the future');
  }
  if (typeof payload.nbf === 'number' && payload.nbf > latest) {
    throw new UnauthenticatedError('Token is not valid yet');
  }
}

/** The caller a verified payload names; its `sub` must be a valid worker id (worker-id.ts). */
export function toUser(payload: JWTPayload): AuthUser {
  const sub = payload.sub;
  if (!isValidWorkerId(sub)) throw new UnauthenticatedError('Token subject is missing or invalid');
  const role = typeof payload.role === 'string' && payload.role ? payload.role : 'user';
  return {
    id: sub,
    email: typeof payload.email === 'string' ? payload.email : null,
    role,
    isAdmin: isAdminRole(role),
  };
}
