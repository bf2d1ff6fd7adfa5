import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import { passportJwtSecret } from 'jwks-rsa';
import type passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AppStrategy, STRATEGY_PREFIX } from './app-strategy';
import { jwksClientOptions, unknownKeyError } from './signing-keys';
import { TokenVerifier, invalidClaim } from './token-verifier';

/**
 * The algorithms this strategy verifies, given to jsonwebtoken explicitly: never what the token
 * header says, so `none` and HS256-signed-with-the-public-key fail here too, whatever got past
 * the guard.
 */
export const PASSPORT_JWT_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

/**
 * RS256 and ES256 tokens, with passport-jwt as the design card names it: the bearer token from
 * the Authorization header, the key from the JWKS by `kid` (jwks-rsa's `passportJwtSecret`), the
 * signature, `exp`, `nbf`, `iss` and `aud` checked by jsonwebtoken; then the shared claim checks.
 */
@Injectable()
export class PassportJwtStrategy extends AppStrategy {
  private readonly logger = new Logger('SigningKeys');

  constructor(
    @Inject(STRATEGY_PREFIX) prefix: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
  ) {
    super(`${prefix}:passport-jwt`);
  }

  protected create(): passport.Strategy {
    const fromRequest = ExtractJwt.fromAuthHeaderAsBearerToken();
    const keyOf = passportJwtSecret({
      ...jwksClientOptions(this.config, this.logger),
      // Its default answers an unknown kid with no key, which jsonwebtoken reports vaguely.
      handleSigningKeyError: (error, cb) => cb(unknownKeyError(error, this.logger)),
    });
    return new JwtStrategy(
      {
        jwtFromRequest: fromRequest,
        secretOrKeyProvider: (request, token, done) =>
          keyOf(request, token, (error, key) => {
            if (key) this.verifier.stats.signatureChecks += 1;
            done(error, key);
          }),
        algorithms: [...PASSPORT_JWT_ALGORITHMS] as JwtStrategyAlgorithms,
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
        jsonWebTokenOptions: { clockTolerance: this.config.auth.clockToleranceS },
        passReqToCallback: true,
      },
      (request: unknown, payload: JWTPayload, done: (error: unknown, user?: unknown) => void) => {
        try {
          done(null, this.verifier.accept(fromRequest(request) as string, payload));
        } catch (error) {
          done(error);
        }
      },
    );
  }
}

type JwtStrategyAlgorithms = ConstructorParameters<typeof JwtStrategy>[0]['algorithms'];

/**
 * The 401 for what passport-jwt reports as a failure (jsonwebtoken's errors, or the key
 * provider's), worded as the jose path words the same fault.
 */
export function passportJwtFailure(info: unknown): UnauthenticatedError {
  if (info instanceof UnauthenticatedError) return info;
  const error = info as { name?: string; message?: string } | undefined;
  const message = error?.message ?? '';
  switch (error?.name) {
    case 'TokenExpiredError':
      return new UnauthenticatedError('Token expired');
    case 'NotBeforeError':
      return new UnauthenticatedError('Token is not valid yet');
    case 'JsonWebTokenError':
      if (message === 'invalid signature')
        return new UnauthenticatedError('Invalid token signature');
      if (message.startsWith('jwt issuer invalid'))
        return new UnauthenticatedError('Token issuer is not trusted');
      if (message.startsWith('jwt audience invalid'))
        return new UnauthenticatedError('Token audience is not this API');
      if (message === 'invalid algorithm')
        return new UnauthenticatedError('Token algorithm is not accepted');
      if (message === 'invalid exp value') return invalidClaim('exp');
      if (message === 'invalid nbf value') return invalidClaim('nbf');
      return new UnauthenticatedError('Malformed token');
    default:
      // jsonwebtoken checks the key's type against `alg` with plain Errors: an RS256 token
      // naming an EC key's kid, an ES256 token naming an Ed25519 key's.
      if (/"alg" parameter|key type/.test(message)) {
        return new UnauthenticatedError('Token algorithm does not match its signing key');
      }
      return new UnauthenticatedError('Invalid token');
  }
}
