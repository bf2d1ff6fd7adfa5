import type { ApplicationConfig } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * nestjs-cls 6 (the last line that runs on Node 20) registers a global guard and a global
 * interceptor even when neither is mounted: plain objects that let everything through. The
 * interceptor is not free. With any global interceptor, Nest runs every request through rxjs
 * and `AsyncResource.bind`, which on Node 20 also builds two `util.deprecate` wrappers per
 * call: about 100 µs of CPU per request in the benchmark's profile (docs/benchmark.md), on
 * reads that have no interceptor of their own. The CLS context itself comes from the
 * middleware, so dropping these two changes nothing but the cost.
 *
 * They are recognised by shape: TaskFlow's own enhancers are class instances, these are object
 * literals. Must run after `NestFactory.create` (which collects the global enhancers) and before
 * `init`/`listen` (which builds each route's pipeline from them).
 */
export function dropNoopClsEnhancers(app: NestFastifyApplication): number {
  const config = (app as unknown as { config?: ApplicationConfig }).config;
  if (!config || typeof config.getGlobalInterceptors !== 'function') {
    // A Nest release that keeps its config elsewhere: correct, only slower. A test pins this.
    return 0;
  }
  const internals = config as unknown as { globalInterceptors: unknown[]; globalGuards: unknown[] };
  const before = internals.globalInterceptors.length + internals.globalGuards.length;
  internals.globalInterceptors = internals.globalInterceptors.filter((e) => !isObjectLiteral(e));
  internals.globalGuards = internals.globalGuards.filter((e) => !isObjectLiteral(e));
  return before - internals.globalInterceptors.length - internals.globalGuards.length;
}

function isObjectLiteral(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}
