import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { Task } from './task.entity';
import type { TaskStatus } from './task.enums';
import {
  MOVES,
  MoveName,
  MoveRefusal,
  MoveRule,
  MoveSubject,
  decideMove,
  isRefusal,
} from './task-moves';
import { ClaimFilters, LockedTask, TaskRepository } from './task.repository';
import type { ArtifactInput } from './dto/collaboration.dto';
import { TaskArtifacts } from './task-artifacts';
import { TaskThread } from './task-thread';

/** Lease length when a heartbeat does not say. */
export const DEFAULT_LEASE_SECONDS = 300;

/** What a move may carry besides its name and caller. */
export interface MoveOptions {
  /** `assign`: the new holder (null unassigns). */
  holder?: string | null;
  /** `block`, `reject`. */
  reason?: string | null;
  /** `progress`. */
  percent?: number;
  note?: string | null;
  /** `start`, claim-next: take a lease; `heartbeat`: its new length. */
  leaseSeconds?: number;
  /** `PATCH {status}`: where the client asked the task to go. */
  expectStatus?: TaskStatus;
  /** `review`, `complete`, `release`, `block`: a hand-off note, kept as a `handoff` comment. */
  handoff?: string;
  /** `review`, `complete`: artifacts the work produced, added to the task. */
  artifacts?: ArtifactInput[];
}

/**
 * Makes moves (task-moves.ts): every change of a task's status, holder or lease, through
 * whichever door it comes (lifecycle routes, PATCH, create, claim-next). Each move locks the
 * task's row, decides on that locked version with `decideMove`, writes the outcome and records
 * its audit entry, all in the caller's transaction. Concurrent moves on one task queue on the
 * row lock and each is decided on the state the previous one committed: of many concurrent
 * claims exactly one wins, the others find the task taken.
 */
@Injectable()
export class TaskLifecycleService {
  constructor(
    private readonly trail: AuditTrail,
    private readonly tasks: TaskRepository,
    private readonly thread: TaskThread,
    private readonly results: TaskArtifacts,
  ) {}

  /** Locks the task for a move (404 when missing). */
  async lock(id: number, caller: AuthUser, holder?: string | null): Promise<LockedTask> {
    const row = await this.tasks.lockForMove(id, caller, holder ?? null);
    if (!row) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    return row;
  }

  /** One move on one task, from a lifecycle route. */
  async move(
    id: number,
    name: MoveName,
    caller: AuthUser,
    options: MoveOptions = {},
  ): Promise<Task> {
    const locked = await this.lock(id, caller, options.holder);
    return this.apply(locked, name, caller, options);
  }

  /**
   * Decides and makes `name` on a task this transaction has locked (`lock`), and records its
   * audit entry. Returns the task as it is afterwards; throws the refusal otherwise, having
   * changed nothing.
   */
  async apply(
    locked: LockedTask,
    name: MoveName,
    caller: AuthUser,
    options: MoveOptions = {},
  ): Promise<Task> {
    const rule: MoveRule = MOVES[name];
    const before = locked.task;
    const outcome = decideMove(name, subjectOf(locked), {
      caller,
      holder: options.holder,
      reason: options.reason,
      expectStatus: options.expectStatus,
    });
    if (isRefusal(outcome)) throw refusalError(outcome);

    const lease =
      rule.lease === 'grant'
        ? (options.leaseSeconds ?? 'end')
        : rule.lease === 'extend'
          ? (options.leaseSeconds ?? DEFAULT_LEASE_SECONDS)
          : rule.lease;
    let task = await this.tasks.applyMove(before.id, {
      status: outcome.status,
      assignedTo: outcome.assigned_to,
      progress: name === 'progress' ? options.percent : rule.progress,
      lease,
    });
    if (options.artifacts) task = await this.results.add(task, caller, options.artifacts);
    let commentId: number | undefined;
    if (options.handoff !== undefined) {
      const noted = await this.thread.add(task, caller, { kind: 'handoff', body: options.handoff });
      task = noted.task;
      commentId = noted.comment.id;
    }

    if (outcome.takeover) {
      this.trail.recordAs('lease_expired', {
        taskId: task.id,
        projectSlug: task.project_slug,
        context: {
          previous_holder: outcome.takeover.previous_holder,
          lease_expired_at: outcome.takeover.lease_expired_at.toISOString(),
        },
      });
    }
    const context = moveContext(name, before, task, options);
    this.trail.recordAs(rule.action, {
      taskId: task.id,
      projectSlug: task.project_slug,
      context: commentId === undefined ? context : { ...context, comment_id: commentId },
    });
    return task;
  }

