import { Injectable } from '@nestjs/common';
import type { AuditAction } from '../audit/audit-actions';
import { AuditTrail } from '../audit/audit-trail';
import { Sql } from '../database/sql';
import type { AuthUser } from '../auth/auth-user';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors';
import { canTransition } from './task-state-machine';
import { Task } from './task.entity';
import { CLAIMABLE, MoveColumn, claimNextCandidateSql, moveTaskSql } from './task.sql';
import { TaskDependenciesService } from './task-dependencies.service';
import { hasUnfinishedDependency } from './task-dependencies.sql';
import type { TaskPriority, TaskStatus } from './task.enums';

/** A lifecycle route: which statuses it leaves from, where it goes, who may use it. */
interface Move {
  action: AuditAction;
  from: readonly TaskStatus[];
  /** Where the task goes; `unblock` goes back to work or to the queue depending on assignment. */
  to: TaskStatus | 'resume';
  /** Only the assignee (or an admin) may act on an assigned task. */
  assigneeOnly: boolean;
}

const MOVES = {
  start: { action: 'started', from: ['pending'], to: 'in_progress', assigneeOnly: false },
  progress: { action: 'progressed', from: ['in_progress'], to: 'in_progress', assigneeOnly: true },
  review: { action: 'review_requested', from: ['in_progress'], to: 'review', assigneeOnly: true },
  complete: {
    action: 'completed',
    from: ['in_progress', 'review'],
    to: 'completed',
    assigneeOnly: true,
  },
  block: {
    action: 'blocked',
    from: ['pending', 'in_progress', 'review'],
    to: 'blocked',
    assigneeOnly: false,
  },
  unblock: { action: 'unblocked', from: ['blocked'], to: 'resume', assigneeOnly: false },
  release: { action: 'released', from: ['in_progress'], to: 'pending', assigneeOnly: true },
} as const satisfies Record<string, Move>;
export type LifecycleMove = keyof typeof MOVES;
/** The moves run by the generic conditional update (`start` is a claim, see below). */
type SimpleMove = Exclude<LifecycleMove, 'start'>;

/**
 * Every move must be an edge of the one state machine (`task-state-machine.ts`). `progress`
 * stays in place and is not a transition; it is checked against its `from` only.
 */
for (const [name, move] of Object.entries(MOVES) as [string, Move][]) {
  const targets: TaskStatus[] = move.to === 'resume' ? ['pending', 'in_progress'] : [move.to];
  for (const from of move.from) {
    for (const to of targets) {
      if (from !== to && !canTransition(from, to)) {
        throw new Error(`Lifecycle move ${name} (${from} -> ${to}) is not in the state machine`);
      }
    }
  }
}

/** Re-diagnose at most this often when the row changed between the update and the read. */
const MAX_ATTEMPTS = 3;

/** Lease length when a heartbeat does not say. */
export const DEFAULT_LEASE_SECONDS = 300;

/** The filters of claim-next; unset ones do not filter. */
export interface ClaimFilters {
  project?: string;
  minPriority?: TaskPriority;
  /** Offer only tasks whose required capabilities are among these (default: the caller's own). */
  capabilities?: string[];
}

/** A claimed row, with what it was before the claim (to audit a reclaimed lease). */
type ClaimedRow = Task & {
  prev_status: TaskStatus;
  prev_holder: string | null;
  prev_lease: Date | null;
};

/**
 * The task lifecycle (`start`, `progress`, `review`, `complete`, `block`, `unblock`, `release`).
 * Each move is one conditional UPDATE: the database decides, atomically, whether the task is in
 * a status the move leaves from (and, where it matters, whether the caller holds it). Of many
 * concurrent identical moves exactly one matches; the others find the row already moved and get
 * a 409. Nothing is checked in JavaScript and then written.
 */
@Injectable()
export class TaskLifecycleService {
  constructor(
    private readonly trail: AuditTrail,
    private readonly dependencies: TaskDependenciesService,
    private readonly sql: Sql,
  ) {}

