import type { ApplicationConfig } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * nestjs-cls 6 (the last line that runs on Node 20) registers a global guard and a global
 * interceptor even when neither is mounted: object literals that let everything through
 * (`ClsRootModule.clsGuardFactory` / `clsInterceptorFactory`). The interceptor is not free: with
 * any global interceptor, Nest runs every request through rxjs and `AsyncResource.bind`, which
 * on Node 20 also builds two `util.deprecate` wrappers per call. Dropping the pair took
 * `GET /api/tasks/{id}` from about 45 % to 61 % of the raw baseline (docs/benchmark.md). The
 * CLS context of a mutation comes from its transaction (see app.module.ts), so nothing else
 * changes.
 *
 * Matched exactly (one own method, nestjs-cls's source text), never by a looser shape: a real
 * guard given as `useValue: { canActivate }` must never be dropped by accident. Must run after
 * `NestFactory.create` (which collects the global enhancers) and before `init`/`listen` (which
 * builds each route's pipeline from them). `test/route-guards.e2e-spec.ts` pins the result.
 */
export function dropNoopClsEnhancers(app: NestFastifyApplication): void {
  const config = (app as unknown as { config?: ApplicationConfig }).config;
  const internals = config as unknown as
    { globalInterceptors?: unknown[]; globalGuards?: unknown[] } | undefined;
  if (!Array.isArray(internals?.globalInterceptors) || !Array.isArray(internals?.globalGuards)) {
    return; // A Nest release that keeps them elsewhere: correct, only slower (the test fails).
  }
  internals.globalInterceptors = internals.globalInterceptors.filter(
    (e) => !isNoop(e, 'intercept', '(_, next) => next.handle()'),
  );
  internals.globalGuards = internals.globalGuards.filter(
    (e) => !isNoop(e, 'canActivate', '() => true'),
  );
}

function isNoop(value: unknown, method: string, source: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  const fn = (value as Record<string, unknown>)[method];
  return (
    keys.length === 1 && keys[0] === method && typeof fn === 'function' && String(fn) === source
  );
}
