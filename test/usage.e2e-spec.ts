import type { Client } from 'pg';
import {
  auditRows,
  createProject,
  createTaskId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import type { Actor, TestApp } from './support/test-app';

/**
 * Usage and budgets (docs/lifecycle.md, "Usage and budgets"): reports accumulate on the task,
 * exactly; a report that leaves the task over a budget is recorded and blocks the task in the
 * same transaction; the agent is then refused until a person raises the budget and unblocks.
 */
describe('Usage and budgets (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let agent: Actor;
  let alice: Actor;
  let seq = 0;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-1', name: 'Agent', type: 'agent' });
    alice = await registerWorker(t, admin, { id: 'alice', name: 'Alice', type: 'human' });
  });
  afterAll(() => stopApp(t, db));

  /** A task in a project of its own, created by alice with `fields`, started by the agent. */
  const started = async (fields: object = {}): Promise<number> => {
    const slug = `usage-${++seq}`;
    await createProject(admin, slug, {
      members: [
        [agent, 'member'],
        [alice, 'member'],
      ],
    });
    const id = await createTaskId(alice, { title: 'costly', project_slug: slug, ...fields });
    await agent.post(`/api/tasks/${id}/start`, { lease_seconds: 600 }).expect(200);
    return id;
  };

  const report = (id: number, body: object, actor = agent) =>
    actor.post(`/api/tasks/${id}/usage`, body);

  it('adds up reports, per model too, with money kept exact', async () => {
    const id = await started();
    await report(id, {
      model: 'model-a',
      input_tokens: 1000,
      output_tokens: 200,
      cost_usd: '0.1',
    }).expect(200);
    await report(id, {
      model: 'model-b',
      input_tokens: 10,
      output_tokens: 5,
      cost_usd: 0.2,
    }).expect(200);
    const last = await report(id, { model: 'model-a', input_tokens: 1, output_tokens: 1 }).expect(
      200,
    );
    // 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    expect(last.body.usage).toEqual({
      input_tokens: 1011,
      output_tokens: 206,
      cost_usd: '0.3',
      by_model: {
        'model-a': { input_tokens: 1001, output_tokens: 201, cost_usd: '0.1' },
        'model-b': { input_tokens: 10, output_tokens: 5, cost_usd: '0.2' },
      },
    });
    expect(last.body.status).toBe('in_progress');
    const entries = (await auditRows(db, id, 'action, actor_id, context')).filter(
      (e) => e.action === 'usage_reported',
    );
    expect(entries.map((e) => e.context)).toEqual([
      { model: 'model-a', input_tokens: 1000, output_tokens: 200, cost_usd: '0.1' },
      { model: 'model-b', input_tokens: 10, output_tokens: 5, cost_usd: '0.2' },
      { model: 'model-a', input_tokens: 1, output_tokens: 1, cost_usd: null },
    ]);
    expect(new Set(entries.map((e) => e.actor_id))).toEqual(new Set(['agent-1']));
  });

  it('takes a report with a heartbeat or a progress report', async () => {
    const id = await started();
    const beat = await agent
      .post(`/api/tasks/${id}/heartbeat`, {
        lease_seconds: 600,
        usage: { model: 'm', input_tokens: 5, output_tokens: 6, cost_usd: '0.000001' },
      })
      .expect(200);
    expect(beat.body.usage).toMatchObject({ input_tokens: 5, output_tokens: 6 });
    const progress = await agent
      .post(`/api/tasks/${id}/progress`, {
        percent: 40,
        usage: { model: 'm', input_tokens: 1, output_tokens: 1, cost_usd: '0.000002' },
      })
      .expect(200);
    expect(progress.body).toMatchObject({
      progress_percent: 40,
      usage: { input_tokens: 6, output_tokens: 7, cost_usd: '0.000003' },
    });
    expect((await auditRows(db, id, 'action')).map((e) => e.action)).toEqual([
      'created',
      'started',
      'lease_extended',
      'usage_reported',
      'progressed',
      'usage_reported',
    ]);
    // A heartbeat whose report is invalid changes nothing.
    await agent
      .post(`/api/tasks/${id}/heartbeat`, {
        usage: { model: 'm', input_tokens: -1, output_tokens: 0 },
      })
      .expect(422);
    expect((await auditRows(db, id, 'action')).length).toBe(6);
  });

  it('blocks the task in the same transaction when a heartbeat report passes the token budget; a person raises it and unblocks', async () => {
    const id = await started({ budget_tokens: 1000 });
    await report(id, { model: 'm', input_tokens: 800, output_tokens: 100 }).expect(200);
    const beat = await agent
      .post(`/api/tasks/${id}/heartbeat`, {
        usage: { model: 'm', input_tokens: 100, output_tokens: 1 },
      })
      .expect(200);
    // Recorded, and blocked.
    expect(beat.body).toMatchObject({
      status: 'blocked',
      assigned_to: 'agent-1',
      usage: { input_tokens: 900, output_tokens: 101 },
    });
    const tail = (
      await db.query(
        `SELECT action, actor_id, context, tx_id FROM audit_entries WHERE task_id = $1
          ORDER BY id DESC LIMIT 3`,
        [id],
      )
    ).rows.reverse();
    expect(tail.map((e) => [e.action, e.actor_id, e.context?.reason])).toEqual([
      ['lease_extended', 'agent-1', undefined],
      ['usage_reported', 'agent-1', undefined],
      ['blocked', 'agent-1', 'budget exceeded'],
    ]);
    expect(new Set(tail.map((e) => e.tx_id)).size).toBe(1);

    // The agent is refused like any move from blocked.
    for (const res of [
      await agent.post(`/api/tasks/${id}/heartbeat`),
      await agent.post(`/api/tasks/${id}/progress`, { percent: 50 }),
      await report(id, { model: 'm', input_tokens: 1, output_tokens: 1 }),
    ]) {
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 409,
        code: 'invalid_transition',
      });
    }

    // A person raises the budget and unblocks it; the agent carries on.
    const raised = await admin.patch(`/api/tasks/${id}`, { budget_tokens: 5000 }).expect(200);
    expect(raised.body).toMatchObject({ status: 'blocked', budget_tokens: 5000 });
    await admin.post(`/api/tasks/${id}/unblock`).expect(200);
    await agent.post(`/api/tasks/${id}/heartbeat`).expect(200);
    const [updated] = (
      await db.query(
        `SELECT actor_id, context FROM audit_entries WHERE task_id = $1 AND action = 'updated'`,
        [id],
      )
    ).rows;
    expect(updated).toEqual({
      actor_id: 'root',
      context: { budget_tokens: { from: 1000, to: 5000 } },
    });
  });

  it('compares money exactly: reaching the dollar budget is not passing it', async () => {
    const id = await started({ budget_usd: '0.3' });
    expect((await agent.get(`/api/tasks/${id}`)).body.budget_usd).toBe('0.300000');
    await report(id, { model: 'm', input_tokens: 0, output_tokens: 0, cost_usd: '0.1' }).expect(
      200,
    );
    const at = await report(id, { model: 'm', input_tokens: 0, output_tokens: 0, cost_usd: 0.2 });
    expect(at.body).toMatchObject({ status: 'in_progress', usage: { cost_usd: '0.3' } });
    const past = await report(id, {
      model: 'm',
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: '0.000001',
    }).expect(200);
    expect(past.body).toMatchObject({ status: 'blocked', usage: { cost_usd: '0.300001' } });
    const [blocked] = (
      await db.query(
        `SELECT context FROM audit_entries WHERE task_id = $1 AND action = 'blocked'`,
        [id],
      )
    ).rows;
    expect(blocked.context).toEqual({ reason: 'budget exceeded' });
  });

  it('a PATCH of budget_usd to the same amount written otherwise changes nothing', async () => {
    const id = await started({ budget_usd: '5' });
    const before = (await alice.get(`/api/tasks/${id}`).expect(200)).body;
    expect(before.budget_usd).toBe('5.000000');
    const entries = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM audit_entries WHERE task_id = $1`, [id]))
        .rows[0].n as number;
    const logged = await entries();
    for (const same of ['5', '5.0', '05.000000', 5, 5.0]) {
      const res = await alice.patch(`/api/tasks/${id}`, { budget_usd: same }).expect(200);
      expect([same, res.body.version, res.body.budget_usd]).toEqual([
        same,
        before.version,
        '5.000000',
      ]);
    }
    expect(await entries()).toBe(logged);
    // A different amount, even by a millionth, is a change, recorded as sent.
    const raised = await alice.patch(`/api/tasks/${id}`, { budget_usd: '5.000001' }).expect(200);
    expect(raised.body).toMatchObject({ version: before.version + 1, budget_usd: '5.000001' });
    const [updated] = (
      await db.query(
        `SELECT context FROM audit_entries WHERE task_id = $1 AND action = 'updated'`,
        [id],
      )
    ).rows;
    expect(updated.context).toEqual({ budget_usd: { from: '5.000000', to: '5.000001' } });
  });

  it('checks what a report and the budgets accept, and who may report', async () => {
    const id = await started();
    const valid = { model: 'm', input_tokens: 1, output_tokens: 1 };
    for (const body of [
      { ...valid, model: '' },
      { ...valid, model: 'x'.repeat(101) },
      { ...valid, input_tokens: -1 },
      { ...valid, output_tokens: 1.5 },
      { ...valid, input_tokens: '3' },
      { ...valid, cost_usd: '-1' },
      { ...valid, cost_usd: '1e-7' },
      { ...valid, cost_usd: 1e-7 },
      { ...valid, cost_usd: '0.1234567' },
      { ...valid, cost_usd: '123456789' },
      { ...valid, cost_usd: null },
      { input_tokens: 1, output_tokens: 1 },
    ]) {
      const res = await report(id, body).expect(422);
      expect(res.body.code).toBe('validation_failed');
    }
    expect((await report(id, valid, alice).expect(403)).body.code).toBe('not_assignee');
    for (const fields of [
      { budget_tokens: -1 },
      { budget_tokens: 1.5 },
      { budget_usd: 'abc' },
      { budget_usd: '-0.5' },
      { budget_usd: 1e21 },
    ]) {
      await alice.post('/api/tasks', { title: 'bad', ...fields }).expect(422);
      await alice.patch(`/api/tasks/${id}`, fields).expect(422);
    }
    const pending = await createTaskId(alice, { title: 'not started' });
    expect((await report(pending, valid).expect(409)).body.code).toBe('invalid_transition');
    const cleared = await alice
      .patch(`/api/tasks/${id}`, { budget_tokens: null, budget_usd: null })
      .expect(200);
    expect(cleared.body).toMatchObject({ budget_tokens: null, budget_usd: null });
  });
});
