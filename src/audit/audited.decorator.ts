import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { AuditInterceptor } from './audit.interceptor';

/**
 * Marks a mutating handler: `AuditInterceptor` runs it inside one database transaction, honours
 * an `Idempotency-Key` there, and appends the audit entry for `action` before that transaction
 * commits. Bound here rather than globally, so that reads never pass through it.
 */
export const Audited = (action: AuditAction) =>
  applyDecorators(SetMetadata(AUDITED_ACTION, action), UseInterceptors(AuditInterceptor));
