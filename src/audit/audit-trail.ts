import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

/** What a service says about the change it made; the action comes from `@Audited()`. */
export interface AuditDetails {
  taskId?: number | null;
  projectSlug?: string | null;
  context?: Record<string, unknown> | null;
}

const TRAIL = Symbol('audit-trail');
type Pending = AuditDetails | 'unchanged';

/**
 * The hand-over between a service and `AuditInterceptor`, scoped to the request (CLS). The
 * service describes what it changed; the interceptor turns that into the audit entry, inside the
 * same transaction, after the handler has succeeded.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly cls: ClsService) {}

  record(details: AuditDetails): void {
    this.cls.set(TRAIL, details);
  }

  /** The request succeeded without changing anything (e.g. a PATCH with the same values). */
  unchanged(): void {
    this.cls.set(TRAIL, 'unchanged');
  }

  /** @internal for AuditInterceptor */
  take(): Pending | undefined {
    const pending = this.cls.get<Pending | undefined>(TRAIL);
    this.cls.set(TRAIL, undefined);
    return pending;
  }
}
