import type { AuthUser } from '../auth/auth-user';
import { backoffSeconds } from './task-lifecycle.service';
import { TASK_STATUSES, TaskStatus } from './task.enums';
import {
  InvalidTransitionError,
  MOVES,
  MoveName,
  MoveSubject,
  PrivateReference,
  TASK_TRANSITIONS,
  decideMove,
  decideOverdue,
  decideProjectMove,
  isRefusal,
  moveForStatus,
} from './task-moves';

/** The status changes the lifecycle allows, written out edge by edge. */
const EDGES = [
  'pending>in_progress', // start
  'pending>blocked', // block
  'in_progress>review', // review
  'in_progress>completed', // complete
  'in_progress>blocked', // block
  'in_progress>pending', // release
  'review>completed', // approve
  'review>in_progress', // reject
  'review>blocked', // block
  'blocked>pending', // unblock, unassigned
  'blocked>in_progress', // unblock, assigned
  'completed>in_progress', // reopen
  'in_progress>failed', // fail, no attempt left or not retryable
  'failed>pending', // retry
];

const user = (id: string, isAdmin = false): AuthUser => ({
  id,
  email: null,
  role: isAdmin ? 'admin' : 'user',
  isAdmin,
});

const task = (overrides: Partial<MoveSubject> = {}): MoveSubject => ({
  id: 7,
  project_slug: null,
  project_roles: {},
  status: 'pending',
  assigned_to: null,
  lease_expires_at: null,
  attempts: 0,
  max_attempts: 3,
  not_before: null,
  required_capabilities: [],
  blocker: null,
  capabilities: {},
  awaiting_input: false,
  review_policy: 'other',
  worker_types: {},
  ...overrides,
});

