import type { AuditAction } from '../audit/audit-actions';
import type { AuthUser } from '../auth/auth-user';
import { ConflictError } from '../common/errors/domain-errors';
import type { ErrorCode } from '../common/errors/error-codes';
import { ProjectRole, ReviewPolicy, WRITER_ROLES } from '../access/project-access';
import type { WorkerType } from '../common/worker-types';
import type { TaskStatus } from './task.enums';

/**
 * The move table: the only ways a task's status, holder or lease change. Every door (each
 * lifecycle route, `PATCH status` / `PATCH assigned_to`, `POST /api/tasks`, claim-next, a lease
 * takeover) names a move here and gets its answer from `decideMove`, so the same request gets the
 * same answer whichever door it comes through. docs/lifecycle.md is this table in prose.
 */

/** Who may make a move, before any precondition. Admins may make every move. */
export type MoveActor =
  /** Anyone on an unassigned task; only the assignee on a pre-assigned one. */
  | 'claimant'
  /** Only the assignee. */
  | 'assignee'
  /** Anyone but the assignee: a reviewer. */
  | 'reviewer'
  /** The assignee; anyone while the task is unassigned. */
  | 'assignee_or_anyone_unassigned'
  /** Anyone on an unassigned pending task; otherwise the assignee (a hand-off). */
  | 'assigner'
  /** Anyone who may make a move at all (in a project: its owners and members). */
  | 'anyone';

export interface MoveRule {
  action: AuditAction;
  from: readonly TaskStatus[];
  /**
   * `same`: status unchanged; `resume`: `in_progress` when the task has a holder, else `pending`;
   * `retry`: `pending` when the failure is retryable and attempts remain, else `failed`.
   */
  to: TaskStatus | 'same' | 'resume' | 'retry';
  who: MoveActor;
  /**
   * Who must be a writing member (owner or member) of the task's project: the caller (admins
   * excepted), and for `assign` the new holder too. Tasks on the shared board have no project.
   */
  members: 'caller' | 'caller_and_holder';
  /** What happens to the holder: the caller takes it (if free), it is cleared, or it is given. */
  holder: 'keep' | 'claim' | 'clear' | 'given';
  /** Every dependency must be completed when the task ends up `in_progress`. */
  checksDependencies: boolean;
  /** The (new) holder's registered capabilities must cover the task's required ones. */
  checksCapabilities: boolean;
  /** The move needs a non-blank reason (`reject`, `fail`). */
  needsReason?: boolean;
  /** Sets progress to this. */
  progress?: number;
  /** `grant`: a lease may be taken; `keep`: it stays; `extend`: it is renewed; `end`: it ends. */
  lease: 'grant' | 'keep' | 'extend' | 'end';
  /**
   * The project's sign-off rule (`review_policy: human`), on a task held by an agent:
   * `signs_off`, the move is a sign-off and only a person makes it (403 `human_review_required`);
   * `skips_review`, the move would finish the work without one (409 `review_required`).
   */
  signOff?: 'signs_off' | 'skips_review';
}

