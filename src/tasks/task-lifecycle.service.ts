import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AuditAction } from '../audit/audit-actions';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors';
import { canTransition } from './task-state-machine';
import { Task } from './task.entity';
import type { TaskStatus } from './task.enums';

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
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
  ) {}

  private get tasks(): Repository<Task> {
    return this.txHost.tx.getRepository(Task);
  }

  start(id: number, caller: AuthUser): Promise<Task> {
    return this.move(id, 'start', caller, { assigned_to: caller.id });
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

  private async move(
    id: number,
    name: LifecycleMove,
    caller: AuthUser,
    set: QueryDeepPartialEntity<Task> = {},
    context: Record<string, unknown> | null = null,
  ): Promise<Task> {
    const move: Move = MOVES[name];
    const checkAssignee = move.assigneeOnly && !caller.isAdmin;
    for (let attempt = 1; ; attempt++) {
      const status =
        move.to === 'resume'
          ? () =>
              `CASE WHEN assigned_to IS NULL THEN 'pending'::task_status ELSE 'in_progress'::task_status END`
          : move.to;
      const qb = this.tasks
        .createQueryBuilder()
        .update()
        .set({ ...set, status })
        .where('id = :id', { id })
        .andWhere('status IN (:...from)', { from: move.from });
      if (checkAssignee) {
        qb.andWhere('(assigned_to IS NULL OR assigned_to = :caller)', { caller: caller.id });
      }
      const result = await qb.returning('*').execute();
      const row = (result.raw as Task[])[0];
      if (row) {
        const task = this.tasks.create(row);
        this.trail.record({ taskId: id, projectSlug: task.project_slug, context });
        return task;
      }

      // Nothing matched: say why, from the row as it is now.
      const current = await this.tasks.findOne({
        select: { id: true, status: true, assigned_to: true },
        where: { id },
      });
      if (!current) throw new NotFoundError(`Task ${id} not found`);
      if (checkAssignee && current.assigned_to !== null && current.assigned_to !== caller.id) {
        throw new ForbiddenError(
          `Task ${id} is assigned to ${current.assigned_to}; only they or an admin may ${name} it`,
        );
      }
      if (!move.from.includes(current.status) || attempt >= MAX_ATTEMPTS) {
        throw new ConflictError(
          `Task ${id} is '${current.status}'; ${name} needs it to be ${move.from.map((s) => `'${s}'`).join(' or ')}`,
        );
      }
      // The row changed between the update and this read in a way that now allows the move
      // (another request released it, say): try again against the new state.
    }
  }
}
