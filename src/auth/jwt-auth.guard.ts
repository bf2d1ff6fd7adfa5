import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError, ForbiddenError, UnauthenticatedError } from '../common/errors/domain-errors';
import type { RequestLogFields } from '../logging/logger';
import { isApiKey } from './api-key-verifier';
import { API_KEY_STRATEGY } from './api-key.strategy';
import type { AuthUser } from './auth-user';
import { bearerToken } from './bearer-token';
import { JOSE_STRATEGY } from './jose.strategy';
import { PASSPORT_JWT_STRATEGY, passportJwtFailure } from './passport-jwt.strategy';
import { IS_PUBLIC } from './public.decorator';
import { TokenVerifier, VerifiedToken } from './token-verifier';

/**
 * The global guard (APP_GUARD): every route needs a valid bearer token unless it is marked
 * `@Public()`. A token verified earlier comes from the cache; any other is handed to Passport's
 * strategies in turn: `ApiKeyStrategy` checks an API key (`tf_…`) and passes a JWT on; a JWT is
 * first inspected without verification (`TokenVerifier.inspect`: size, header, `alg` within
 * JWT_ALGORITHMS, no `crit`), then `JoseStrategy` verifies EdDSA and passes any other token on to
 * `PassportJwtStrategy`, which verifies RS256 and ES256, so no token is verified twice. Failures
 * are 401s whose message says why, never echoing the token.
 *
 * A caller with an API key also meets the key's scopes here, on every route at once: without
 * `write`, only GET and HEAD (403 `insufficient_scope`).
 */
/** What a key with the `read` scope alone may send. */
const READ_METHODS = ['GET', 'HEAD'];

@Injectable()
export class JwtAuthGuard extends AuthGuard([
  API_KEY_STRATEGY,
  JOSE_STRATEGY,
  PASSPORT_JWT_STRATEGY,
]) {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {
    super();
  }

  // Not `async`: a token from the cache is admitted without a promise, which Nest's guard runner
  // would otherwise await on every request.
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
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
      request.user = this.admit(cached, context);
      return true;
    }
    if (!isApiKey(token)) this.verifier.inspect(token);
    return super.canActivate(context) as Promise<boolean>;
  }

  /**
   * Passport's verdict. With several strategies, `info` lists each one's reason for refusing;
   * only the strategy for the token's algorithm gives one (the others passed it on). A verified
   * token is remembered here, by this app's own verifier.
   */
  override handleRequest<TUser = AuthUser>(
    error: unknown,
    user: unknown,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error instanceof DomainError) throw error;
    if (error) throw new UnauthenticatedError('Invalid token'); // a bug in a strategy, say
    if (!user) throw passportJwtFailure([info].flat().find((reason) => reason !== undefined));
    const verified = user as VerifiedToken;
    const request = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    this.verifier.remember(bearerToken(request.headers.authorization), verified);
    return this.admit(verified.user, context) as TUser;
  }

  private admit(caller: AuthUser, context: ExecutionContext): AuthUser {
    const { method } = context.switchToHttp().getRequest<{ method: string }>();
    if (caller.scopes && !caller.scopes.includes('write') && !READ_METHODS.includes(method)) {
      throw new ForbiddenError(
        `This API key has the scope "read" only; ${method} needs the scope "write"`,
        'insufficient_scope',
      );
    }
    // For the request log line, written when the response finishes.
    context.switchToHttp().getRequest<{ raw: RequestLogFields }>().raw.taskflowActor = caller.id;
    // An answer for one caller: no shared cache (a proxy, a CDN) may keep it for another.
    context.switchToHttp().getResponse<FastifyReply>().header('Cache-Control', 'no-store');
    return caller;
  }
}