export const MOVES = {
  start: {
    action: 'started',
    from: ['pending'],
    to: 'in_progress',
    who: 'claimant',
    members: 'caller',
    holder: 'claim',
    checksDependencies: true,
    checksCapabilities: true,
    lease: 'grant',
  },
  progress: {
    action: 'progressed',
    from: ['in_progress'],
    to: 'same',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'keep',
  },
  heartbeat: {
    action: 'lease_extended',
    from: ['in_progress'],
    to: 'same',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'extend',
  },
  review: {
    action: 'review_requested',
    from: ['in_progress'],
    to: 'review',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'end',
  },
  approve: {
    action: 'approved',
    from: ['review'],
    to: 'completed',
    who: 'reviewer',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    progress: 100,
    lease: 'end',
    signOff: 'signs_off',
  },
  reject: {
    action: 'rejected',
    from: ['review'],
    to: 'in_progress',
    who: 'reviewer',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    needsReason: true,
    lease: 'end',
    signOff: 'signs_off',
  },
  complete: {
    action: 'completed',
    from: ['in_progress'],
    to: 'completed',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    progress: 100,
    lease: 'end',
    signOff: 'skips_review',
  },
  block: {
    action: 'blocked',
    from: ['pending', 'in_progress', 'review'],
    to: 'blocked',
    who: 'assignee_or_anyone_unassigned',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'end',
  },
  unblock: {
    action: 'unblocked',
    from: ['blocked'],
    to: 'resume',
    who: 'assignee_or_anyone_unassigned',
    members: 'caller',
    holder: 'keep',
    checksDependencies: true,
    checksCapabilities: false,
    lease: 'end',
  },
  release: {
    action: 'released',
    from: ['in_progress'],
    to: 'pending',
    who: 'assignee',
    members: 'caller',
    holder: 'clear',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'end',
  },
  reopen: {
    action: 'reopened',
    from: ['completed'],
    to: 'in_progress',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: true,
    checksCapabilities: false,
    lease: 'end',
  },
  usage: {
    action: 'usage_reported',
    from: ['in_progress'],
    to: 'same',
    who: 'assignee',
    members: 'caller',
    holder: 'keep',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'keep',
  },
  fail: {
    action: 'failed',
    from: ['in_progress'],
    to: 'retry',
    who: 'assignee',
    members: 'caller',
    holder: 'clear',
    checksDependencies: false,
    checksCapabilities: false,
    needsReason: true,
    lease: 'end',
  },
  retry: {
    action: 'retried',
    from: ['failed'],
    to: 'pending',
    who: 'anyone',
    members: 'caller',
    holder: 'clear',
    checksDependencies: false,
    checksCapabilities: false,
    lease: 'end',
  },
  assign: {
    action: 'assigned',
    from: ['pending', 'in_progress', 'review', 'blocked', 'completed'],
    to: 'same',
    who: 'assigner',
    members: 'caller_and_holder',
    holder: 'given',
    checksDependencies: false,
    checksCapabilities: true,
    lease: 'end',
  },
} as const satisfies Record<string, MoveRule>;

export type MoveName = keyof typeof MOVES;
export const MOVE_NAMES = Object.keys(MOVES) as MoveName[];

/**
 * The state machine, derived from the table: from each status, the statuses some move reaches.
 * Not a second table: nothing decides with it; it only describes the moves (errors, docs, MCP).
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = (() => {
  const edges: Record<TaskStatus, TaskStatus[]> = {
    pending: [],
    in_progress: [],
    review: [],
    completed: [],
    blocked: [],
    failed: [],
  };
  for (const rule of Object.values(MOVES) as MoveRule[]) {
    const targets: TaskStatus[] =
      rule.to === 'same'
        ? []
        : rule.to === 'resume'
          ? ['in_progress', 'pending']
          : rule.to === 'retry'
            ? ['pending', 'failed']
            : [rule.to];
    for (const from of rule.from) {
      for (const to of targets) if (to !== from && !edges[from].includes(to)) edges[from].push(to);
    }
  }
  return edges;
})();

/**
 * `PATCH {status}`: the move that takes a task from `from` to `to`. A status no move reaches
 * from there has none (409). `blocked → pending|in_progress` is `unblock`, which then has to
 * land where the request asked (see `decideMove`'s `expectStatus`).
 */
export function moveForStatus(from: TaskStatus, to: TaskStatus): MoveName | undefined {
  return (Object.keys(MOVES) as MoveName[]).find((name) => {
    const rule: MoveRule = MOVES[name];
    if (rule.to === 'same' || !rule.from.includes(from)) return false;
    if (rule.to === 'resume') return to === 'in_progress' || to === 'pending';
    if (rule.to === 'retry') return to === 'pending' || to === 'failed';
    return rule.to === to;
  });
}

