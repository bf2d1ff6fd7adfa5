import { Client } from 'pg';
import type { TaskStatus } from '../src/tasks/task.enums';
import {
  auditRows,
  createProject,
  createTaskId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * What an outside probe did to the board before every door went through the move table, each
 * replayed as it was reported: every one of these succeeded then, and must be refused now.
 */
describe('The doors around the lifecycle routes (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let alice: Actor;
  let bob: Actor;
  let admin: Actor;
  let agent: Actor;
  let gpuAgent: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-1', name: 'Agent 1', type: 'agent' });
    gpuAgent = await registerWorker(t, admin, {
      id: 'agent-gpu',
      name: 'GPU',
      type: 'agent',
      capabilities: ['gpu'],
    });
    // The projects that scope claim-next below; whoever works there is a member, so what is
    // refused is refused for the assignee or the capabilities, not for membership.
    await createProject(alice, 'pre', { members: [[bob, 'member']] });
    await createProject(alice, 'gpu-only', {
      members: [
        [bob, 'member'],
        [gpuAgent, 'member'],
      ],
    });
  });

  afterAll(() => stopApp(t, db));

  const create = (body: object, actor = alice): Promise<number> =>
    createTaskId(actor, { title: 'probe', ...body });
  const row = async (id: number) =>
    (await db.query('SELECT status, assigned_to, progress_percent FROM tasks WHERE id = $1', [id]))
      .rows[0] as { status: TaskStatus; assigned_to: string | null; progress_percent: number };
  const actions = async (id: number): Promise<string[]> =>
    (await auditRows(db, id, 'action')).map((r: { action: string }) => r.action);

  it("PATCH cannot complete or take over someone else's work", async () => {
    const id = await create({});
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    await bob.post(`/api/tasks/${id}/complete`).expect(403);
    const complete = await bob.patch(`/api/tasks/${id}`, { status: 'completed' }).expect(403);
    expect(complete.body.code).toBe('not_assignee');
    const takeOver = await bob.patch(`/api/tasks/${id}`, { assigned_to: 'bob' }).expect(403);
    expect(takeOver.body.code).toBe('not_assignee');
    await bob.post(`/api/tasks/${id}/complete`).expect(403);
    expect(await row(id)).toEqual({
      status: 'in_progress',
      assigned_to: 'alice',
      progress_percent: 0,
    });
    expect(await actions(id)).toEqual(['created', 'started']);
  });

  it('PATCH and block/unblock cannot put a task in progress past an unfinished dependency', async () => {
    const y = await create({});
    const x = await create({});
    await alice.post(`/api/tasks/${x}/dependencies/${y}`).expect(200);
    await alice.post(`/api/tasks/${x}/start`).expect(409);
    await alice.patch(`/api/tasks/${x}`, { status: 'blocked' }).expect(200);
    // Unassigned, `unblock` lands in pending: asking for in_progress is a 409 either way.
    await alice.patch(`/api/tasks/${x}`, { status: 'in_progress' }).expect(409);
    expect(await row(x)).toMatchObject({ status: 'blocked', assigned_to: null });

    const held = await create({ assigned_to: 'alice' });
    await alice.post(`/api/tasks/${held}/dependencies/${y}`).expect(200);
    await alice.post(`/api/tasks/${held}/block`).expect(200);
    const unblock = await alice.post(`/api/tasks/${held}/unblock`).expect(409);
    expect(unblock.body.code).toBe('dependency_unfinished');
    const patch = await alice.patch(`/api/tasks/${held}`, { status: 'in_progress' }).expect(409);
    expect(patch.body.code).toBe('dependency_unfinished');
    expect(await row(held)).toMatchObject({ status: 'blocked', assigned_to: 'alice' });
    expect(await actions(held)).toEqual(['created', 'dependency_added', 'blocked']);
  });

  it.each(['in_progress', 'review', 'completed'])(
    'create refuses status %s (a new task is pending or blocked)',
    async (status) => {
      const before = Number((await db.query('SELECT count(*) FROM tasks')).rows[0].count);
      const res = await alice.post('/api/tasks', { title: 'skip', status }).expect(422);
      expect(res.body.details).toEqual([{ field: 'status', message: expect.any(String) }]);
      expect(Number((await db.query('SELECT count(*) FROM tasks')).rows[0].count)).toBe(before);
    },
  );

  it('a pre-assigned task is started only by its assignee, and claim-next never offers it to others', async () => {
    const id = await create({ assigned_to: 'bob', project_slug: 'pre' });
    const start = await alice.post(`/api/tasks/${id}/start`).expect(403);
    expect(start.body.code).toBe('not_assignee');
    await alice.post('/api/tasks/claim-next', { project: 'pre' }).expect(204);
    expect(await row(id)).toMatchObject({ status: 'pending', assigned_to: 'bob' });
    const mine = await bob.post('/api/tasks/claim-next', { project: 'pre' }).expect(200);
    expect(mine.body).toMatchObject({ id, status: 'in_progress', assigned_to: 'bob' });
  });

  it('review is signed off by someone else: approve and reject, never complete by the assignee', async () => {
    const id = await create({}, agent);
    await agent.post(`/api/tasks/${id}/start`).expect(200);
    await agent.post(`/api/tasks/${id}/review`).expect(200);
    expect((await agent.post(`/api/tasks/${id}/complete`).expect(409)).body.code).toBe(
      'invalid_transition',
    );
    expect((await agent.post(`/api/tasks/${id}/approve`).expect(403)).body.code).toBe(
      'reviewer_is_assignee',
    );
    expect(
      (await agent.patch(`/api/tasks/${id}`, { status: 'completed' }).expect(403)).body.code,
    ).toBe('reviewer_is_assignee');
    const noReason = await bob.post(`/api/tasks/${id}/reject`).expect(422);
    expect(noReason.body.details[0].field).toBe('reason');
    await bob.post(`/api/tasks/${id}/reject`, { reason: 'the tests fail' }).expect(200);
    expect(await row(id)).toMatchObject({ status: 'in_progress', assigned_to: 'agent-1' });
    await agent.post(`/api/tasks/${id}/review`).expect(200);
    await bob.post(`/api/tasks/${id}/approve`).expect(200);
    expect(await row(id)).toEqual({
      status: 'completed',
      assigned_to: 'agent-1',
      progress_percent: 100,
    });
    const trail = await auditRows(db, id, 'action, actor_id, actor_type, context');
    expect(trail.slice(2)).toEqual([
      { action: 'review_requested', actor_id: 'agent-1', actor_type: 'agent', context: null },
      {
        action: 'rejected',
        actor_id: 'bob',
        actor_type: 'human',
        context: { reason: 'the tests fail' },
      },
      { action: 'review_requested', actor_id: 'agent-1', actor_type: 'agent', context: null },
      { action: 'approved', actor_id: 'bob', actor_type: 'human', context: null },
    ]);
    await agent.post(`/api/tasks/${id}/reopen`).expect(200);
    expect(await actions(id)).toContain('reopened');
  });

  it('capabilities are the registered ones: claim-next cannot widen them, /start checks them, self-registration cannot grant them', async () => {
    const id = await create({ project_slug: 'gpu-only', required_capabilities: ['gpu'] });
    await bob
      .post('/api/tasks/claim-next', { project: 'gpu-only', capabilities: ['gpu'] })
      .expect(204);
    const start = await bob.post(`/api/tasks/${id}/start`).expect(403);
    expect(start.body.code).toBe('capability_missing');
    expect(await row(id)).toMatchObject({ status: 'pending', assigned_to: null });
    const handOff = await alice.patch(`/api/tasks/${id}`, { assigned_to: 'bob' }).expect(403);
    expect(handOff.body.code).toBe('capability_missing');

    const selfGrant = await bob
      .post('/api/workers', { name: 'Bob', capabilities: ['gpu'] })
      .expect(422);
    expect(selfGrant.body.details[0].field).toBe('capabilities');
    await bob.post('/api/workers', { name: 'Bob' }).expect(201);

    const claimed = await gpuAgent
      .post('/api/tasks/claim-next', { project: 'gpu-only', capabilities: ['gpu'] })
      .expect(200);
    expect(claimed.body).toMatchObject({ id, assigned_to: 'agent-gpu' });
  });

  it('a PATCH that mixes fields with a refused move changes nothing', async () => {
    const id = await create({ description: 'before' });
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    await bob.patch(`/api/tasks/${id}`, { description: 'after', status: 'completed' }).expect(403);
    const task = (await db.query('SELECT description, status FROM tasks WHERE id = $1', [id]))
      .rows[0];
    expect(task).toEqual({ description: 'before', status: 'in_progress' });
    expect(await actions(id)).toEqual(['created', 'started']);
    // Allowed, it is one request and one transaction, audited as the field change then the move.
    await alice.patch(`/api/tasks/${id}`, { description: 'after', status: 'review' }).expect(200);
    expect(await actions(id)).toEqual(['created', 'started', 'updated', 'review_requested']);
  });

  describe('concurrency', () => {
    /** What each recorded action does, from the lifecycle contract: [from, to, holder]. */
    const EFFECT: Record<string, { from: TaskStatus[]; to: TaskStatus; clears?: boolean }> = {
      completed: { from: ['in_progress'], to: 'completed' },
      released: { from: ['in_progress'], to: 'pending', clears: true },
      review_requested: { from: ['in_progress'], to: 'review' },
      approved: { from: ['review'], to: 'completed' },
      blocked: { from: ['pending', 'in_progress', 'review'], to: 'blocked' },
    };

    it('20 concurrent PATCH status, /complete and /release on one held task from different callers leave a state the table allows, one entry per applied move', async () => {
      const id = await create({});
      await alice.post(`/api/tasks/${id}/start`).expect(200);
      const callers = [alice, bob, admin, agent];
      const ACTION_OF: Record<string, string> = {
        completed: 'completed',
        complete: 'completed',
        release: 'released',
        pending: 'released',
        review: 'review_requested',
      };
      const sent = Array.from({ length: 20 }, (_, i) => {
        const who = callers[i % callers.length];
        const [door, what] = (
          [
            ['patch', 'completed'],
            ['post', 'complete'],
            ['post', 'release'],
            ['patch', 'review'],
            ['patch', 'pending'],
          ] as const
        )[i % 5];
        const response =
          door === 'post'
            ? who.post(`/api/tasks/${id}/${what}`)
            : who.patch(`/api/tasks/${id}`, { status: what });
        return { who: who.id, door, what, action: ACTION_OF[what], response };
      });
      const results = await Promise.all(sent.map(async (s) => ({ ...s, res: await s.response })));
      expect(results.every((r) => [200, 403, 409].includes(r.res.status))).toBe(true);

      const trail = (
        await db.query(
          "SELECT action, actor_id FROM audit_entries WHERE task_id = $1 AND action NOT IN ('created', 'started') ORDER BY id",
          [id],
        )
      ).rows as { action: string; actor_id: string }[];
      // One entry per applied move: each 200 from a route wrote one; each other entry came from
      // a 200 PATCH; a 200 PATCH without an entry asked for the status the task already had.
      const unmatched = [...trail];
      const take = (who: string, action: string): boolean => {
        const at = unmatched.findIndex((e) => e.actor_id === who && e.action === action);
        if (at >= 0) unmatched.splice(at, 1);
        return at >= 0;
      };
      const ok = results.filter((r) => r.res.status === 200);
      for (const r of ok.filter((r) => r.door === 'post')) expect(take(r.who, r.action)).toBe(true);
      for (const r of ok.filter((r) => r.door === 'patch')) {
        if (!take(r.who, r.action)) expect(r.res.body.status).toBe(r.what);
      }
      expect(unmatched).toEqual([]);
      // Replay: every applied move was legal from the state the one before it left.
      let state: { status: TaskStatus; holder: string | null } = {
        status: 'in_progress',
        holder: 'alice',
      };
      for (const entry of trail) {
        const effect = EFFECT[entry.action];
        expect(effect?.from).toContain(state.status);
        expect(entry.actor_id === state.holder || entry.actor_id === 'root').toBe(true);
        state = { status: effect.to, holder: effect.clears ? null : state.holder };
      }
      expect(await row(id)).toMatchObject({ status: state.status, assigned_to: state.holder });
    });
  });
});
