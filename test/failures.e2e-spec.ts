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
import { DELIVERING_ENV, WebhookReceiver, eventually } from './support/webhook-receiver';

/**
 * Failed attempts (docs/lifecycle.md, "Failures and retries"): `fail` with backoff and
 * escalation to `failed`, `retry`, and the attempts nobody reports (an expired lease, a claim
 * that timed out), recorded by whoever notices them: the sweeper under its system identity, or
 * the claim that takes the task over.
 */

describe('Failures, backoff and retries (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let agent: Actor;
  let alice: Actor;
  let viewer: Actor;
  let receiver: WebhookReceiver;
  let seq = 0;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ({ t, db } = await startApp({
      env: {
        ...DELIVERING_ENV,
        // Tiny backoffs (up to 1 s, then 2 s) and a sweeper that looks often.
        RETRY_BASE_SECONDS: '1',
        RETRY_MAX_SECONDS: '2',
        SWEEP_INTERVAL_MS: '100',
      },
    }));
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-1', name: 'Agent', type: 'agent' });
    alice = await registerWorker(t, admin, { id: 'alice', name: 'Alice', type: 'human' });
    viewer = await t.actor('victor');
    await admin
      .post('/api/webhooks', { url: receiver.url, events: ['failed', 'retried'] })
      .expect(201);
  });

  afterAll(async () => {
    await stopApp(t, db);
    await receiver.stop();
  });

  /** A project of the test's own, where the agent and alice work and victor only reads. */
  const project = async (): Promise<string> => {
    const slug = `retries-${++seq}`;
    await createProject(admin, slug, {
      members: [
        [agent, 'member'],
        [alice, 'member'],
        [viewer, 'viewer'],
      ],
    });
    return slug;
  };

  const row = async (id: number) =>
    (
      await db.query(
        `SELECT status, assigned_to, attempts, last_error, not_before, clock_timestamp() AS now
           FROM tasks WHERE id = $1`,
        [id],
      )
    ).rows[0];

  /**
   * Claims the project's next task as the agent, asking until it comes. A 204 is right only when
   * the task was still backing off as the request went out (the database's clock, read before
   * it), and the claim that succeeds must be recorded at or after
   * `not_before`: claim-next never offers the task early, and offers it once it is due.
   */
  async function claimWhenDue(slug: string, id: number): Promise<void> {
    const { not_before: notBefore } = await row(id);
    expect(notBefore).toBeInstanceOf(Date);
    await eventually('the task to come back after its backoff', async () => {
      const { now: asked } = await row(id);
      const res = await agent.post('/api/tasks/claim-next', { project: slug });
      if (res.status === 204) {
        // Nothing offered: only while the task was still backing off when it was asked.
        expect(asked.getTime()).toBeLessThan(notBefore.getTime());
        return undefined;
      }
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
      return true;
    });
    const [started] = (
      await db.query(
        `SELECT "timestamp" FROM audit_entries WHERE task_id = $1 AND action = 'started'
          ORDER BY id DESC LIMIT 1`,
        [id],
      )
    ).rows;
    expect(started.timestamp.getTime()).toBeGreaterThanOrEqual(notBefore.getTime());
  }

  it('backs off after each retryable failure, fails at the limit, escalates, and retry brings it back', async () => {
    const slug = await project();
    const id = await createTaskId(alice, { title: 'flaky integration', project_slug: slug });
    expect((await agent.get(`/api/tasks/${id}`).expect(200)).body).toMatchObject({
      attempts: 0,
      max_attempts: 3,
      timeout_seconds: null,
      not_before: null,
      last_error: null,
    });
    await agent.post('/api/tasks/claim-next', { project: slug }).expect(200);

    // 1st and 2nd failures: back to pending, nobody holding it, not before the backoff.
    for (const attempt of [1, 2]) {
      const failed = await agent
        .post(`/api/tasks/${id}/fail`, { reason: `network flake #${attempt}` })
        .expect(200);
      expect(failed.body).toMatchObject({
        status: 'pending',
        assigned_to: null,
        attempts: attempt,
        last_error: `network flake #${attempt}`,
      });
      const [entry] = (
        await db.query(
          `SELECT actor_id, actor_type, context FROM audit_entries
            WHERE task_id = $1 AND action = 'failed' ORDER BY id DESC LIMIT 1`,
          [id],
        )
      ).rows;
      expect(entry).toEqual({
        actor_id: 'agent-1',
        actor_type: 'agent',
        context: {
          reason: `network flake #${attempt}`,
          retryable: true,
          attempt,
          next_attempt_at: failed.body.not_before,
        },
      });
      // Full jitter: up to base × 2^(attempt−1) seconds (1 s, then 2 s).
      const wait = Date.parse(failed.body.not_before) - Date.parse(failed.body.updated_at);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(attempt * 1000 + 5);
      await claimWhenDue(slug, id);
    }

    // 3rd failure: out of attempts.
    const last = await agent.post(`/api/tasks/${id}/fail`, { reason: 'still flaky' }).expect(200);
    expect(last.body).toMatchObject({
      status: 'failed',
      assigned_to: null,
      attempts: 3,
      not_before: null,
      last_error: 'still flaky',
    });
    await agent.post('/api/tasks/claim-next', { project: slug }).expect(204);
    const start = await agent.post(`/api/tasks/${id}/start`).expect(409);
    expect(start.body.code).toBe('invalid_transition');

    // The webhook got every failure, the last one saying there is no next attempt.
    const delivered = await eventually('three failed entries delivered', () => {
      const mine = receiver.delivered.filter((r) => r.entry.task_id === id);
      return mine.length >= 3 ? mine : undefined;
    });
    expect(delivered.map((r) => [r.entry.action, (r.entry.context as any).attempt])).toEqual([
      ['failed', 1],
      ['failed', 2],
      ['failed', 3],
    ]);
    expect(delivered[2].entry.context).toEqual({
      reason: 'still flaky',
      retryable: true,
      attempt: 3,
      next_attempt_at: null,
    });

    // It waits in the inbox of the project's writers, first after questions, not of its readers.
    const inbox = (await alice.get('/api/inbox').expect(200)).body as {
      task: { id: number };
      reason: string;
    }[];
    expect(inbox.find((item) => item.task.id === id)?.reason).toBe('failed');
    const readers = (await viewer.get('/api/inbox').expect(200)).body as { task: { id: number } }[];
    expect(readers.some((item) => item.task.id === id)).toBe(false);

    // A reader may not retry it; a member may, once.
    expect((await viewer.post(`/api/tasks/${id}/retry`).expect(403)).body.code).toBe(
      'not_project_member',
    );
    const retried = await alice.post(`/api/tasks/${id}/retry`).expect(200);
    expect(retried.body).toMatchObject({
      status: 'pending',
      assigned_to: null,
      attempts: 0,
      not_before: null,
    });
    expect((await alice.post(`/api/tasks/${id}/retry`).expect(409)).body.code).toBe(
      'invalid_transition',
    );
    expect(
      ((await alice.get('/api/inbox').expect(200)).body as { task: { id: number } }[]).some(
        (item) => item.task.id === id,
      ),
    ).toBe(false);
    const claimed = await agent.post('/api/tasks/claim-next', { project: slug }).expect(200);
    expect(claimed.body.id).toBe(id);
    expect((await auditRows(db, id, 'action, actor_id')).slice(-2)).toEqual([
      { action: 'retried', actor_id: 'alice' },
      { action: 'started', actor_id: 'agent-1' },
    ]);
    await eventually('the retried entry delivered', () =>
      receiver.delivered.some((r) => r.entry.task_id === id && r.entry.action === 'retried')
        ? true
        : undefined,
    );
  });

  it('fails for good at once when the failure is not retryable', async () => {
    const slug = await project();
    const id = await createTaskId(alice, { title: 'bad spec', project_slug: slug });
    await agent.post(`/api/tasks/${id}/start`).expect(200);
    const res = await agent
      .post(`/api/tasks/${id}/fail`, { reason: 'the spec contradicts itself', retryable: false })
      .expect(200);
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1, not_before: null });
    const [entry] = (
      await db.query(`SELECT context FROM audit_entries WHERE task_id = $1 AND action = 'failed'`, [
        id,
      ])
    ).rows;
    expect(entry.context).toEqual({
      reason: 'the spec contradicts itself',
      retryable: false,
      attempt: 1,
      next_attempt_at: null,
    });
  });

  it('refuses a start during the backoff with 409 retry_later and Retry-After', async () => {
    const slug = await project();
    const id = await createTaskId(alice, { title: 'backing off', project_slug: slug });
    // Arranged: an hour of backoff, as a failure with a large RETRY_BASE_SECONDS would leave.
    await db.query(
      `UPDATE tasks SET attempts = 1, not_before = now() + interval '1 hour' WHERE id = $1`,
      [id],
    );
    const res = await agent.post(`/api/tasks/${id}/start`).expect(409);
    expect(res.body.code).toBe('retry_later');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3590);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    await agent.post('/api/tasks/claim-next', { project: slug }).expect(204);
    expect((await row(id)).status).toBe('pending');
  });

  it('checks what fail and the new fields accept', async () => {
    const slug = await project();
    const id = await createTaskId(alice, { title: 'inputs', project_slug: slug });
    await agent.post(`/api/tasks/${id}/start`).expect(200);
    for (const body of [
      {},
      { reason: '' },
      { reason: '   ' },
      { reason: 'x'.repeat(2001) },
      { reason: 'ok', retryable: 'yes' },
      { reason: 'ok', retryable: null },
    ]) {
      const res = await agent.post(`/api/tasks/${id}/fail`, body).expect(422);
      expect(res.body.code).toBe('validation_failed');
    }
    expect(
      (await alice.post(`/api/tasks/${id}/fail`, { reason: 'not mine' }).expect(403)).body.code,
    ).toBe('not_assignee');
    await agent.post(`/api/tasks/${id}/fail`, { reason: 'x'.repeat(2000) }).expect(200);

    for (const fields of [
      { max_attempts: 0 },
      { max_attempts: 21 },
      { max_attempts: 2.5 },
      { timeout_seconds: 59 },
      { timeout_seconds: 604_801 },
    ]) {
      await alice.post('/api/tasks', { title: 'bad', ...fields }).expect(422);
      await alice.patch(`/api/tasks/${id}`, fields).expect(422);
    }
    const patched = await alice
      .patch(`/api/tasks/${id}`, { max_attempts: 5, timeout_seconds: 600 })
      .expect(200);
    expect(patched.body).toMatchObject({ max_attempts: 5, timeout_seconds: 600 });
    const [updated] = (
      await db.query(
        `SELECT context FROM audit_entries WHERE task_id = $1 AND action = 'updated'`,
        [id],
      )
    ).rows;
    expect(updated.context).toEqual({
      max_attempts: { from: 3, to: 5 },
      timeout_seconds: { from: null, to: 600 },
    });
    const cleared = await alice.patch(`/api/tasks/${id}`, { timeout_seconds: null }).expect(200);
    expect(cleared.body.timeout_seconds).toBeNull();
  });

  /** Waits for the sweeper to have counted one attempt on task `id`; its `failed` entry. */
  const sweptFailure = (id: number) =>
    eventually('the sweeper to count the attempt', async () => {
      const [entry] = (
        await db.query(
          `SELECT actor_id, actor_type, context FROM audit_entries
            WHERE task_id = $1 AND action = 'failed'`,
          [id],
        )
      ).rows;
      return entry;
    });

  it('counts an expired lease as one attempt, recorded by the system sweeper', async () => {
    const slug = await project();
    const id = await createTaskId(alice, { title: 'abandoned', project_slug: slug });
    await agent.post(`/api/tasks/${id}/start`, { lease_seconds: 1 }).expect(200);
    const entry = await sweptFailure(id);
    expect(entry).toEqual({
      actor_id: 'system:sweeper',
      actor_type: 'system',
      context: {
        reason: 'lease expired',
        retryable: true,
        attempt: 1,
        next_attempt_at: expect.any(String),
        previous_holder: 'agent-1',
      },
    });
    expect(await row(id)).toMatchObject({
      status: 'pending',
      assigned_to: null,
      attempts: 1,
      last_error: 'lease expired',
    });
    expect((await auditRows(db, id, 'action')).map((r) => r.action)).toEqual([
      'created',
      'started',
      'failed',
    ]);
    // The audit log tells the sweeper apart from people and agents.
    const bySystem = await admin.get(`/api/audit?actor_type=system&task_id=${id}`).expect(200);
    expect(bySystem.body.map((e: any) => e.actor_id)).toEqual(['system:sweeper']);
  });

  it('counts a claim that ran past timeout_seconds as one attempt, heartbeats or not', async () => {
    const slug = await project();
    const id = await createTaskId(alice, {
      title: 'hung agent',
      project_slug: slug,
      timeout_seconds: 60,
      max_attempts: 1,
    });
    const started = await agent.post(`/api/tasks/${id}/start`, { lease_seconds: 3600 }).expect(200);
    const timeoutAt = Date.parse(started.body.timeout_at);
    expect(timeoutAt - Date.parse(started.body.updated_at)).toBeGreaterThanOrEqual(59_000);
    expect(timeoutAt - Date.parse(started.body.updated_at)).toBeLessThanOrEqual(61_000);
    await agent.post(`/api/tasks/${id}/heartbeat`, { lease_seconds: 3600 }).expect(200);
    // Arranged: the minute has passed (the lease, renewed by heartbeats, has not).
    await db.query(`UPDATE tasks SET timeout_at = now() - interval '1 second' WHERE id = $1`, [id]);
    const entry = await sweptFailure(id);
    expect(entry).toEqual({
      actor_id: 'system:sweeper',
      actor_type: 'system',
      context: {
        reason: 'timed out',
        retryable: true,
        attempt: 1,
        next_attempt_at: null,
        previous_holder: 'agent-1',
      },
    });
    // Its only attempt: failed, waiting for a person.
    expect(await row(id)).toMatchObject({
      status: 'failed',
      assigned_to: null,
      attempts: 1,
      last_error: 'timed out',
      not_before: null,
    });
    const task = (await alice.get(`/api/tasks/${id}`).expect(200)).body;
    expect(task).toMatchObject({ lease_expires_at: null, timeout_at: null });
  });
});

