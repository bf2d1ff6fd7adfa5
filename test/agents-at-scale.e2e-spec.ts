import { Client } from 'pg';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
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

describe('Agents at scale: claim-next, leases, idempotency, dependencies (e2e)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let alice: Actor;
  let bob: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    // The projects the tests below scope their claims to, with whoever works on their tasks.
    for (const slug of ['order', 'elsewhere', 'here', 'idem', 'ready']) {
      await createProject(admin, slug, { members: [[alice, 'member']] });
    }
    const agents = (prefix: string, n: number): [string, 'member'][] =>
      Array.from({ length: n }, (_, i) => [`${prefix}-${i}`, 'member']);
    await createProject(admin, 'swarm', { members: agents('swarm-agent', 20) });
    await createProject(admin, 'chains', { members: agents('chain-agent', 6) });
  });

  afterAll(() => stopApp(t, db));

  const create = (body: object, actor = admin): Promise<number> => createTaskId(actor, body);
  const trail = (id: number) => auditRows(db, id, 'action, actor_id, context');
  /** Nothing claimable may linger between tests: each test owns its project. */
  const reset = () =>
    db.query(`UPDATE tasks SET status = 'completed' WHERE status IN ('pending', 'in_progress')`);

  describe('claim-next', () => {
    beforeEach(reset);

    it('claims the best task: priority, then due date, then id; 204 when nothing is left', async () => {
      const low = await create({ title: 'low', priority: 'low', project_slug: 'order' });
      const laterDue = await create({
        title: 'high later',
        priority: 'high',
        due_date: '2027-03-01T00:00:00Z',
        project_slug: 'order',
      });
      const soonDue = await create({
        title: 'high soon',
        priority: 'high',
        due_date: '2027-01-01T00:00:00Z',
        project_slug: 'order',
      });
      const undated = await create({
        title: 'high undated',
        priority: 'high',
        project_slug: 'order',
      });
      const critical = await create({
        title: 'critical',
        priority: 'critical',
        project_slug: 'order',
      });
      const order: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await alice.post('/api/tasks/claim-next').expect(200);
        expect(res.body).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
        order.push(res.body.id as number);
      }
      expect(order).toEqual([critical, soonDue, laterDue, undated, low]);
      const none = await alice.post('/api/tasks/claim-next').expect(204);
      expect(none.text).toBe('');
      expect((await trail(critical)).map((e) => e.action)).toEqual(['created', 'started']);
    });

    it('never offers an assigned pending task', async () => {
      await create({ title: 'reserved', assigned_to: 'carol' });
      await alice.post('/api/tasks/claim-next').expect(204);
    });

    it('filters by project and min_priority, in the query or a JSON body', async () => {
      const other = await create({
        title: 'other project',
        priority: 'critical',
        project_slug: 'elsewhere',
      });
      const mediumHere = await create({
        title: 'medium here',
        priority: 'medium',
        project_slug: 'here',
      });
      const highHere = await create({ title: 'high here', priority: 'high', project_slug: 'here' });
      const lowHere = await create({ title: 'low here', priority: 'low', project_slug: 'here' });

      expect((await alice.post('/api/tasks/claim-next?project=here').expect(200)).body.id).toBe(
        highHere,
      );
      expect(
        (
          await alice
            .post('/api/tasks/claim-next', { project: 'here', min_priority: 'medium' })
            .expect(200)
        ).body.id,
      ).toBe(mediumHere);
      await alice.post('/api/tasks/claim-next?project=here&min_priority=medium').expect(204);
      expect((await alice.post('/api/tasks/claim-next?project=here').expect(200)).body.id).toBe(
        lowHere,
      );
      expect((await alice.post('/api/tasks/claim-next').expect(200)).body.id).toBe(other);
      await alice.post('/api/tasks/claim-next?min_priority=urgent').expect(422);
      await alice.post('/api/tasks/claim-next', { lease_seconds: 0 }).expect(422);
    });

    it('offers a task only to callers whose registered capabilities cover it; the request can only narrow them', async () => {
      const python = await create({ title: 'python job', required_capabilities: ['python'] });
      const both = await create({
        title: 'python+sql job',
        required_capabilities: ['python', 'sql'],
      });
      const pyAgent = await registerWorker(t, admin, {
        id: 'py-agent',
        name: 'Py',
        type: 'agent',
        capabilities: ['python'],
      });

      await alice.post('/api/tasks/claim-next').expect(204); // alice has no capabilities
      expect((await pyAgent.post('/api/tasks/claim-next').expect(200)).body.id).toBe(python);
      await pyAgent.post('/api/tasks/claim-next').expect(204);
      // Claiming capabilities one has not registered gets nothing.
      await alice.post('/api/tasks/claim-next?capabilities=sql,python').expect(204);
      await admin.patch('/api/workers/py-agent', { capabilities: ['python', 'sql'] }).expect(200);
      // Narrowed to python only, the python+sql job is out of reach.
      await pyAgent.post('/api/tasks/claim-next?capabilities=python').expect(204);
      expect((await pyAgent.post('/api/tasks/claim-next').expect(200)).body.id).toBe(both);
    });

    it('20 agents looping on claim-next over 1,000 tasks: each task claimed exactly once, no 409', async () => {
      await db.query(
        `INSERT INTO tasks (title, project_slug, priority, created_by)
         SELECT 'swarm ' || g, 'swarm', (ARRAY['low','medium','high','critical'])[1 + g % 4]::task_priority, 'root'
         FROM generate_series(1, 1000) g`,
      );
      const agents = await Promise.all(
        Array.from({ length: 20 }, (_, i) => t.actor(`swarm-agent-${i}`)),
      );
      const claims = new Map<number, string>();
      const statuses: number[] = [];
      await Promise.all(
        agents.map(async (agent) => {
          for (;;) {
            const res = await agent.post('/api/tasks/claim-next?project=swarm');
            statuses.push(res.status);
            if (res.status === 204) return;
            expect(res.status).toBe(200);
            expect(claims.has(res.body.id)).toBe(false);
            claims.set(res.body.id as number, agent.id);
          }
        }),
      );
      expect(claims.size).toBe(1000);
      expect(statuses.filter((s) => s !== 200 && s !== 204)).toEqual([]);
      const started = await db.query(
        `SELECT task_id, count(*)::int AS n, min(actor_id) AS actor FROM audit_entries
         WHERE action = 'started' AND project_slug = 'swarm' GROUP BY task_id`,
      );
      expect(started.rowCount).toBe(1000);
      expect(started.rows.every((r) => r.n === 1 && claims.get(r.task_id) === r.actor)).toBe(true);
      const perAgent = new Set(claims.values());
      expect(perAgent.size).toBe(20); // everyone got work: SKIP LOCKED, no queueing on one row
    });
  });

  describe('leases', () => {
    beforeEach(reset);

    it('start with lease_seconds shows lease_expires_at; a heartbeat extends it, for the holder or an admin', async () => {
      const id = await create({ title: 'leased' });
      const started = await alice.post(`/api/tasks/${id}/start?lease_seconds=60`).expect(200);
      const expires = new Date(started.body.lease_expires_at).getTime();
      expect(expires - Date.now()).toBeGreaterThan(50_000);
      expect(expires - Date.now()).toBeLessThan(70_000);

      const beat = await alice
        .post(`/api/tasks/${id}/heartbeat`, { lease_seconds: 600 })
        .expect(200);
      expect(new Date(beat.body.lease_expires_at).getTime()).toBeGreaterThan(expires + 500_000);
      const denied = await bob.post(`/api/tasks/${id}/heartbeat`).expect(403);
      expect(denied.body).toMatchObject({
        code: 'not_assignee',
        error: expect.stringContaining('only they or an admin may heartbeat it'),
      });
      await admin.post(`/api/tasks/${id}/heartbeat?lease_seconds=120`).expect(200);
      expect((await trail(id)).map((e) => e.action)).toEqual([
        'created',
        'started',
        'lease_extended',
        'lease_extended',
      ]);

      await alice.post(`/api/tasks/${id}/complete`).expect(200);
      const done = await alice.get(`/api/tasks/${id}`).expect(200);
      expect(done.body.lease_expires_at).toBeNull();
      await alice.post(`/api/tasks/${id}/heartbeat`).expect(409);
    });

    it('an expired lease lets another worker claim the task; the audit shows both holders', async () => {
      const id = await create({ title: 'abandoned' });
      await alice.post(`/api/tasks/${id}/start?lease_seconds=1`).expect(200);
      await bob.post(`/api/tasks/${id}/start`).expect(409); // the lease still runs
      await new Promise((r) => setTimeout(r, 1300));

      const reclaimed = await bob.post(`/api/tasks/${id}/start?lease_seconds=300`).expect(200);
      expect(reclaimed.body).toMatchObject({ status: 'in_progress', assigned_to: 'bob' });
      const entries = await trail(id);
      expect(entries.map((e) => [e.action, e.actor_id])).toEqual([
        ['created', 'root'],
        ['started', 'alice'],
        // The expired lease was an attempt (docs/lifecycle.md, "Failures and retries").
        ['failed', 'bob'],
        ['lease_expired', 'bob'],
        ['started', 'bob'],
      ]);
      expect(entries[2].context).toMatchObject({ reason: 'lease expired', attempt: 1 });
      expect(entries[3].context).toMatchObject({
        previous_holder: 'alice',
        lease_expired_at: expect.any(String),
      });
      // The previous holder has lost it.
      await alice.post(`/api/tasks/${id}/progress?percent=50`).expect(403);
    });

    it('claim-next takes expired leases too, before pending tasks', async () => {
      const pending = await create({ title: 'pending one', priority: 'critical' });
      const stale = await create({ title: 'stale one', priority: 'low' });
      await alice.post(`/api/tasks/${stale}/start?lease_seconds=300`).expect(200);
      await db.query(
        `UPDATE tasks SET lease_expires_at = now() - interval '1 minute' WHERE id = $1`,
        [stale],
      );
      expect((await bob.post('/api/tasks/claim-next').expect(200)).body.id).toBe(stale);
      expect((await trail(stale)).map((e) => e.action)).toEqual([
        'created',
        'started',
        'failed',
        'lease_expired',
        'started',
      ]);
      expect((await bob.post('/api/tasks/claim-next').expect(200)).body.id).toBe(pending);
    });

    it('a task without a lease behaves as before: never reclaimable', async () => {
      const id = await create({ title: 'no lease' });
      await alice.post(`/api/tasks/${id}/start`).expect(200);
      await bob.post(`/api/tasks/${id}/start`).expect(409);
      await bob.post('/api/tasks/claim-next').expect(204);
    });

    it('leaving in_progress ends the lease', async () => {
      const id = await create({ title: 'released' });
      await alice.post(`/api/tasks/${id}/start?lease_seconds=300`).expect(200);
      const released = await alice.post(`/api/tasks/${id}/release`).expect(200);
      expect(released.body.lease_expires_at).toBeNull();
    });
  });

  describe('idempotency', () => {
    it('20 concurrent retries with one key create one task, answer alike, and audit once', async () => {
      const body = { title: 'exactly once', project_slug: 'idem' };
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          alice.post('/api/tasks', body).set('Idempotency-Key', 'create-1'),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
      const ids = new Set(results.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
      const rows = await db.query(`SELECT id FROM tasks WHERE title = 'exactly once'`);
      expect(rows.rowCount).toBe(1);
      expect((await trail(rows.rows[0].id)).map((e) => e.action)).toEqual(['created']);
      expect(results[0].body).toEqual(results[19].body);
    });

    it('the same key with another request is a 422; keys are per caller', async () => {
      await alice.post('/api/tasks', { title: 'first' }).set('Idempotency-Key', 'k-2').expect(201);
      const res = await alice
        .post('/api/tasks', { title: 'second' })
        .set('Idempotency-Key', 'k-2')
        .expect(422);
      expect(res.body.details).toEqual([
        {
          field: 'Idempotency-Key',
          message: 'this Idempotency-Key was already used for a different request',
        },
      ]);
      await bob.post('/api/tasks', { title: 'second' }).set('Idempotency-Key', 'k-2').expect(201);
    });

    it('a retried claim returns the original 200 instead of a 409', async () => {
      const id = await create({ title: 'claim once' });
      const first = await alice
        .post(`/api/tasks/${id}/start`)
        .set('Idempotency-Key', 'start-1')
        .expect(200);
      const again = await alice
        .post(`/api/tasks/${id}/start`)
        .set('Idempotency-Key', 'start-1')
        .expect(200);
      expect(again.body).toEqual(first.body);
      expect((await trail(id)).filter((e) => e.action === 'started')).toHaveLength(1);
      await alice.post(`/api/tasks/${id}/start`).expect(409); // without the key it is a new request
    });

    it('a failed request stores nothing: its retry runs', async () => {
      await alice.post('/api/tasks', { title: '' }).set('Idempotency-Key', 'fix-me').expect(422);
      // Same key, same (still invalid) body: it runs again and fails again, no replay.
      await alice.post('/api/tasks', { title: '' }).set('Idempotency-Key', 'fix-me').expect(422);
    });

    it('keys are kept 24 hours, then a key starts afresh', async () => {
      const first = await alice
        .post('/api/tasks', { title: 'day one' })
        .set('Idempotency-Key', 'daily')
        .expect(201);
      await db.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'daily'`,
      );
      const second = await alice
        .post('/api/tasks', { title: 'day two' })
        .set('Idempotency-Key', 'daily')
        .expect(201);
      expect(second.body.id).not.toBe(first.body.id);
    });

    it('purges keys older than 24 hours', async () => {
      await alice
        .post('/api/tasks', { title: 'old key' })
        .set('Idempotency-Key', 'purge-me')
        .expect(201);
      await db.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'purge-me'`,
      );
      expect(await t.app.get(IdempotencyService).purge()).toBeGreaterThanOrEqual(1);
      expect(
        (await db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'purge-me'`)).rowCount,
      ).toBe(0);
    });

    it('refuses a malformed key', async () => {
      await alice
        .post('/api/tasks', { title: 'x' })
        .set('Idempotency-Key', 'x'.repeat(256))
        .expect(422);
    });
  });

  describe('dependencies', () => {
    beforeEach(reset);

    it('adds and removes dependencies, lists blocked_by, and audits the changes', async () => {
      const a = await create({ title: 'A' });
      const b = await create({ title: 'B' });
      const c = await create({ title: 'C' });
      const added = await alice.post(`/api/tasks/${a}/dependencies/${b}`).expect(200);
      expect(added.body).toMatchObject({ id: a, blocked_by: [b] });
      await alice.post(`/api/tasks/${a}/dependencies/${c}`).expect(200);
      await alice.post(`/api/tasks/${a}/dependencies/${c}`).expect(200); // already there: no change
      expect((await alice.get(`/api/tasks/${a}`).expect(200)).body.blocked_by).toEqual([b, c]);
      await alice.delete(`/api/tasks/${a}/dependencies/${b}`).expect(204);
      await alice.delete(`/api/tasks/${a}/dependencies/${b}`).expect(404);
      expect((await alice.get(`/api/tasks/${a}`).expect(200)).body.blocked_by).toEqual([c]);
      expect((await trail(a)).map((e) => [e.action, e.context])).toEqual([
        ['created', expect.anything()],
        ['dependency_added', { depends_on: b }],
        ['dependency_added', { depends_on: c }],
        ['dependency_removed', { depends_on: b }],
      ]);
    });

    it('refuses cycles (409), self-dependencies (422) and unknown tasks (404)', async () => {
      const a = await create({ title: 'A' });
      const b = await create({ title: 'B' });
      const c = await create({ title: 'C' });
      await alice.post(`/api/tasks/${a}/dependencies/${b}`).expect(200);
      await alice.post(`/api/tasks/${b}/dependencies/${c}`).expect(200);
      const cycle = await alice.post(`/api/tasks/${c}/dependencies/${a}`).expect(409);
      expect(cycle.body.error).toContain('cycle');
      await alice.post(`/api/tasks/${a}/dependencies/${a}`).expect(422);
      const missing = await alice.post(`/api/tasks/${a}/dependencies/999999`).expect(404);
      expect(missing.body.error).toBe('Task 999999 not found');
      await alice.post(`/api/tasks/999999/dependencies/${a}`).expect(404);
    });

    it('start is a 409 naming the unfinished dependency, and works once it is completed', async () => {
      const blocker = await create({ title: 'blocker' });
      const waiting = await create({ title: 'waiting' });
      await alice.post(`/api/tasks/${waiting}/dependencies/${blocker}`).expect(200);
      const refused = await bob.post(`/api/tasks/${waiting}/start`).expect(409);
      expect(refused.body.error).toBe(
        `Task ${waiting} is blocked by task ${blocker}, which is 'pending'; it can start once that one is completed`,
      );
      await bob.patch(`/api/tasks/${waiting}`, { status: 'in_progress' }).expect(409);
      await alice.post(`/api/tasks/${blocker}/start`).expect(200);
      await alice.post(`/api/tasks/${blocker}/complete`).expect(200);
      await bob.post(`/api/tasks/${waiting}/start`).expect(200);
    });

    it('ready=true lists only tasks whose dependencies are all completed', async () => {
      const blocker = await create({ title: 'blocker', project_slug: 'ready' });
      const waiting = await create({ title: 'waiting', project_slug: 'ready' });
      const free = await create({ title: 'free', project_slug: 'ready' });
      await alice.post(`/api/tasks/${waiting}/dependencies/${blocker}`).expect(200);
      const ids = async (query: string) =>
        (await alice.get(`/api/tasks?project=ready&${query}`).expect(200)).body.map(
          (x: { id: number }) => x.id,
        );
      expect(await ids('ready=true')).toEqual([blocker, free]);
      expect(await ids('ready=false')).toEqual([waiting]);
      await alice.get('/api/tasks?ready=maybe').expect(422);
    });

    it('a task others depend on cannot be deleted; deleting the dependent task drops its edges', async () => {
      const blocker = await create({ title: 'blocker' });
      const waiting = await create({ title: 'waiting' });
      await alice.post(`/api/tasks/${waiting}/dependencies/${blocker}`).expect(200);
      const res = await alice.delete(`/api/tasks/${blocker}`).expect(409);
      expect(res.body.error).toContain('depend on');
      await alice.delete(`/api/tasks/${waiting}`).expect(204);
      await alice.delete(`/api/tasks/${blocker}`).expect(204);
    });

    it('claim-next respects dependency order under concurrency', async () => {
      // Three chains of 5: each task waits for the previous one of its chain.
      const chains: number[][] = [];
      for (let c = 0; c < 3; c++) {
        const chain: number[] = [];
        for (let i = 0; i < 5; i++) {
          const id = await create({
            title: `chain ${c}.${i}`,
            project_slug: 'chains',
            priority: i % 2 ? 'high' : 'low',
          });
          if (i > 0) await admin.post(`/api/tasks/${id}/dependencies/${chain[i - 1]}`).expect(200);
          chain.push(id);
        }
        chains.push(chain);
      }
      const agents = await Promise.all(
        Array.from({ length: 6 }, (_, i) => t.actor(`chain-agent-${i}`)),
      );
      let idle = 0;
      await Promise.all(
        agents.map(async (agent) => {
          while (idle < 50) {
            const res = await agent.post('/api/tasks/claim-next?project=chains');
            if (res.status === 204) {
              idle += 1;
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            await agent.post(`/api/tasks/${res.body.id}/complete`).expect(200);
          }
        }),
      );
      const events = await db.query(
        `SELECT task_id, action, id FROM audit_entries WHERE project_slug = 'chains' AND action IN ('started', 'completed') ORDER BY id`,
      );
      const at = (task: number, action: string) =>
        Number(events.rows.find((e) => e.task_id === task && e.action === action)?.id);
      for (const chain of chains) {
        for (let i = 1; i < chain.length; i++) {
          expect(at(chain[i], 'started')).toBeGreaterThan(at(chain[i - 1], 'completed'));
        }
      }
      expect(events.rows.filter((e) => e.action === 'completed')).toHaveLength(15);
    });
  });
});
