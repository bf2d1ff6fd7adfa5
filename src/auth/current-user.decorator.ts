import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { AuthUser } from './auth-user';

/** The verified caller (set by `JwtAuthGuard`). Only meaningful on guarded routes. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<{ user?: AuthUser }>();
  if (!request.user) throw new Error('@CurrentUser() used on a route without authentication');
  return request.user;
});
