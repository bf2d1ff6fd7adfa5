import { Inject, Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import type { AppConfig, RetryConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Task } from './task.entity';
import type { UsageReport } from './task-usage';
import type { TaskStatus } from './task.enums';
import {
  MOVES,
  MoveName,
  MoveRefusal,
  MoveOutcome,
  MoveRule,
  MoveSubject,
  OverdueReason,
  decideMove,
  decideOverdue,
  isRefusal,
} from './task-moves';
import { ClaimFilters, LockedTask, MoveWrite, TaskRepository } from './task.repository';
import type { ArtifactInput } from './dto/collaboration.dto';
import { TaskArtifacts } from './task-artifacts';
import { TaskThread, handoffOf } from './task-thread';

/** The reasons of the attempts the API itself records as failed. */
const LEASE_EXPIRED: OverdueReason = 'lease expired';

/** Lease length when a heartbeat does not say. */
export const DEFAULT_LEASE_SECONDS = 300;

/**
 * The wait after failed attempt number `attempt` before the task may be claimed again: full
 * jitter, a random time up to min(max, base × 2^(attempt−1)) seconds, so that the agents that
 * failed together do not all come back at the same instant.
 */
export function backoffSeconds(
  attempt: number,
  { baseSeconds, maxSeconds }: Pick<RetryConfig, 'baseSeconds' | 'maxSeconds'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempt - 1, 30));
  return random() * ceiling;
}

/** What a move may carry besides its name and caller. */
export interface MoveOptions {
  /** `assign`: the new holder (null unassigns). */
  holder?: string | null;
  /** `block`, `reject`, `fail`. */
  reason?: string | null;
  /** `fail`: whether another attempt may succeed (default true). */
  retryable?: boolean;
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
  /** `usage`: the report. */
  usage?: UsageReport;
}