  start(id: number, caller: AuthUser, leaseSeconds?: number): Promise<Task> {
    return this.move(id, 'start', caller, { leaseSeconds });
  }

  /**
   * `claim-next`: claims the best task the caller may start, or returns undefined when there is
   * none. Best = tasks whose lease expired (abandoned work first), then tasks pre-assigned to
   * the caller, then unassigned ones; within each, highest priority, earliest due date, lowest
   * id. SKIP LOCKED: concurrent claimers never queue on the same row, each takes the next one.
   * The candidate query only narrows the search; the move itself is decided by the table.
   */
  async claimNext(
    caller: AuthUser,
    filters: ClaimFilters,
    leaseSeconds?: number,
  ): Promise<Task | undefined> {
    for (const tier of ['expired', 'mine', 'pending'] as const) {
      const candidate = await this.tasks.claimCandidate(tier, caller, filters);
      if (candidate) return this.apply(candidate, 'start', caller, { leaseSeconds });
    }
    this.trail.unchanged();
    return undefined;
  }

  heartbeat(id: number, caller: AuthUser, leaseSeconds = DEFAULT_LEASE_SECONDS): Promise<Task> {
    return this.move(id, 'heartbeat', caller, { leaseSeconds });
  }

  progress(id: number, caller: AuthUser, percent: number, note: string | null): Promise<Task> {
    return this.move(id, 'progress', caller, { percent, note });
  }

  block(id: number, caller: AuthUser, reason: string | null, handoff?: string): Promise<Task> {
    return this.move(id, 'block', caller, { reason, handoff });
  }

  reject(id: number, caller: AuthUser, reason: string): Promise<Task> {
    return this.move(id, 'reject', caller, { reason });
  }
}

/** The decision's view of a locked row. */
export function subjectOf({
  task,
  blocker,
  capabilities,
  projectRoles,
  reviewPolicy,
  workerTypes,
}: LockedTask): MoveSubject {
  return {
    id: task.id,
    project_slug: task.project_slug,
    project_roles: projectRoles,
    status: task.status,
    assigned_to: task.assigned_to,
    lease_expires_at: task.lease_expires_at,
    required_capabilities: task.required_capabilities,
    blocker,
    capabilities,
    awaiting_input: task.awaiting_input,
    review_policy: reviewPolicy,
    worker_types: workerTypes,
  };
}

/** The context of each move's audit entry. */
function moveContext(
  name: MoveName,
  before: Task,
  after: Task,
  options: MoveOptions,
): Record<string, unknown> | null {
  switch (name) {
    case 'progress':
      return { percent: options.percent, note: options.note ?? null };
    case 'block':
    case 'reject':
      return { reason: options.reason ?? null };
    case 'assign':
      return { from: before.assigned_to, to: after.assigned_to };
    case 'heartbeat':
      return { lease_expires_at: after.lease_expires_at?.toISOString() ?? null };
    default:
      return null;
  }
}

export function refusalError(refusal: MoveRefusal): DomainError {
  switch (refusal.kind) {
    case 'forbidden':
      return new ForbiddenError(refusal.message, refusal.code);
    case 'conflict':
      return new ConflictError(refusal.message, refusal.code);
    case 'validation':
      return ValidationFailedError.field('reason', refusal.message);
  }
}