describe('the move table', () => {
  const pairs = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s -> %s is reachable exactly when the lifecycle lists it', (from, to) => {
    expect(TASK_TRANSITIONS[from].includes(to)).toBe(EDGES.includes(`${from}>${to}`));
    expect(moveForStatus(from, to) !== undefined).toBe(EDGES.includes(`${from}>${to}`));
  });

  it('names the move behind each PATCH status', () => {
    const move = (from: TaskStatus, to: TaskStatus) => moveForStatus(from, to);
    expect(move('review', 'completed')).toBe('approve');
    expect(move('in_progress', 'completed')).toBe('complete');
    expect(move('review', 'in_progress')).toBe('reject');
    expect(move('completed', 'in_progress')).toBe('reopen');
    expect(move('blocked', 'pending')).toBe('unblock');
    expect(move('in_progress', 'pending')).toBe('release');
    expect(move('in_progress', 'failed')).toBe('fail');
    expect(move('failed', 'pending')).toBe('retry');
  });

  it('refuses an unreachable status with a 409 naming where the task can go', () => {
    const error = new InvalidTransitionError(3, 'completed', 'review');
    expect(error.message).toBe(
      "Task 3 is 'completed' and cannot move to 'review' (from 'completed' it can move to: in_progress)",
    );
    expect(error.code).toBe('invalid_transition');
  });

  describe('decideMove', () => {
    it('checks the status first, then who, then the preconditions', () => {
      const held = task({ status: 'completed', assigned_to: 'bob' });
      // Wrong status and wrong caller: the status answers.
      expect(decideMove('complete', held, { caller: user('alice') })).toMatchObject({
        kind: 'conflict',
        code: 'invalid_transition',
      });
      // Right status, wrong caller, unfinished dependency: the caller answers.
      const waiting = task({
        status: 'completed',
        assigned_to: 'bob',
        blocker: { id: 1, status: 'pending' },
      });
      expect(decideMove('reopen', waiting, { caller: user('alice') })).toMatchObject({
        kind: 'forbidden',
        code: 'not_assignee',
      });
      expect(decideMove('reopen', waiting, { caller: user('bob') })).toMatchObject({
        kind: 'conflict',
        code: 'dependency_unfinished',
      });
    });

    it('starts a pre-assigned task for its assignee, even when an admin starts it', () => {
      const pre = task({ assigned_to: 'bob' });
      expect(decideMove('start', pre, { caller: user('alice') })).toMatchObject({
        code: 'not_assignee',
      });
      expect(decideMove('start', pre, { caller: user('root', true) })).toEqual({
        status: 'in_progress',
        assigned_to: 'bob',
      });
    });

    it('lets anyone take over a task whose lease expired, recording whose it was', () => {
      const expiredAt = new Date('2026-01-01T00:00:00Z');
      const outcome = decideMove(
        'start',
        task({ status: 'in_progress', assigned_to: 'bob', lease_expires_at: expiredAt }),
        { caller: user('alice'), now: new Date('2026-01-01T00:01:00Z') },
      );
      expect(outcome).toEqual({
        status: 'in_progress',
        assigned_to: 'alice',
        takeover: { previous_holder: 'bob', lease_expired_at: expiredAt },
        failure: { attempt: 1, retryable: true, exhausted: false },
      });
    });

    it('fails the task instead of a takeover when the expired lease was its last attempt', () => {
      const expiredAt = new Date('2026-01-01T00:00:00Z');
      const outcome = decideMove(
        'start',
        task({
          status: 'in_progress',
          assigned_to: 'bob',
          lease_expires_at: expiredAt,
          attempts: 2,
          max_attempts: 3,
        }),
        { caller: user('alice'), now: new Date('2026-01-01T00:01:00Z') },
      );
      expect(outcome).toEqual({
        status: 'failed',
        assigned_to: null,
        takeover: { previous_holder: 'bob', lease_expired_at: expiredAt },
        failure: { attempt: 3, retryable: true, exhausted: true },
      });
    });

    it('sends a failed attempt back to pending while attempts remain, else to failed', () => {
      const held = (attempts: number) =>
        task({ status: 'in_progress', assigned_to: 'bob', attempts, max_attempts: 3 });
      const fail = (attempts: number, retryable?: boolean) =>
        decideMove('fail', held(attempts), { caller: user('bob'), reason: 'boom', retryable });
      expect(fail(0)).toEqual({
        status: 'pending',
        assigned_to: null,
        failure: { attempt: 1, retryable: true, exhausted: false },
      });
      expect(fail(1)).toMatchObject({ status: 'pending', failure: { attempt: 2 } });
      expect(fail(2)).toEqual({
        status: 'failed',
        assigned_to: null,
        failure: { attempt: 3, retryable: true, exhausted: true },
      });
      expect(fail(0, false)).toEqual({
        status: 'failed',
        assigned_to: null,
        failure: { attempt: 1, retryable: false, exhausted: true },
      });
      expect(decideMove('fail', held(0), { caller: user('alice'), reason: 'x' })).toMatchObject({
        code: 'not_assignee',
      });
      expect(decideMove('fail', held(0), { caller: user('bob') })).toMatchObject({
        kind: 'validation',
      });
    });

    it('refuses to start a task before its not_before, saying how long to wait', () => {
      const now = new Date('2026-01-01T00:00:00Z');
      const waiting = task({ not_before: new Date('2026-01-01T00:00:41.200Z') });
      expect(decideMove('start', waiting, { caller: user('alice'), now })).toEqual({
        kind: 'conflict',
        code: 'retry_later',
        message: expect.stringContaining('2026-01-01T00:00:41.200Z'),
        retryAfterSeconds: 42,
      });
      const later = new Date('2026-01-01T00:00:42Z');
      expect(decideMove('start', waiting, { caller: user('alice'), now: later })).toEqual({
        status: 'in_progress',
        assigned_to: 'alice',
      });
    });

    it('lets any writer retry a failed task, and no one else', () => {
      const failed = task({
        status: 'failed',
        project_slug: 'web',
        project_roles: { bob: 'member', eve: 'viewer' },
      });
      expect(decideMove('retry', failed, { caller: user('bob') })).toEqual({
        status: 'pending',
        assigned_to: null,
      });
      expect(decideMove('retry', failed, { caller: user('eve') })).toMatchObject({
        code: 'not_project_member',
      });
      expect(
        decideMove('retry', task({ status: 'pending' }), { caller: user('bob') }),
      ).toMatchObject({
        code: 'invalid_transition',
      });
    });

    it('counts an overdue claim as a retryable failure', () => {
      const held = (attempts: number) =>
        task({ status: 'in_progress', assigned_to: 'bob', attempts, max_attempts: 2 });
      expect(decideOverdue(held(0))).toEqual({
        status: 'pending',
        assigned_to: null,
        failure: { attempt: 1, retryable: true, exhausted: false },
      });
      expect(decideOverdue(held(1))).toEqual({
        status: 'failed',
        assigned_to: null,
        failure: { attempt: 2, retryable: true, exhausted: true },
      });
    });

    it('keeps a task whose holder awaits an answer: its lease does not run out', () => {
      const outcome = decideMove(
        'start',
        task({
          status: 'in_progress',
          assigned_to: 'bob',
          lease_expires_at: new Date('2026-01-01T00:00:00Z'),
          awaiting_input: true,
        }),
        { caller: user('alice'), now: new Date('2026-01-01T00:01:00Z') },
      );
      expect(outcome).toMatchObject({ code: 'task_claimed' });
    });

    it("checks the new holder's registered capabilities, not the caller's", () => {
      const gpu = task({
        required_capabilities: ['gpu'],
        capabilities: { alice: ['gpu'], bob: [] },
      });
      expect(decideMove('assign', gpu, { caller: user('alice'), holder: 'bob' })).toMatchObject({
        kind: 'forbidden',
        code: 'capability_missing',
      });
      expect(decideMove('assign', gpu, { caller: user('bob'), holder: 'alice' })).toEqual({
        status: 'pending',
        assigned_to: 'alice',
      });
    });

    it('keeps a holder on work in progress or in review: unassigning is a release', () => {
      for (const status of ['in_progress', 'review'] as const) {
        const outcome = decideMove('assign', task({ status, assigned_to: 'bob' }), {
          caller: user('bob'),
          holder: null,
        });
        expect(isRefusal(outcome) && outcome.code).toBe('invalid_transition');
      }
    });

    it('makes PATCH land where it asked: unblocking an unassigned task is not in_progress', () => {
      expect(
        decideMove('unblock', task({ status: 'blocked' }), {
          caller: user('alice'),
          expectStatus: 'in_progress',
        }),
      ).toMatchObject({ kind: 'conflict', code: 'invalid_transition' });
    });

    it('refuses a rejection without a reason', () => {
      const review = task({ status: 'review', assigned_to: 'bob' });
      expect(decideMove('reject', review, { caller: user('alice') })).toMatchObject({
        kind: 'validation',
      });
      expect(decideMove('reject', review, { caller: user('alice'), reason: ' ' })).toMatchObject({
        kind: 'validation',
      });
      expect(decideMove('reject', review, { caller: user('alice'), reason: 'redo' })).toEqual({
        status: 'in_progress',
        assigned_to: 'bob',
      });
    });
  });
});

