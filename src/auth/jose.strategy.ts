import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload } from 'jose';
import type { IncomingHttpHeaders } from 'node:http';
import { Strategy as CustomStrategy } from 'passport-custom';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { bearerToken } from './bearer-token';
import { SigningKeys } from './signing-keys';
import { TokenVerifier, VerifiedToken, invalidClaim } from './token-verifier';

/** This strategy's name for Passport, and `AuthGuard`'s. */
export const JOSE_STRATEGY = 'jose';

/** The algorithms this strategy verifies: jsonwebtoken, under passport-jwt, cannot do EdDSA. */
export const JOSE_ALGORITHMS: readonly string[] = ['EdDSA'];

/**
 * EdDSA tokens (Better Auth's default), verified with jose: a passport-custom strategy, since
 * passport-jwt's verifier (jsonwebtoken) cannot check EdDSA. Keys from `SigningKeys`. A token of
 * another algorithm is passed on to the next strategy without a reason of its own.
 */
@Injectable()
export class JoseStrategy extends PassportStrategy(CustomStrategy, JOSE_STRATEGY) {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly verifier: TokenVerifier,
  ) {
    super();
  }

  async validate(request: { headers: IncomingHttpHeaders }): Promise<VerifiedToken | null> {
    const token = bearerToken(request.headers.authorization);
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthenticatedError('Malformed token');
    }
    return typeof alg === 'string' && JOSE_ALGORITHMS.includes(alg) ? this.verify(token) : null;
  }

  /** A token with an `alg` of JOSE_ALGORITHMS. */
  async verify(token: string): Promise<VerifiedToken> {
    const header = decodeProtectedHeader(token);
    const kid = typeof header.kid === 'string' && header.kid.length <= 256 ? header.kid : undefined;
    const { key, alg: keyAlg } = await this.keys.get(kid);
    if (keyAlg && keyAlg !== header.alg) {
      throw new UnauthenticatedError('Token algorithm does not match its signing key');
    }

    let payload: JWTPayload;
    this.verifier.stats.signatureChecks += 1;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [...JOSE_ALGORITHMS],
        clockTolerance: this.config.auth.clockToleranceS,
      }));
    } catch (error) {
      throw joseFailure(error);
    }
    return this.verifier.accept(payload);
  }
}

/** jose's refusal as the 401 the passport-jwt path gives for the same fault. */
function joseFailure(error: unknown): UnauthenticatedError {
  if (error instanceof joseErrors.JWTExpired) return new UnauthenticatedError('Token expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.claim === 'nbf' && error.reason === 'check_failed'
      ? new UnauthenticatedError('Token is not valid yet')
      : invalidClaim(error.claim);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new UnauthenticatedError('Invalid token signature');
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new UnauthenticatedError('Token algorithm is not accepted');
  }
  return new UnauthenticatedError('Malformed token');
}
