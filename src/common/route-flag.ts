import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/**
 * A boolean route decorator (`@Public()`, `@RequireAdmin()`…) as a guard reads it on every
 * request: the handler's value, else its controller's. Read through the reflector once per
 * handler and controller, then remembered: the metadata does not change once the app is built,
 * and the reflector walks both prototype chains on every call.
 */
export function routeFlag(
  reflector: Reflector,
  key: string,
): (context: ExecutionContext) => boolean {
  const byController = new WeakMap<object, WeakMap<object, boolean>>();
  return (context) => {
    const controller = context.getClass();
    const handler = context.getHandler();
    let flags = byController.get(controller);
    if (!flags) {
      flags = new WeakMap();
      byController.set(controller, flags);
    }
    let flag = flags.get(handler);
    if (flag === undefined) {
      flag = reflector.getAllAndOverride<boolean | undefined>(key, [handler, controller]) === true;
      flags.set(handler, flag);
    }
    return flag;
  };
}
