import { ConflictError } from '../common/errors/domain-errors';
import { TASK_STATUSES, TaskStatus } from './task.enums';

/**
 * The task lifecycle, as one table: from each status, the statuses it may move to. `PATCH status`
 * and every lifecycle route (`start`, `review`, `complete`, …) are checked against this table and
 * nothing else.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['in_progress', 'blocked'],
  in_progress: ['review', 'completed', 'blocked', 'pending'],
  review: ['in_progress', 'completed', 'blocked'],
  blocked: ['pending', 'in_progress'],
  completed: ['in_progress'],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** The statuses from which `to` can be reached: the `WHERE status IN (…)` of a conditional update. */
export function statusesLeadingTo(to: TaskStatus): TaskStatus[] {
  return TASK_STATUSES.filter((from) => canTransition(from, to));
}

export class InvalidTransitionError extends ConflictError {
  constructor(
    readonly from: TaskStatus,
    readonly to: TaskStatus,
  ) {
    super(
      `Task is '${from}' and cannot move to '${to}'` +
        (TASK_TRANSITIONS[from].length
          ? ` (from '${from}' it can move to: ${TASK_TRANSITIONS[from].join(', ')})`
          : ''),
      'invalid_transition',
    );
  }
}

export function assertTransition(from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}
