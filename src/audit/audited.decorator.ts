import { Req, Res, SetMetadata, applyDecorators } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { AUDIT_ADAPTER, type AuditAdapter } from './audit.adapter';

/**
 * Marks a mutating handler: it runs inside one database transaction that honours an
 * `Idempotency-Key` and appends the audit entry for `action` before it commits (`AuditAdapter`,
 * `UnitOfWork`). Bound per handler rather than globally, so that reads never pass through it.
 */
export const Audited = (action: AuditAction) =>
  applyDecorators(SetMetadata(AUDITED_ACTION, action), runAsUnitOfWork);

/**
 * Replaces the handler with one that runs it through its app's `AuditAdapter`. The request and
 * the reply reach the wrapper as two extra parameters, declared with Nest's own `@Req()` and
 * `@Res({ passthrough: true })` after the handler's, so Nest still sends the answer, the handler
 * sees only its own arguments, and the guards and the validation pipe run first as for any
 * route. The metadata other decorators left on the handler moves to the wrapper.
 */
const runAsUnitOfWork: MethodDecorator = (target, key, descriptor) => {
  const original = descriptor.value as (...args: unknown[]) => unknown;
  const declaredTypes = Reflect.getMetadata('design:paramtypes', target, key) as
    unknown[] | undefined;
  const declared = Math.max(original.length, declaredTypes?.length ?? 0);
  Req()(target, key, declared);
  Res({ passthrough: true })(target, key, declared + 1);
  const handler = function (this: Record<symbol, AuditAdapter | undefined>, ...args: unknown[]) {
    const adapter = this[AUDIT_ADAPTER];
    if (!adapter) throw new Error(`@Audited ${String(key)}: AuditModule is not in this app`);
    return adapter.run(
      this,
      handler,
      args[declared] as FastifyRequest & { user: AuthUser },
      args[declared + 1] as FastifyReply,
      () => original.apply(this, args.slice(0, declared)),
    );
  };
  Object.defineProperty(handler, 'name', { value: original.name });
  for (const metadataKey of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), handler);
  }
  (descriptor as TypedPropertyDescriptor<unknown>).value = handler;
};
