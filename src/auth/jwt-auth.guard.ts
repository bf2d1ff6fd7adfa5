import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, AuthModuleOptions } from '@nestjs/passport';
import type { FastifyReply } from 'fastify';
import { DomainError, UnauthenticatedError } from '../common/errors/domain-errors';
import type { RequestLogFields } from '../logging/logger';
import type { AuthUser } from './auth-user';
import { IS_PUBLIC } from './public.decorator';

/**
 * The global guard (APP_GUARD): every route needs a valid bearer token unless it is marked
 * `@Public()`. Failures are 401s whose message says why, never echoing the token.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AuthModuleOptions) options: AuthModuleOptions,
  ) {
    // The options carry this app's strategy name (`defaultStrategy`).
    super(options);
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context) as Promise<boolean>;
  }

  override handleRequest<TUser = AuthUser>(
    error: unknown,
    user: TUser | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error instanceof DomainError) throw error;
    if (error || !user) {
      // Anything else (a bug in a strategy, say) is still an authentication failure to the client.
      throw new UnauthenticatedError('Invalid token');
    }
    // For the request log line, written when the response finishes.
    const raw = context.switchToHttp().getRequest<{ raw: RequestLogFields }>().raw;
    raw.taskflowActor = (user as unknown as AuthUser).id;
    // An answer for one caller: no shared cache (a proxy, a CDN) may keep it for another.
    context.switchToHttp().getResponse<FastifyReply>().header('Cache-Control', 'no-store');
    return user;
  }
}
