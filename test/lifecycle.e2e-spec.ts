import { Client } from 'pg';
import { TASK_STATUSES, TaskStatus } from '../src/tasks/task.enums';
import { auditRows, registerWorker, signInAdmin, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

type Move = 'start' | 'progress' | 'review' | 'complete' | 'block' | 'unblock' | 'release';

/** Expected outcome of each move from each status, for a task held by the caller (alice). */
const OUTCOMES: Record<Move, Partial<Record<TaskStatus, TaskStatus>>> = {
  start: { pending: 'in_progress' },
  progress: { in_progress: 'in_progress' },
  review: { in_progress: 'review' },
  complete: { in_progress: 'completed' },
  block: { pending: 'blocked', in_progress: 'blocked', review: 'blocked' },
  unblock: { blocked: 'in_progress' },
  release: { in_progress: 'pending' },
};
const ACTIONS: Record<Move, string> = {
  start: 'started',
  progress: 'progressed',
  review: 'review_requested',
  complete: 'completed',
  block: 'blocked',
  unblock: 'unblocked',
  release: 'released',
};
const url = (id: number, move: Move) =>
  `/api/tasks/${id}/${move}${move === 'progress' ? '?percent=50' : ''}`;

describe('Task lifecycle (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let alice: Actor;
  let bob: Actor;
  let admin: Actor;
  let agent: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-9', name: 'Agent 9', type: 'agent' });
  });

  afterAll(() => stopApp(t, db));

  /**
   * A task in `status`, assigned to `assignee` (set directly: this is the test's arrangement), on
   * the shared board: the moves' own rules are the subject here, not project membership.
   */
  const taskIn = async (status: TaskStatus, assignee: string | null = 'alice'): Promise<number> => {
    const res = await db.query(
      `INSERT INTO tasks (title, status, assigned_to, created_by) VALUES ('t', $1, $2, 'alice') RETURNING id`,
      [status, assignee],
    );
    return res.rows[0].id as number;
  };

  describe('every move from every status', () => {
    const cases = (Object.keys(OUTCOMES) as Move[]).flatMap((move) =>
      TASK_STATUSES.map((from) => [move, from, OUTCOMES[move][from]] as const),
    );

    it.each(cases)('%s from %s -> %s', async (move, from, to) => {
      const id = await taskIn(from);
      const res = await alice.post(url(id, move));
      if (to) {
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(to);
        const trail = await auditRows(db, id);
        expect(trail).toHaveLength(1);
        expect(trail[0]).toMatchObject({
          action: ACTIONS[move],
          actor_id: 'alice',
          actor_type: 'human',
          task_id: id,
        });
      } else {
        expect(res.status).toBe(409);
        expect(res.body).toEqual({
          error: expect.stringContaining(`is '${from}'`),
          status_code: 409,
          code: move === 'start' && from === 'in_progress' ? 'task_claimed' : 'invalid_transition',
        });
        expect(await auditRows(db, id)).toEqual([]);
        const row = await db.query('SELECT status FROM tasks WHERE id = $1', [id]);
        expect(row.rows[0].status).toBe(from);
      }
    });
  });

  describe('what each move does besides the status', () => {
    it('start assigns the caller, even over a previous assignee', async () => {
      const id = await taskIn('pending', null);
      const res = await agent.post(`/api/tasks/${id}/start`).expect(200);
      expect(res.body).toMatchObject({ status: 'in_progress', assigned_to: 'agent-9' });
      expect((await auditRows(db, id))[0]).toMatchObject({
        action: 'started',
        actor_type: 'agent',
        context: null,
      });
    });

    it('progress sets the percent from the query, with the note in the audit context', async () => {
      const id = await taskIn('in_progress');
      const res = await alice
        .post(`/api/tasks/${id}/progress?percent=40&note=${encodeURIComponent('half way')}`)
        .expect(200);
      expect(res.body.progress_percent).toBe(40);
      expect((await auditRows(db, id))[0].context).toEqual({ percent: 40, note: 'half way' });
    });

    it('progress takes the same fields in a JSON body', async () => {
      const id = await taskIn('in_progress');
      const res = await alice
        .post(`/api/tasks/${id}/progress`, { percent: 75, note: 'body' })
        .expect(200);
      expect(res.body.progress_percent).toBe(75);
      expect((await auditRows(db, id))[0].context).toEqual({ percent: 75, note: 'body' });
      const noNote = await taskIn('in_progress');
      await alice.post(`/api/tasks/${noNote}/progress`, { percent: 5 }).expect(200);
      expect((await auditRows(db, noNote))[0].context).toEqual({ percent: 5, note: null });
    });

    it.each([
      ['no percent at all', '', undefined],
      ['percent above 100', '?percent=101', undefined],
      ['negative percent', '?percent=-1', undefined],
      ['percent that is not a number', '?percent=half', undefined],
      ['percent as a string in the body', '', { percent: '50' }],
      ['fractional percent in the body', '', { percent: 5.5 }],
      ['a note over 1000 characters', `?percent=5&note=${'x'.repeat(1001)}`, undefined],
    ])('progress refuses %s with 422', async (_case, query, body) => {
      const id = await taskIn('in_progress');
      const res = await alice.post(`/api/tasks/${id}/progress${query}`, body).expect(422);
      expect(res.body.details[0].field).toMatch(/percent|note/);
      expect(await auditRows(db, id)).toEqual([]);
    });

    it('complete sets progress to 100', async () => {
      const id = await taskIn('in_progress');
      expect(
        (await alice.post(`/api/tasks/${id}/complete`).expect(200)).body.progress_percent,
      ).toBe(100);
    });

    it('block records the reason, from the query or a body', async () => {
      const a = await taskIn('pending');
      await alice
        .post(`/api/tasks/${a}/block?reason=${encodeURIComponent('waiting on API key')}`)
        .expect(200);
      expect((await auditRows(db, a))[0].context).toEqual({ reason: 'waiting on API key' });
      const b = await taskIn('review', 'bob');
      await bob.post(`/api/tasks/${b}/block`, { reason: 'needs design' }).expect(200);
      expect((await auditRows(db, b))[0]).toMatchObject({
        actor_id: 'bob',
        context: { reason: 'needs design' },
      });
      const c = await taskIn('pending');
      await alice.post(`/api/tasks/${c}/block`).expect(200);
      expect((await auditRows(db, c))[0].context).toEqual({ reason: null });
    });

    it('unblock goes back to work when assigned, to the queue when not', async () => {
      const held = await taskIn('blocked', 'alice');
      expect((await alice.post(`/api/tasks/${held}/unblock`).expect(200)).body.status).toBe(
        'in_progress',
      );
      const free = await taskIn('blocked', null);
      expect((await bob.post(`/api/tasks/${free}/unblock`).expect(200)).body.status).toBe(
        'pending',
      );
    });

    it('release clears the assignment', async () => {
      const id = await taskIn('in_progress', 'agent-9');
      const res = await agent.post(`/api/tasks/${id}/release`).expect(200);
      expect(res.body).toMatchObject({ status: 'pending', assigned_to: null });
    });

    it('answers a missing task with 404 and a bad id with 422', async () => {
      await alice.post('/api/tasks/999999/start').expect(404);
      await alice.post('/api/tasks/abc/start').expect(422);
    });
  });

  describe('ownership', () => {
    it.each(['progress', 'review', 'complete', 'release', 'block'] as const)(
      "%s on someone else's task is 403, and fine for an admin",
      async (move) => {
        const id = await taskIn('in_progress', 'bob');
        const res = await alice.post(url(id, move)).expect(403);
        expect(res.body).toEqual({
          error: `Task ${id} is assigned to bob; only they or an admin may ${move} it`,
          status_code: 403,
          code: 'not_assignee',
        });
        expect(await auditRows(db, id)).toEqual([]);
        await admin.post(url(id, move)).expect(200);
        expect((await auditRows(db, id))[0]).toMatchObject({
          actor_id: 'root',
          action: ACTIONS[move],
        });
      },
    );

    it.each(['progress', 'review', 'complete', 'release'] as const)(
      '%s on a task in progress that nobody holds (older data) is for admins only',
      async (move) => {
        const id = await taskIn('in_progress', null);
        const res = await bob.post(url(id, move)).expect(403);
        expect(res.body.code).toBe('not_assignee');
        await admin.post(url(id, move)).expect(200);
      },
    );

    it("block and unblock are the assignee's, and anyone's while the task is unassigned", async () => {
      const held = await taskIn('blocked', 'bob');
      expect((await alice.post(`/api/tasks/${held}/unblock`).expect(403)).body.code).toBe(
        'not_assignee',
      );
      const free = await taskIn('pending', null);
      await alice.post(`/api/tasks/${free}/block`).expect(200);
      await bob.post(`/api/tasks/${free}/unblock`).expect(200);
    });
  });

  describe('atomic claims', () => {
    it('of 50 concurrent starts exactly one wins, with exactly one started entry', async () => {
      const id = await taskIn('pending', null);
      const actors = await Promise.all(Array.from({ length: 50 }, (_, i) => t.actor(`racer-${i}`)));
      const results = await Promise.all(actors.map((a) => a.post(`/api/tasks/${id}/start`)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(49);
      for (const loser of results.filter((r) => r.status === 409)) {
        expect(loser.body).toMatchObject({
          code: 'task_claimed',
          error: expect.stringContaining(`Task ${id} is 'in_progress' (claimed by racer-`),
        });
      }
      const trail = await auditRows(db, id);
      expect(trail.filter((e) => e.action === 'started')).toHaveLength(1);
      expect(trail[0].actor_id).toBe(winners[0].body.assigned_to);
      const row = await db.query('SELECT assigned_to FROM tasks WHERE id = $1', [id]);
      expect(row.rows[0].assigned_to).toBe(winners[0].body.assigned_to);
    });

    it.each([
      ['complete', 'in_progress'],
      ['review', 'in_progress'],
      ['block', 'pending'],
      ['release', 'in_progress'],
      ['unblock', 'blocked'],
    ] as const)('%s racing itself 20 times applies once', async (move, from) => {
      const id = await taskIn(from, 'alice');
      const results = await Promise.all(
        Array.from({ length: 20 }, () => alice.post(url(id, move))),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(19);
      expect(await auditRows(db, id)).toHaveLength(1);
    });
  });
});
