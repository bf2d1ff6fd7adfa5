import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { AuditInterceptor } from './audit.interceptor';

/**
 * Marks a mutating handler: it runs inside one database transaction that honours an
 * `Idempotency-Key` and appends the audit entry for `action` before it commits
 * (`AuditInterceptor`, `UnitOfWork`). Bound per handler rather than globally, so that reads pass
 * through no interceptor.
 */
export const Audited = (action: AuditAction) =>
  applyDecorators(SetMetadata(AUDITED_ACTION, action), UseInterceptors(AuditInterceptor));
