import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, IAuthGuard } from '@nestjs/passport';
import type { FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError, UnauthenticatedError } from '../common/errors/domain-errors';
import type { RequestLogFields } from '../logging/logger';
import type { AuthUser } from './auth-user';
import { bearerToken } from './bearer-token';
import { JOSE_ALGORITHMS, JoseStrategy } from './jose.strategy';
import {
  PASSPORT_JWT_ALGORITHMS,
  PassportJwtStrategy,
  passportJwtFailure,
} from './passport-jwt.strategy';
import { IS_PUBLIC } from './public.decorator';
import { TokenVerifier } from './token-verifier';

type Admit = (error: unknown, user: unknown, info: unknown, context: ExecutionContext) => AuthUser;

/** @nestjs/passport's `AuthGuard`, running one named strategy of this app. */
class StrategyGuard extends AuthGuard() {
  constructor(
    strategy: string,
    private readonly admit: Admit,
  ) {
    super({ defaultStrategy: strategy, session: false });
  }

  override handleRequest<TUser = AuthUser>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    return this.admit(error, user, info, context) as TUser;
  }
}

/**
 * The global guard (APP_GUARD): every route needs a valid bearer token unless it is marked
 * `@Public()`. A token verified earlier comes from the cache; any other is inspected without
 * verification (`TokenVerifier.inspect`: size, header, `alg` within JWT_ALGORITHMS, no `crit`)
 * and handed to the one strategy for its `alg`, so no token is verified twice: EdDSA to
 * `JoseStrategy`, RS256 and ES256 to `PassportJwtStrategy`. Failures are 401s whose message says
 * why, never echoing the token.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly byAlg = new Map<string, IAuthGuard>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    jose: JoseStrategy,
    passportJwt: PassportJwtStrategy,
  ) {
    const admit: Admit = (error, user, info, context) => this.admit(error, user, info, context);
    for (const [strategy, algs] of [
      [jose, JOSE_ALGORITHMS],
      [passportJwt, PASSPORT_JWT_ALGORITHMS],
    ] as const) {
      const guard = new StrategyGuard(strategy.name, admit);
      for (const alg of algs) this.byAlg.set(alg, guard);
    }
  }

  // Not `async`: a token from the cache is admitted without a promise, which Nest's guard runner
  // would otherwise await on every request.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const request = context
      .switchToHttp()
      .getRequest<{ headers: IncomingHttpHeaders; user?: AuthUser }>();
    const token = bearerToken(request.headers.authorization);
    const cached = this.verifier.lookup(token);
    if (cached) {
      request.user = this.admit(null, cached, undefined, context);
      return true;
    }
    const guard = this.byAlg.get(this.verifier.inspect(token));
    // JWT_ALGORITHMS only lists algorithms that a strategy verifies (config.ts).
    if (!guard) throw new UnauthenticatedError('Token algorithm is not accepted');
    return guard.canActivate(context) as Promise<boolean>;
  }

  private admit(error: unknown, user: unknown, info: unknown, context: ExecutionContext): AuthUser {
    if (error instanceof DomainError) throw error;
    if (error) throw new UnauthenticatedError('Invalid token'); // a bug in a strategy, say
    if (!user) throw passportJwtFailure(info);
    const caller = user as AuthUser;
    // For the request log line, written when the response finishes.
    context.switchToHttp().getRequest<{ raw: RequestLogFields }>().raw.taskflowActor = caller.id;
    // An answer for one caller: no shared cache (a proxy, a CDN) may keep it for another.
    context.switchToHttp().getResponse<FastifyReply>().header('Cache-Control', 'no-store');
    return caller;
  }
}