/** The reason of the `blocked` entry written when a usage report leaves a task over budget. */
export const BUDGET_EXCEEDED = 'budget exceeded';

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
  private readonly retries: RetryConfig;

  constructor(
    private readonly trail: AuditTrail,
    private readonly tasks: TaskRepository,
    private readonly thread: TaskThread,
    private readonly results: TaskArtifacts,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.retries = config.retries;
  }

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
      retryable: options.retryable,
      expectStatus: options.expectStatus,
    });
    if (isRefusal(outcome)) throw refusalError(outcome);

    const lease =
      outcome.status !== 'in_progress'
        ? 'end'
        : rule.lease === 'grant'
          ? (options.leaseSeconds ?? 'end')
          : rule.lease === 'extend'
            ? (options.leaseSeconds ?? DEFAULT_LEASE_SECONDS)
            : rule.lease;
    const reason = name === 'fail' ? (options.reason ?? '') : LEASE_EXPIRED;
    const artifacts = options.artifacts?.length
      ? this.results.merge(before, caller, options.artifacts)
      : undefined;
    const handoff =
      options.handoff === undefined
        ? undefined
        : await this.thread.append(before, caller, { kind: 'handoff', body: options.handoff });
    const task = await this.applyOutcome(before, outcome, reason, {
      progress: name === 'progress' ? options.percent : rule.progress,
      lease,
      attempts: name === 'retry' ? 0 : undefined,
      notBefore: name === 'start' || name === 'retry' ? 'clear' : undefined,
      claim: name === 'start',
      artifacts,
      lastHandoff: handoff && handoffOf(handoff),
    });
    const commentId = handoff?.id;

    if (outcome.failure && outcome.takeover) {
      // The expired lease is an attempt, recorded before anything else happens to the task.
      this.recordFailure(task, outcome, LEASE_EXPIRED, before.assigned_to);
      if (outcome.failure.exhausted) return task;
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
    if (name === 'fail') {
      this.recordFailure(task, outcome, reason);
    } else {
      const context = moveContext(name, before, task, options);
      this.trail.recordAs(rule.action, {
        taskId: task.id,
        projectSlug: task.project_slug,
        context: commentId === undefined ? context : { ...context, comment_id: commentId },
      });
    }
    return task;
  }

  /**
   * Writes a decided outcome; a failed attempt adds one to `attempts`, keeps its reason and, when
   * the task goes back to `pending`, sets its backoff.
   */
  private applyOutcome(
    before: Task,
    outcome: MoveOutcome,
    reason: string,
    write: Omit<MoveWrite, 'status' | 'assignedTo'>,
  ): Promise<Task> {
    const { failure } = outcome;
    return this.tasks.applyMove(before.id, {
      ...write,
      status: outcome.status,
      assignedTo: outcome.assigned_to,
      ...(failure
        ? {
            attempts: failure.attempt,
            lastError: reason,
            notBefore:
              outcome.status === 'pending'
                ? backoffSeconds(failure.attempt, this.retries)
                : outcome.status === 'failed'
                  ? 'clear'
                  : write.notBefore,
          }
        : {}),
    });
  }

  /** The `failed` entry of a failed attempt. */
  private recordFailure(
    task: Task,
    outcome: MoveOutcome,
    reason: string,
    previousHolder?: string | null,
  ): void {
    const failure = outcome.failure!;
    this.trail.recordAs('failed', {
      taskId: task.id,
      projectSlug: task.project_slug,
      context: {
        reason,
        retryable: failure.retryable,
        attempt: failure.attempt,
        next_attempt_at:
          task.status === 'pending' ? (task.not_before?.toISOString() ?? null) : null,
        ...(previousHolder !== undefined ? { previous_holder: previousHolder } : {}),
      },
    });
  }

  /**
   * The sweeper's work on one task (it runs as the system actor): the next in-progress task whose
   * lease ran out or whose claim timed out, if any, counted as a failed attempt ("lease expired",
   * "timed out"): back to `pending` with no holder and a backoff, or `failed` at the limit.
   * Returns whether there was one.
   */
  async sweepOne(caller: AuthUser): Promise<boolean> {
    const overdue = await this.tasks.overdueCandidate(caller);
    if (!overdue) {
      this.trail.unchanged();
      return false;
    }
    const before = overdue.locked.task;
    const outcome = decideOverdue(subjectOf(overdue.locked));
    const task = await this.applyOutcome(before, outcome, overdue.reason, { lease: 'end' });
    this.recordFailure(task, outcome, overdue.reason, before.assigned_to);
    return true;
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
    let failed = false;
    for (const tier of ['expired', 'mine', 'pending'] as const) {
      for (;;) {
        const candidate = await this.tasks.claimCandidate(tier, caller, filters);
        if (!candidate) break;
        const task = await this.apply(candidate, 'start', caller, { leaseSeconds });
        // An expired lease that was its task's last attempt fails the task: look further.
        if (task.status !== 'failed') return task;
        failed = true;
      }
    }
    if (!failed) this.trail.unchanged();
    return undefined;
  }

  async heartbeat(
    id: number,
    caller: AuthUser,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
    usage?: UsageReport,
  ): Promise<Task> {
    const task = await this.move(id, 'heartbeat', caller, { leaseSeconds });
    return usage ? this.reportUsage(id, caller, usage) : task;
  }

  async progress(
    id: number,
    caller: AuthUser,
    percent: number,
    note: string | null,
    usage?: UsageReport,
  ): Promise<Task> {
    const task = await this.move(id, 'progress', caller, { percent, note });
    return usage ? this.reportUsage(id, caller, usage) : task;
  }

  /**
   * A usage report (the move `usage`, audited `usage_reported`), added to the task's `usage`.
   * When it leaves the task over a budget, the report stays recorded and the task is blocked in
   * the same transaction (`block`, reason `budget exceeded`): the agent's next report, heartbeat
   * or progress is then refused like any move from `blocked`, until a person raises the budget
   * and unblocks it.
   */
  async reportUsage(id: number, caller: AuthUser, usage: UsageReport): Promise<Task> {
    await this.move(id, 'usage', caller, { usage });
    const { task, overBudget } = await this.tasks.addUsage(id, usage);
    return overBudget ? this.move(id, 'block', caller, { reason: BUDGET_EXCEEDED }) : task;
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
    attempts: task.attempts,
    max_attempts: task.max_attempts,
    not_before: task.not_before,
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
    case 'usage': {
      const usage = options.usage!;
      return {
        model: usage.model,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cost_usd: usage.cost_usd ?? null,
      };
    }
    default:
      return null;
  }
}

export function refusalError(refusal: MoveRefusal): DomainError {
  switch (refusal.kind) {
    case 'forbidden':
      return new ForbiddenError(refusal.message, refusal.code);
    case 'conflict':
      return refusal.retryAfterSeconds === undefined
        ? new ConflictError(refusal.message, refusal.code)
        : new ConflictError(refusal.message, refusal.code, {
            'Retry-After': String(refusal.retryAfterSeconds),
          });
    case 'validation':
      return ValidationFailedError.field('reason', refusal.message);
  }
}
