import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { AuditAction } from './audit-actions';

/** What a service says about the change it made; the action comes from `@Audited()`. */
export interface AuditDetails {
  taskId?: number | null;
  projectSlug?: string | null;
  context?: Record<string, unknown> | null;
}

/** An entry as it will be appended; without `action`, the handler's `@Audited()` one. */
export interface RecordedEntry extends AuditDetails {
  action?: AuditAction;
}

interface Pending {
  /** In the order the changes were made, which is the order they are appended in. */
  entries: RecordedEntry[];
  unchanged: boolean;
}

const TRAIL = Symbol('audit-trail');

/**
 * The hand-over between a service and `AuditInterceptor`, scoped to the request (CLS). The
 * service describes what it changed; the interceptor turns that into audit entries, inside the
 * same transaction, after the handler has succeeded.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly cls: ClsService) {}

  /**
   * @internal for AuditInterceptor: opens the request's trail. The object is created here, in the
   * interceptor's context, and filled in by reference: a nested CLS context (an inner
   * `withTransaction`) inherits the reference, where a value it set would stay its own.
   */
  begin(): void {
    this.cls.set(TRAIL, { entries: [], unchanged: false } satisfies Pending);
  }

  private pending(): Pending {
    const pending = this.cls.get<Pending | undefined>(TRAIL);
    if (!pending) throw new Error('AuditTrail used outside an @Audited() request');
    return pending;
  }

  /** The change the handler made, as its `@Audited()` action. */
  record(details: AuditDetails): void {
    this.pending().entries.push(details);
  }

  /**
   * A change with an action of its own, in the same transaction: a move made through `PATCH`
   * (`completed`, `assigned`…), or the `lease_expired` that precedes a takeover.
   */
  recordAs(action: AuditAction, details: AuditDetails): void {
    this.pending().entries.push({ ...details, action });
  }

  /** The request succeeded without changing anything (e.g. a PATCH with the same values). */
  unchanged(): void {
    this.pending().unchanged = true;
  }

  /** @internal for AuditInterceptor */
  take(): Pending | undefined {
    const pending = this.cls.get<Pending | undefined>(TRAIL);
    this.cls.set(TRAIL, undefined);
    return pending;
  }
}