describe("the project's sign-off rule (review_policy), a column of the move table", () => {
  const held = (status: TaskStatus, assigneeType: 'agent' | 'human', policy: 'human' | 'other') =>
    task({
      project_slug: 'site',
      project_roles: { bot: 'member', ada: 'member', bot2: 'member', root: 'member' },
      status,
      assigned_to: 'bot',
      review_policy: policy,
      worker_types: policy === 'human' ? { bot: assigneeType, bot2: 'agent' } : {},
    });
  const refusal = (name: MoveName, subject: MoveSubject, caller: AuthUser) => {
    const outcome = decideMove(name, subject, { caller, reason: 'redo it' });
    return isRefusal(outcome) ? outcome.code : 'allowed';
  };

  it('lets only a person approve or reject the work of an agent under human', () => {
    const review = held('review', 'agent', 'human');
    for (const name of ['approve', 'reject'] as const) {
      expect(refusal(name, review, user('bot2'))).toBe('human_review_required');
      expect(refusal(name, review, user('bot2', true))).toBe('human_review_required');
      expect(refusal(name, review, user('ada'))).toBe('allowed');
      // The assignee itself is still refused first as the assignee.
      expect(refusal(name, review, user('bot'))).toBe('reviewer_is_assignee');
    }
    expect(MOVES.approve.signOff).toBe('signs_off');
    expect(MOVES.reject.signOff).toBe('signs_off');
  });

  it('refuses an agent completing its work without review under human, even by an admin', () => {
    const working = held('in_progress', 'agent', 'human');
    expect(refusal('complete', working, user('bot'))).toBe('review_required');
    expect(refusal('complete', working, user('root', true))).toBe('review_required');
    expect(refusal('review', working, user('bot'))).toBe('allowed');
    expect(MOVES.complete.signOff).toBe('skips_review');
  });

  it('leaves people, and the policy other, as before', () => {
    expect(refusal('complete', held('in_progress', 'human', 'human'), user('bot'))).toBe('allowed');
    expect(refusal('approve', held('review', 'human', 'human'), user('bot2'))).toBe('allowed');
    expect(refusal('complete', held('in_progress', 'agent', 'other'), user('bot'))).toBe('allowed');
    expect(refusal('approve', held('review', 'agent', 'other'), user('bot2'))).toBe('allowed');
  });
});

