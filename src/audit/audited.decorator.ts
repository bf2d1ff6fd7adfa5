import { SetMetadata } from '@nestjs/common';
import type { AuditAction } from './audit-actions';

export const AUDITED_ACTION = 'taskflow:audited-action';

/**
 * Marks a mutating handler: `AuditInterceptor` runs it inside one database transaction and
 * appends the audit entry for `action` before that transaction commits.
 */
export const Audited = (action: AuditAction) => SetMetadata(AUDITED_ACTION, action);
