import { TASK_STATUSES, TaskStatus } from './task.enums';
import {
  InvalidTransitionError,
  assertTransition,
  canTransition,
  statusesLeadingTo,
} from './task-state-machine';

/** The contract's state machine, written out edge by edge. */
const CONTRACT_EDGES = [
  'pending>in_progress',
  'pending>blocked',
  'in_progress>review',
  'in_progress>completed',
  'in_progress>blocked',
  'in_progress>pending',
  'review>in_progress',
  'review>completed',
  'review>blocked',
  'blocked>pending',
  'blocked>in_progress',
  'completed>in_progress',
];

describe('task state machine', () => {
  const pairs = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s -> %s is allowed exactly when the contract lists it', (from, to) => {
    expect(canTransition(from, to)).toBe(CONTRACT_EDGES.includes(`${from}>${to}`));
  });

  it('refuses with a 409-class error naming the current status', () => {
    expect(() => assertTransition('completed', 'review')).toThrow(InvalidTransitionError);
    expect(() => assertTransition('completed', 'review')).toThrow(/Task is 'completed'/);
  });

  it('lists the sources of each target', () => {
    const sources = (to: TaskStatus) => statusesLeadingTo(to).sort();
    expect(sources('in_progress')).toEqual(['blocked', 'completed', 'pending', 'review']);
    expect(sources('completed')).toEqual(['in_progress', 'review']);
    expect(sources('review')).toEqual(['in_progress']);
    expect(sources('blocked')).toEqual(['in_progress', 'pending', 'review']);
    expect(sources('pending')).toEqual(['blocked', 'in_progress']);
  });
});
