import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { AuthUser } from '../auth/auth-user';

/**
 * Rate limiting per caller: the verified user when there is one (it runs after the JWT guard),
 * the client IP otherwise. Limits are kept in memory, so each API replica counts on its own.
 */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(request: { user?: AuthUser; ip?: string }): Promise<string> {
    return Promise.resolve(
      request.user ? `user:${request.user.id}` : `ip:${request.ip ?? 'unknown'}`,
    );
  }
}
