import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import passport from 'passport';
import { Strategy as CustomStrategy } from 'passport-custom';
import { bearerToken } from './bearer-token';
import type { AuthUser } from './auth-user';
import { TokenVerifier } from './token-verifier';

/** The Passport strategy name of this app instance (see `AuthModule.forRoot`). */
export const JWT_STRATEGY_NAME = Symbol('JWT_STRATEGY_NAME');

/**
 * The Passport strategy behind the global guard. passport-jwt cannot verify EdDSA (it relies on
 * jsonwebtoken), so this is a passport-custom strategy whose verify step is `TokenVerifier`.
 *
 * It is registered by hand rather than through `PassportStrategy()`: Passport's registry is
 * process-wide, and a fixed name would let the last app built in a process (several live side
 * by side in the tests) answer for all of them. Each app registers under its own name and
 * removes it once it has stopped serving.
 */
@Injectable()
export class JwtStrategy implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(JWT_STRATEGY_NAME) private readonly name: string,
    private readonly verifier: TokenVerifier,
  ) {}

  onModuleInit(): void {
    passport.use(
      this.name,
      new CustomStrategy((request, done) => {
        this.validate(request).then(
          (user) => done(null, user),
          (error: unknown) => done(error),
        );
      }),
    );
  }

  /** After the HTTP server has drained (not at module destroy, which runs before it). */
  onApplicationShutdown(): void {
    passport.unuse(this.name);
  }

  async validate(request: { headers: IncomingHttpHeaders }): Promise<AuthUser> {
    return this.verifier.verify(bearerToken(request.headers.authorization));
  }
}
