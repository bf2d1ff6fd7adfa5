import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from '../common/errors/domain-errors';
import type { AuthUser } from './auth-user';

const ADMIN_ONLY = 'taskflow:admin-only';

/** Only callers with the `admin` role may use this route (403 for everyone else). */
export const RequireAdmin = () => SetMetadata(ADMIN_ONLY, true);

/** Global guard, after `JwtAuthGuard`: enforces `@RequireAdmin()`. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const adminOnly = this.reflector.getAllAndOverride<boolean | undefined>(ADMIN_ONLY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!adminOnly) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (user?.isAdmin) return true;
    throw new ForbiddenError('Only admins may do this', 'admin_required');
  }
}
