import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'taskflow:public';

/**
 * Opens a route to callers without a token. Every route is closed by default (the global
 * `JwtAuthGuard`); `test/route-guards.e2e-spec.ts` keeps the list of public routes honest.
 */
export const Public = () => SetMetadata(IS_PUBLIC, true);