/** What the database says about the task at the time of the move (its row is locked). */
export interface MoveSubject {
  id: number;
  /** null: the shared board, where anyone may make any move the table allows. */
  project_slug: string | null;
  /** In the task's project: the roles of the caller and of a new holder, where they have one. */
  project_roles: Readonly<Record<string, ProjectRole>>;
  status: TaskStatus;
  assigned_to: string | null;
  lease_expires_at: Date | null;
  /** Failed attempts so far, and how many the task may have before it is `failed`. */
  attempts: number;
  max_attempts: number;
  /** Backoff after a failed attempt: the task may not be started before then. */
  not_before: Date | null;
  required_capabilities: string[];
  /** The first dependency that is not completed, if any. */
  blocker: { id: number; status: TaskStatus } | null;
  /**
   * Registered capabilities of the workers the move concerns (the caller, the assignee, a new
   * holder); a worker missing here has none. Only read when the task requires some.
   */
  capabilities: Readonly<Record<string, readonly string[]>>;
  /** The holder asked a question and waits for an answer: its lease does not run out meanwhile. */
  awaiting_input: boolean;
  /** The project's sign-off rule; `other` on the shared board. */
  review_policy: ReviewPolicy;
  /**
   * Under `human`: the registered types of the caller and the assignee; a worker missing here
   * is a person, as in the audit log.
   */
  worker_types: Readonly<Record<string, WorkerType>>;
}

export interface MoveRequest {
  caller: AuthUser;
  /** `assign`: the new holder (null unassigns). */
  holder?: string | null;
  /** `reject`, `block`, `fail`: why. */
  reason?: string | null;
  /** `fail`: whether another attempt may succeed (default true). */
  retryable?: boolean;
  /** `PATCH {status}`: the status the client asked for; the move must land there. */
  expectStatus?: TaskStatus;
  now?: Date;
}

/** The row after an allowed move. */
export interface MoveOutcome {
  status: TaskStatus;
  assigned_to: string | null;
  /** Set when a lease expired and the task is being taken over (audited as `lease_expired`). */
  takeover?: { previous_holder: string | null; lease_expired_at: Date };
  /**
   * A failed attempt the move records (audited as `failed`): `fail`, or a takeover, which counts
   * the expired lease as one. `exhausted`: no attempt remains, or the failure is not retryable,
   * and the task is `failed` (a takeover then takes nothing over).
   */
  failure?: { attempt: number; retryable: boolean; exhausted: boolean };
}

export type MoveRefusal = {
  kind: 'forbidden' | 'conflict' | 'validation';
  code: ErrorCode;
  message: string;
  /** `retry_later`: seconds until the task may be started (the `Retry-After` header). */
  retryAfterSeconds?: number;
};

/** Whether another attempt remains after `attempts` failed ones, for a retryable failure. */
export function attemptsRemain(task: Pick<MoveSubject, 'attempts' | 'max_attempts'>): boolean {
  return task.attempts < task.max_attempts;
}

/**
 * A lease that has run out frees the task: anyone may start it again (a takeover). Not while
 * the holder waits for an answer to its question.
 */
export function leaseExpired(task: MoveSubject, now: Date): boolean {
  return (
    task.status === 'in_progress' &&
    !task.awaiting_input &&
    task.lease_expires_at !== null &&
    task.lease_expires_at.getTime() < now.getTime()
  );
}

/** Why the API itself counts a claim as a failed attempt. */
export type OverdueReason = 'lease expired' | 'timed out';

/**
 * The sweeper's decision on an in-progress task whose lease ran out or whose claim timed out:
 * not a move anyone asks for, but the same rule as a failure (`fail`, retryable): back to
 * `pending` with no holder while attempts remain, else `failed`.
 */
export function decideOverdue(task: MoveSubject): MoveOutcome {
  const attempt = task.attempts + 1;
  const exhausted = !attemptsRemain({ ...task, attempts: attempt });
  return {
    status: exhausted ? 'failed' : 'pending',
    assigned_to: null,
    failure: { attempt, retryable: true, exhausted },
  };
}

/** The worker who would hold the task after `name`. */
export function holderAfter(
  name: MoveName,
  task: Pick<MoveSubject, 'assigned_to' | 'status' | 'lease_expires_at'>,
  request: Pick<MoveRequest, 'caller' | 'holder'>,
  takeover = false,
): string | null {
  const rule: MoveRule = MOVES[name];
  switch (rule.holder) {
    case 'claim':
      // A pre-assigned task is started for its assignee (by them, or by an admin).
      return takeover ? request.caller.id : (task.assigned_to ?? request.caller.id);
    case 'clear':
      return null;
    case 'given':
      return request.holder ?? null;
    case 'keep':
      return task.assigned_to;
  }
}