  /**
   * `start`: claim one task. Also takes an in-progress task whose lease has expired (recording
   * `lease_expired` for the previous holder), and refuses while a dependency is unfinished.
   */
  async start(id: number, caller: AuthUser, leaseSeconds?: number): Promise<Task> {
    const [claimed] = await this.claim(
      `SELECT t.id, t.status AS prev_status, t.assigned_to AS prev_holder,
              t.lease_expires_at AS prev_lease
       FROM tasks t
       WHERE t.id = $1 AND ((${CLAIMABLE.pending}) OR (${CLAIMABLE.expired}))
         AND NOT ${hasUnfinishedDependency('t')}
       FOR NO KEY UPDATE`,
      [id],
      caller,
      leaseSeconds,
    );
    if (claimed) return claimed;

    const current = await this.current(id);
    if (current.status === 'pending' || this.leaseExpired(current)) {
      await this.dependencies.assertReady(id);
    }
    const held =
      current.status === 'in_progress' && current.lease_expires_at
        ? ` (held by ${current.assigned_to ?? 'nobody'} until ${current.lease_expires_at.toISOString()})`
        : '';
    throw new ConflictError(
      `Task ${id} is '${current.status}'${held}; start needs it to be 'pending'`,
      current.status === 'in_progress' ? 'task_claimed' : 'invalid_transition',
    );
  }

  /**
   * `claim-next`: atomically claims the best available task for the caller, or returns
   * undefined when there is none. Best = highest priority, then earliest due date, then lowest
   * id; tasks whose lease expired come before pending ones (abandoned work first). SKIP LOCKED:
   * concurrent claimers never queue on the same row, each takes the next one.
   */
  async claimNext(
    caller: AuthUser,
    filters: ClaimFilters,
    leaseSeconds?: number,
  ): Promise<Task | undefined> {
    for (const state of ['expired', 'pending'] as const) {
      const [claimed] = await this.claim(
        claimNextCandidateSql(state),
        [
          filters.project ?? null,
          filters.minPriority ?? null,
          filters.capabilities ?? null,
          caller.id,
        ],
        caller,
        leaseSeconds,
      );
      if (claimed) return claimed;
    }
    this.trail.unchanged();
    return undefined;
  }

  /** Extends the lease of a task in progress; only its holder or an admin may. */
  async heartbeat(
    id: number,
    caller: AuthUser,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
  ): Promise<Task> {
    const rows = await this.sql.rows<Task>(
      `UPDATE tasks SET lease_expires_at = now() + make_interval(secs => $2)
       WHERE id = $1 AND status = 'in_progress' AND (assigned_to = $3 OR $4)
       RETURNING *`,
      [id, leaseSeconds, caller.id, caller.isAdmin],
    );
    if (rows[0]) {
      const task = rows[0];
      this.trail.record({
        taskId: id,
        projectSlug: task.project_slug,
        context: { lease_expires_at: task.lease_expires_at?.toISOString() ?? null },
      });
      return task;
    }
    const current = await this.current(id);
    if (current.status !== 'in_progress') {
      throw new ConflictError(
        `Task ${id} is '${current.status}'; only a task in progress has a lease`,
        'invalid_transition',
      );
    }
    throw new ForbiddenError(
      `Task ${id} is held by ${current.assigned_to ?? 'nobody'}; only its holder or an admin may extend the lease`,
      'not_assignee',
    );
  }

  progress(id: number, caller: AuthUser, percent: number, note: string | null): Promise<Task> {
    return this.move(id, 'progress', caller, { progress_percent: percent }, { percent, note });
  }

  review(id: number, caller: AuthUser): Promise<Task> {
    return this.move(id, 'review', caller);
  }

  complete(id: number, caller: AuthUser): Promise<Task> {
    return this.move(id, 'complete', caller, { progress_percent: 100 });
  }

  block(id: number, caller: AuthUser, reason: string | null): Promise<Task> {
    return this.move(id, 'block', caller, {}, { reason });
  }

  unblock(id: number, caller: AuthUser): Promise<Task> {
    return this.move(id, 'unblock', caller);
  }