describe('An expired lease noticed by the next claim (sweeper off)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let bob: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    bob = await registerWorker(t, admin, { id: 'bob', name: 'Bob', type: 'agent' });
    await registerWorker(t, admin, { id: 'gone', name: 'Gone', type: 'agent' });
  });
  afterAll(() => stopApp(t, db));

  /** A task `gone` held until its lease ran out, having failed `attempts` times before. */
  const expired = async (attempts: number): Promise<number> => {
    const res = await db.query(
      `INSERT INTO tasks (title, status, assigned_to, created_by, lease_expires_at, attempts)
       VALUES ('abandoned', 'in_progress', 'gone', 'root', now() - interval '1 minute', $1)
       RETURNING id`,
      [attempts],
    );
    return res.rows[0].id as number;
  };

  it('records the attempt, by the claimant, before taking the task over', async () => {
    const id = await expired(0);
    const res = await bob.post(`/api/tasks/${id}/start`).expect(200);
    expect(res.body).toMatchObject({ status: 'in_progress', assigned_to: 'bob', attempts: 1 });
    expect(await auditRows(db, id, 'action, actor_id, actor_type, context')).toEqual([
      {
        action: 'failed',
        actor_id: 'bob',
        actor_type: 'agent',
        context: {
          reason: 'lease expired',
          retryable: true,
          attempt: 1,
          next_attempt_at: null,
          previous_holder: 'gone',
        },
      },
      {
        action: 'lease_expired',
        actor_id: 'bob',
        actor_type: 'agent',
        context: { previous_holder: 'gone', lease_expired_at: expect.any(String) },
      },
      { action: 'started', actor_id: 'bob', actor_type: 'agent', context: null },
    ]);
  });

  it('fails the task instead of a takeover when it was the last attempt', async () => {
    const id = await expired(2);
    const res = await bob.post(`/api/tasks/${id}/start`).expect(409);
    expect(res.body.code).toBe('task_failed');
    const after = (await bob.get(`/api/tasks/${id}`).expect(200)).body;
    expect(after).toMatchObject({ status: 'failed', assigned_to: null, attempts: 3 });
    expect((await auditRows(db, id, 'action, actor_id')).map((r) => r.action)).toEqual(['failed']);
    // claim-next records the same and looks further.
    const other = await expired(2);
    const next = await createTaskId(admin, { title: 'fresh' });
    const claimed = await bob.post('/api/tasks/claim-next').expect(200);
    expect(claimed.body.id).toBe(next);
    expect((await auditRows(db, other, 'action, actor_id')).map((r) => r.action)).toEqual([
      'failed',
    ]);
    expect((await bob.get(`/api/tasks/${other}`)).body.status).toBe('failed');
  });
});