/**
 * Decides one move against the locked row: the refusal to answer, or the row's new status and
 * holder. Pure: the same inputs always give the same answer, whichever door asked.
 * Order of checks: project membership (403), status (409), who may (403), the project's sign-off
 * rule (403 or 409), preconditions (409, or 403 for capabilities).
 */
export function decideMove(
  name: MoveName,
  task: MoveSubject,
  request: MoveRequest,
): MoveOutcome | MoveRefusal {
  const rule: MoveRule = MOVES[name];
  const { caller } = request;
  const now = request.now ?? new Date();
  const takeover = name === 'start' && leaseExpired(task, now);

  const outsider = membershipRefusal(rule, name, task, request);
  if (outsider) return outsider;

  if (!rule.from.includes(task.status) && !takeover) {
    const claimed = name === 'start' && task.status === 'in_progress';
    const held =
      claimed && task.lease_expires_at
        ? ` (held by ${task.assigned_to ?? 'nobody'} until ${task.lease_expires_at.toISOString()})`
        : claimed
          ? ` (claimed by ${task.assigned_to ?? 'nobody'})`
          : '';
    return {
      kind: 'conflict',
      code: claimed ? 'task_claimed' : 'invalid_transition',
      message: `Task ${task.id} is '${task.status}'${held}; ${name} needs it to be ${rule.from.map((s) => `'${s}'`).join(' or ')}`,
    };
  }

  if (takeover && !attemptsRemain({ ...task, attempts: task.attempts + 1 })) {
    // The expired lease was the last attempt: the task fails instead of being taken over.
    return {
      status: 'failed',
      assigned_to: null,
      takeover: {
        previous_holder: task.assigned_to,
        lease_expired_at: task.lease_expires_at as Date,
      },
      failure: { attempt: task.attempts + 1, retryable: true, exhausted: true },
    };
  }

  const refusal = takeover ? undefined : whoRefuses(rule, name, task, caller);
  if (refusal) return refusal;
  const signOff = signOffRefusal(rule, name, task, caller);
  if (signOff) return signOff;

  const holder = holderAfter(name, task, request, takeover);
  if (
    name === 'assign' &&
    holder === null &&
    (task.status === 'in_progress' || task.status === 'review')
  ) {
    return {
      kind: 'conflict',
      code: 'invalid_transition',
      message: `Task ${task.id} is '${task.status}' and must keep a holder; release it instead`,
    };
  }
  const retryable = request.retryable !== false;
  const status: TaskStatus =
    rule.to === 'same'
      ? task.status
      : rule.to === 'resume'
        ? holder
          ? 'in_progress'
          : 'pending'
        : rule.to === 'retry'
          ? retryable && attemptsRemain({ ...task, attempts: task.attempts + 1 })
            ? 'pending'
            : 'failed'
          : rule.to;
  if (request.expectStatus && request.expectStatus !== status) {
    return {
      kind: 'conflict',
      code: 'invalid_transition',
      message: `Task ${task.id} is '${task.status}'; ${name} takes it to '${status}', not '${request.expectStatus}' (${status === 'pending' ? 'it has no assignee' : 'it has an assignee'})`,
    };
  }
  if (rule.needsReason && !request.reason?.trim()) {
    return {
      kind: 'validation',
      code: 'validation_failed',
      message: `${name} needs a reason: POST /api/tasks/${task.id}/${name} with {"reason": "…"}`,
    };
  }
  if (name === 'start' && !takeover && task.not_before && task.not_before > now) {
    const seconds = Math.max(1, Math.ceil((task.not_before.getTime() - now.getTime()) / 1000));
    return {
      kind: 'conflict',
      code: 'retry_later',
      message: `Task ${task.id} failed its last attempt and may not be started before ${task.not_before.toISOString()} (in ${seconds} s)`,
      retryAfterSeconds: seconds,
    };
  }
  if (rule.checksDependencies && status === 'in_progress' && task.blocker) {
    return {
      kind: 'conflict',
      code: 'dependency_unfinished',
      message: `Task ${task.id} is blocked by task ${task.blocker.id}, which is '${task.blocker.status}'; it can start once that one is completed`,
    };
  }
  if (rule.checksCapabilities && holder !== null) {
    const have = new Set(task.capabilities[holder] ?? []);
    const missing = task.required_capabilities.filter((c) => !have.has(c));
    if (missing.length > 0) {
      return {
        kind: 'forbidden',
        code: 'capability_missing',
        message: `Task ${task.id} requires ${missing.map((c) => `'${c}'`).join(', ')}, which ${holder === caller.id ? 'you have' : `${holder} has`} not registered`,
      };
    }
  }
  const failure =
    takeover || name === 'fail'
      ? {
          attempt: task.attempts + 1,
          retryable: takeover || retryable,
          exhausted: status === 'failed',
        }
      : undefined;
  return {
    status,
    assigned_to: holder,
    ...(takeover
      ? {
          takeover: {
            previous_holder: task.assigned_to,
            lease_expired_at: task.lease_expires_at as Date,
          },
        }
      : {}),
    ...(failure ? { failure } : {}),
  };
}

