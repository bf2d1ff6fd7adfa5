import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditAction } from './audit-actions';

/** What a service says about the change it made; the action comes from the unit of work. */
export interface AuditDetails {
  taskId?: number | null;
  projectSlug?: string | null;
  context?: Record<string, unknown> | null;
}

/** An entry as it will be appended; without `action`, the unit of work's own. */
export interface RecordedEntry extends AuditDetails {
  action?: AuditAction;
}

/** What one unit of work has recorded so far. */
export interface PendingEntries {
  /** In the order the changes were made, which is the order they are appended in. */
  entries: RecordedEntry[];
  unchanged: boolean;
  /** A unit of work run inside this one recorded its own entries (or its own no-change). */
  nestedRecorded: boolean;
}

/**
 * The hand-over between a service and the unit of work that runs it. The service describes
 * what it changed; `UnitOfWork` appends those entries in the same transaction once the work
 * has succeeded. Scoped by `AsyncLocalStorage`, so concurrent units of work never mix.
 */
@Injectable()
export class AuditTrail {
  private readonly current = new AsyncLocalStorage<PendingEntries>();

  /** @internal for UnitOfWork: runs `work` with a fresh trail and hands that trail back. */
  collect<T>(work: (pending: PendingEntries) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    const pending: PendingEntries = { entries: [], unchanged: false, nestedRecorded: false };
    return this.current.run(pending, async () => {
      const result = await work(pending);
      // A batch that only wraps other units of work still records something: theirs.
      if (outer) outer.nestedRecorded = true;
      return result;
    });
  }

  private pending(): PendingEntries {
    const pending = this.current.getStore();
    if (!pending) throw new Error('AuditTrail used outside a unit of work (UnitOfWork.run)');
    return pending;
  }

  /** The change the work made, as its own action. */
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

  /** The work succeeded without changing anything (e.g. a PATCH with the same values). */
  unchanged(): void {
    this.pending().unchanged = true;
  }
}
