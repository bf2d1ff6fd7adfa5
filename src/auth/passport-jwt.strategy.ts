import { Inject, Injectable, Logger } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingMessage } from 'node:http';
import { createPublicKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, JWTPayload } from 'jose';
import { passportJwtSecret } from 'jwks-rsa';
import { Algorithm, JsonWebTokenError, NotBeforeError, TokenExpiredError } from 'jsonwebtoken';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { jwksClientOptions, unknownKeyError } from './signing-keys';
import { TokenVerifier, VerifiedToken, checkTimeClaims } from './token-verifier';

/** This strategy's name for Passport, and `AuthGuard`'s. */
export const PASSPORT_JWT_STRATEGY = 'jwt';

/**
 * The algorithms this strategy verifies, given to jsonwebtoken explicitly: never what the token
 * header says, so `none` and HS256-signed-with-the-public-key fail here too, whatever got past
 * the guard.
 */
export const PASSPORT_JWT_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

/** The key type each algorithm is verified with. */
const KEY_TYPE: Record<string, string> = { RS256: 'rsa', ES256: 'ec' };

type KeyCallback = (error: unknown, key?: string) => void;

/**
 * RS256 and ES256 tokens, with passport-jwt as the design card names it: the bearer token from
 * the Authorization header, the key from the JWKS by `kid` (jwks-rsa's `passportJwtSecret`), the
 * signature, `exp` and `nbf` checked by jsonwebtoken; then the shared claim checks
 * (`TokenVerifier.accept`).
 *
 * Before the key is fetched, what jsonwebtoken would refuse with no more than a message (a
 * foreign algorithm, a payload that is not JSON, time claims of the wrong type, a key of another
 * type than the algorithm) is refused here with the reason, so that its errors can be told apart
 * by their classes alone.
 */
@Injectable()
export class PassportJwtStrategy extends PassportStrategy(JwtStrategy, PASSPORT_JWT_STRATEGY) {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly verifier: TokenVerifier,
  ) {
    const logger = new Logger('SigningKeys');
    const keyOf = passportJwtSecret({
      ...jwksClientOptions(config, logger),
      // Its default answers an unknown kid with no key, which jsonwebtoken reports vaguely.
      handleSigningKeyError: (error, cb) => cb(unknownKeyError(error, logger)),
    });
    /** The type of each key jwks-rsa hands out (as PEM). */
    const keyTypes = new Map<string, string | undefined>();
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (request: IncomingMessage, token: string, done: KeyCallback) => {
        let alg: string | undefined;
        try {
          alg = decodeProtectedHeader(token).alg;
          checkTimeClaims(decodeJwt(token), config.auth.clockToleranceS);
        } catch (error) {
          done(
            error instanceof UnauthenticatedError
              ? error
              : new UnauthenticatedError('Malformed token'),
          );
          return;
        }
        if (!alg || !PASSPORT_JWT_ALGORITHMS.includes(alg)) {
          done(new UnauthenticatedError('Token algorithm is not accepted'));
          return;
        }
        keyOf(request, token, (error, pem) => {
          if (error || typeof pem !== 'string') {
            done(error ?? new UnauthenticatedError('Token signed with an unknown key'));
            return;
          }
          if (!keyTypes.has(pem)) keyTypes.set(pem, createPublicKey(pem).asymmetricKeyType);
          if (keyTypes.get(pem) !== KEY_TYPE[alg]) {
            done(new UnauthenticatedError('Token algorithm does not match its signing key'));
            return;
          }
          verifier.stats.signatureChecks += 1;
          done(null, pem);
        });
      },
      algorithms: [...PASSPORT_JWT_ALGORITHMS] as Algorithm[],
      jsonWebTokenOptions: { clockTolerance: config.auth.clockToleranceS },
    });
  }

  validate(payload: JWTPayload): VerifiedToken {
    return this.verifier.accept(payload);
  }
}

/**
 * The 401 for what passport-jwt reports as a failure: the reasons given above, or jsonwebtoken's
 * errors, by their classes (worded as the jose path words the same fault).
 */
export function passportJwtFailure(info: unknown): UnauthenticatedError {
  if (info instanceof UnauthenticatedError) return info;
  if (info instanceof TokenExpiredError) return new UnauthenticatedError('Token expired');
  if (info instanceof NotBeforeError) return new UnauthenticatedError('Token is not valid yet');
  // The token's form, algorithm and key were checked before: what is left is its signature.
  if (info instanceof JsonWebTokenError) return new UnauthenticatedError('Invalid token signature');
  return new UnauthenticatedError('Invalid token');
}