/** Whether `worker` is an owner or member of the task's project (viewers only read). */
function worksIn(task: MoveSubject, worker: string): boolean {
  const role = task.project_roles[worker];
  return role !== undefined && WRITER_ROLES.includes(role);
}

/** A project's tasks are changed by its owners and members only (viewers read). */
function membershipRefusal(
  rule: MoveRule,
  name: MoveName,
  task: MoveSubject,
  { caller, holder }: MoveRequest,
): MoveRefusal | undefined {
  const project = task.project_slug;
  if (project === null) return undefined;
  const writes = (worker: string) => worksIn(task, worker);
  if (!caller.isAdmin && !writes(caller.id)) {
    return {
      kind: 'forbidden',
      code: 'not_project_member',
      message: `Task ${task.id} belongs to project '${project}', where you are ${task.project_roles[caller.id] === 'viewer' ? 'a viewer' : 'not a member'}; only its owners and members may ${name} it`,
    };
  }
  if (rule.members === 'caller_and_holder' && holder && !writes(holder)) {
    return {
      kind: 'forbidden',
      code: 'not_project_member',
      message: `${holder} is not a member of project '${project}', so task ${task.id} cannot be assigned to them; add them to the project first`,
    };
  }
  return undefined;
}

function whoRefuses(
  rule: MoveRule,
  name: MoveName,
  task: MoveSubject,
  caller: AuthUser,
): MoveRefusal | undefined {
  if (caller.isAdmin) return undefined;
  const assignee = task.assigned_to;
  const isAssignee = assignee !== null && assignee === caller.id;
  const notAssignee = (): MoveRefusal => ({
    kind: 'forbidden',
    code: 'not_assignee',
    message:
      assignee === null
        ? `Task ${task.id} has no assignee; only an admin may ${name} it`
        : `Task ${task.id} is assigned to ${assignee}; only they or an admin may ${name} it`,
  });
  switch (rule.who) {
    case 'claimant':
      return assignee === null || isAssignee ? undefined : notAssignee();
    case 'assignee':
      return isAssignee ? undefined : notAssignee();
    case 'assignee_or_anyone_unassigned':
      return assignee === null || isAssignee ? undefined : notAssignee();
    case 'reviewer':
      return isAssignee
        ? {
            kind: 'forbidden',
            code: 'reviewer_is_assignee',
            message: `Task ${task.id} is assigned to you; someone else (or an admin) must ${name} it`,
          }
        : undefined;
    case 'assigner':
      return (assignee === null && task.status === 'pending') || isAssignee
        ? undefined
        : notAssignee();
    case 'anyone':
      return undefined;
  }
}

/**
 * A project with `review_policy: human` has people sign off the work of agents: on a task whose
 * assignee is an agent, approving and rejecting are for a person only, and the agent's work
 * cannot be completed without that review. Binds admins too: the rule is about who signs off,
 * not about rank.
 */