  release(id: number, caller: AuthUser): Promise<Task> {
    return this.move(id, 'release', caller, { assigned_to: null });
  }

  /**
   * Runs one claim: `candidate` selects (and locks) at most one row with its previous state;
   * it becomes in_progress, assigned to the caller, with a lease when asked for.
   */
  private async claim(
    candidate: string,
    params: unknown[],
    caller: AuthUser,
    leaseSeconds: number | undefined,
  ): Promise<Task[]> {
    const n = params.length;
    const rows = await this.sql.rows<ClaimedRow>(
      `WITH candidate AS (${candidate})
       UPDATE tasks t
       SET status = 'in_progress', assigned_to = $${n + 1}, updated_at = now(),
           lease_expires_at = CASE WHEN $${n + 2}::int IS NULL THEN NULL
                                   ELSE now() + make_interval(secs => $${n + 2}::int) END
       FROM candidate WHERE t.id = candidate.id
       RETURNING t.*, candidate.prev_status, candidate.prev_holder, candidate.prev_lease`,
      [...params, caller.id, leaseSeconds ?? null],
    );
    return rows.map(({ prev_status, prev_holder, prev_lease, ...row }) => {
      const task = row;
      if (prev_status === 'in_progress') {
        this.trail.recordPreceding({
          action: 'lease_expired',
          taskId: task.id,
          projectSlug: task.project_slug,
          context: {
            previous_holder: prev_holder,
            lease_expired_at: prev_lease?.toISOString() ?? null,
          },
        });
      }
      this.trail.record({ taskId: task.id, projectSlug: task.project_slug, context: null });
      return task;
    });
  }

  private async current(
    id: number,
  ): Promise<Pick<Task, 'status' | 'assigned_to' | 'lease_expires_at'>> {
    const [current] = await this.sql.rows<
      Pick<Task, 'status' | 'assigned_to' | 'lease_expires_at'>
    >('SELECT status, assigned_to, lease_expires_at FROM tasks WHERE id = $1', [id]);
    if (!current) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    return current;
  }

  private leaseExpired(task: Pick<Task, 'status' | 'lease_expires_at'>): boolean {
    return (
      task.status === 'in_progress' &&
      task.lease_expires_at !== null &&
      task.lease_expires_at.getTime() < Date.now()
    );
  }

  private async move(
    id: number,
    name: SimpleMove,
    caller: AuthUser,
    set: Partial<Record<MoveColumn, number | null>> = {},
    context: Record<string, unknown> | null = null,
  ): Promise<Task> {
    const move: Move = MOVES[name];
    const checkAssignee = move.assigneeOnly && !caller.isAdmin;
    const columns = Object.keys(set) as MoveColumn[];
    const update = moveTaskSql({
      columns,
      to: move.to,
      assigneeOnly: checkAssignee,
      // Leaving in_progress ends a lease; only start, claim-next and heartbeat grant one.
      endsLease: name !== 'progress',
    });
    const params = [
      id,
      move.from,
      ...(checkAssignee ? [caller.id] : []),
      ...columns.map((c) => set[c]),
    ];

    for (let attempt = 1; ; attempt++) {
      const [task] = await this.sql.rows<Task>(update, params);
      if (task) {
        this.trail.record({ taskId: id, projectSlug: task.project_slug, context });
        return task;
      }

      // Nothing matched: say why, from the row as it is now.
      const current = await this.current(id);
      if (checkAssignee && current.assigned_to !== null && current.assigned_to !== caller.id) {
        throw new ForbiddenError(
          `Task ${id} is assigned to ${current.assigned_to}; only they or an admin may ${name} it`,
          'not_assignee',
        );
      }
      if (!move.from.includes(current.status) || attempt >= MAX_ATTEMPTS) {
        throw new ConflictError(
          `Task ${id} is '${current.status}'; ${name} needs it to be ${move.from.map((s) => `'${s}'`).join(' or ')}`,
          'invalid_transition',
        );
      }
      // The row changed between the update and this read in a way that now allows the move
      // (another request released it, say): try again against the new state.
    }
  }
}