describe('project membership, a column of the move table', () => {
  const inProject = (roles: Record<string, 'owner' | 'member' | 'viewer'>) =>
    task({ project_slug: 'website', project_roles: roles });

  it.each(Object.keys(MOVES) as MoveName[])(
    '%s: a non-member and a viewer are refused before anything else; owners and members pass',
    (name) => {
      const outsiders: Record<string, 'viewer'>[] = [{}, { ann: 'viewer' }];
      for (const roles of outsiders) {
        const outcome = decideMove(name, inProject(roles), { caller: user('ann'), holder: 'ann' });
        expect(outcome).toMatchObject({ kind: 'forbidden', code: 'not_project_member' });
      }
      for (const role of ['owner', 'member'] as const) {
        const outcome = decideMove(name, inProject({ ann: role }), {
          caller: user('ann'),
          holder: 'ann',
        });
        expect(isRefusal(outcome) && outcome.code === 'not_project_member').toBe(false);
      }
    },
  );

  it('admins need no membership, but the holder they assign does', () => {
    expect(isRefusal(decideMove('start', inProject({}), { caller: user('root', true) }))).toBe(
      false,
    );
    expect(
      decideMove('assign', inProject({}), { caller: user('root', true), holder: 'bob' }),
    ).toMatchObject({ kind: 'forbidden', code: 'not_project_member' });
    expect(
      isRefusal(
        decideMove('assign', inProject({ bob: 'member' }), {
          caller: user('root', true),
          holder: 'bob',
        }),
      ),
    ).toBe(false);
  });

  it('assign to a viewer is refused even by an owner', () => {
    expect(
      decideMove('assign', inProject({ ann: 'owner', bob: 'viewer' }), {
        caller: user('ann'),
        holder: 'bob',
      }),
    ).toMatchObject({ kind: 'forbidden', code: 'not_project_member' });
  });

  it('the shared board (no project) has no membership rule', () => {
    expect(isRefusal(decideMove('start', task(), { caller: user('ann') }))).toBe(false);
  });
});

describe('decideProjectMove: moving a task between projects', () => {
  const moved = (project: string | null, roles: Record<string, 'owner' | 'member' | 'viewer'>) =>
    task({ project_slug: project, project_roles: roles });
  const reference = (overrides: Partial<PrivateReference> = {}): PrivateReference => ({
    id: 9,
    target: 7,
    field: 'depends_on',
    target_project: 'secret',
    visible: true,
    ...overrides,
  });

  it('finding 6: the holder it keeps must be an owner or member there, as for assign', () => {
    const outsiders: Record<string, 'viewer'>[] = [{}, { bob: 'viewer' }];
    for (const roles of outsiders) {
      expect(decideProjectMove(moved('secret', roles), 'bob', undefined)).toMatchObject({
        kind: 'forbidden',
        code: 'not_project_member',
      });
    }
    expect(decideProjectMove(moved('secret', { bob: 'member' }), 'bob', undefined)).toBeUndefined();
    expect(decideProjectMove(moved(null, {}), 'bob', undefined)).toBeUndefined();
    expect(decideProjectMove(moved('secret', {}), null, undefined)).toBeUndefined();
  });

  it('finding 4: a task outside the private project it moves into refers to it: 409', () => {
    const refusal = decideProjectMove(moved('secret', {}), null, reference());
    expect(refusal).toMatchObject({ kind: 'conflict', code: 'project_referenced' });
    expect(refusal?.message).toContain('Task 9 depends on task 7');
  });

  it('finding 5: it leaves a private project with a parent there: 409 naming the parent', () => {
    const refusal = decideProjectMove(
      moved(null, {}),
      null,
      reference({ id: 7, target: 3, field: 'parent_id' }),
    );
    expect(refusal).toMatchObject({ code: 'project_referenced' });
    expect(refusal?.message).toContain("Task 7 is a subtask of task 3 of private project 'secret'");
  });

  it('finding 4: a reference from a task the caller cannot see refuses without naming it', () => {
    const refusal = decideProjectMove(moved('secret', {}), null, reference({ visible: false }));
    expect(refusal).toMatchObject({ code: 'project_referenced' });
    expect(refusal?.message).not.toContain('9');
  });
});

describe('backoffSeconds (full jitter)', () => {
  const config = { baseSeconds: 30, maxSeconds: 3600 };
  it('waits up to base × 2^(attempt−1), capped at the maximum', () => {
    expect(backoffSeconds(1, config, () => 0.999999)).toBeCloseTo(30, 3);
    expect(backoffSeconds(3, config, () => 0.5)).toBe(60);
    expect(backoffSeconds(20, config, () => 0.5)).toBe(1800);
    expect(backoffSeconds(2, config, () => 0)).toBe(0);
  });
});