function signOffRefusal(
  rule: MoveRule,
  name: MoveName,
  task: MoveSubject,
  caller: AuthUser,
): MoveRefusal | undefined {
  if (!rule.signOff || task.review_policy !== 'human' || task.assigned_to === null) return;
  const typeOf = (worker: string): WorkerType => task.worker_types[worker] ?? 'human';
  if (typeOf(task.assigned_to) !== 'agent') return;
  const where = `project '${task.project_slug}'`;
  if (rule.signOff === 'signs_off' && typeOf(caller.id) === 'agent') {
    return {
      kind: 'forbidden',
      code: 'human_review_required',
      message: `Task ${task.id} is held by agent ${task.assigned_to} and ${where} has work of agents signed off by a person; an agent may not ${name} it`,
    };
  }
  if (rule.signOff === 'skips_review') {
    return {
      kind: 'conflict',
      code: 'review_required',
      message: `Task ${task.id} is held by agent ${task.assigned_to} and ${where} has work of agents signed off by a person; ask for review (POST /api/tasks/${task.id}/review) instead`,
    };
  }
  return undefined;
}

/** How one task refers to another: as its subtask, or by depending on it. */
export type ReferenceField = 'parent_id' | 'depends_on';

/**
 * A reference between two tasks that points into a private project from outside it: task `id`
 * has `target` as its parent, or depends on it, and `target` belongs to the private project
 * `target_project` while `id` does not.
 */
export interface PrivateReference {
  id: number;
  target: number;
  field: ReferenceField;
  target_project: string;
  /** Whether the caller sees the task at the other end from the one that moved. */
  visible: boolean;
}

/**
 * Moving a task to another project (`PATCH {project_slug}`), decided on the task as it is after
 * the change (`task.project_slug` is the new project; `project_roles` are roles there).
 *
 * 1. Whoever will hold the task (its holder or pre-assignee, unless the same request hands it to
 *    someone else, which `assign` then decides) must work in the new project, as for `assign`:
 *    **403** `not_project_member`.
 * 2. The reference rule, the one making a project private keeps: no task outside a private
 *    project may refer to a task inside it. `reference` is the first reference to or from the
 *    task that breaks it: a subtask or dependent left outside the private project it moves into,
 *    or a parent or dependency of a private project it leaves: **409** `project_referenced`. The
 *    answer names only tasks the caller sees; a reference from a task it cannot see still
 *    refuses the move (moving the task under it would show that task's readers an id they may
 *    not read, and the reference is not the caller's to remove), without naming it.
 */
export function decideProjectMove(
  task: MoveSubject,
  holder: string | null,
  reference: PrivateReference | undefined,
): MoveRefusal | undefined {
  const project = task.project_slug;
  const there = project === null ? 'the shared board' : `project '${project}'`;
  if (project !== null && holder !== null && !worksIn(task, holder)) {
    return {
      kind: 'forbidden',
      code: 'not_project_member',
      message: `Task ${task.id} is held by ${holder}, who is ${task.project_roles[holder] === 'viewer' ? 'a viewer' : 'not a member'} of ${there}; add them as a member, or hand the task to someone who is, before moving it there`,
    };
  }
  if (!reference) return undefined;
  const verb = reference.field === 'parent_id' ? 'is a subtask of' : 'depends on';
  const message =
    reference.id === task.id
      ? reference.visible
        ? `Task ${task.id} ${verb} task ${reference.target} of private project '${reference.target_project}', which readers of ${there} may not see; remove that reference before moving it`
        : `Task ${task.id} refers to a task of a private project that readers of ${there} may not see; remove that reference before moving it`
      : reference.visible
        ? `Task ${reference.id} ${verb} task ${task.id} and is not in private project '${project}'; remove that reference, or move task ${reference.id} there first`
        : `Tasks outside private project '${project}' refer to task ${task.id} (as parent or dependency); it cannot move there while they do`;
  return { kind: 'conflict', code: 'project_referenced', message };
}

export function isRefusal(result: MoveOutcome | MoveRefusal): result is MoveRefusal {
  return 'kind' in result;
}

/** `PATCH {status}` to a status no move reaches from the current one. */
export class InvalidTransitionError extends ConflictError {
  constructor(id: number, from: TaskStatus, to: TaskStatus) {
    const reachable = TASK_TRANSITIONS[from];
    super(
      `Task ${id} is '${from}' and cannot move to '${to}'` +
        (reachable.length ? ` (from '${from}' it can move to: ${reachable.join(', ')})` : ''),
      'invalid_transition',
    );
  }
}
