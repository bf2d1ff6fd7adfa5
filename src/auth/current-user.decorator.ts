import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { AuthUser } from './auth-user';

/**
 * Placeholder identity until JWT verification lands (the auth issue replaces this file's body):
 * every caller is the same development user.
 */
const STUB_USER: AuthUser = { id: 'dev-user', email: null, role: 'user', isAdmin: false };

export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<{ user?: AuthUser }>();
  return request.user ?? STUB_USER;
});
