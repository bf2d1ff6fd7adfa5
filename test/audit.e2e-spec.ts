import { Client } from 'pg';
import {
  auditOf,
  auditWrittenBy,
  createTask,
  createTaskId,
  createProject,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { Actor, TestApp } from './support/test-app';

interface Entry {
  id: number;
  task_id: number | null;
  project_slug: string | null;
  actor_id: string;
  actor_type: 'human' | 'agent';
  action: string;
  context: Record<string, unknown> | null;
  timestamp: string;
  client: string | null;
}

describe('Audit (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let alice: Actor;
  let agent: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    alice = await t.actor('alice');
    agent = await registerWorker(t, admin, { id: 'agent-7', name: 'Bot 7', type: 'agent' });
    // The projects the tasks below are in; the agent changes their tasks, so it is a member.
    for (const slug of ['audit', 'filters', 'burst']) {
      await createProject(alice, slug, { members: [[agent, 'member']] });
    }
    await createProject(alice, 'filters-other');
  });

  afterAll(() => stopApp(t, db));

  const count = async () =>
    Number((await db.query('SELECT count(*) FROM audit_entries')).rows[0].count);
  /** Runs `fn` and returns the entries it wrote. */
  const written = (fn: () => Promise<unknown>): Promise<Entry[]> => auditWrittenBy(db, fn);

  describe('every action writes exactly one entry with actor, type and context', () => {
    it('created: the new task as context', async () => {
      let id = 0;
      const entries = await written(async () => {
        id = await createTaskId(alice, { title: 'Audit me', project_slug: 'audit' });
      });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        task_id: id,
        project_slug: 'audit',
        actor_id: 'alice',
        actor_type: 'human',
        action: 'created',
        context: expect.objectContaining({
          title: 'Audit me',
          status: 'pending',
          project_slug: 'audit',
        }),
      });
    });

    it('updated: {field: {from, to}} for exactly the fields that changed', async () => {
      const task = await createTask(alice, {
        title: 'Old',
        priority: 'low',
        project_slug: 'audit',
      });
      const entries = await written(() =>
        agent
          .patch(`/api/tasks/${task.id}`, {
            title: 'New',
            priority: 'low',
            due_date: '2027-01-01T01:00:00+01:00',
          })
          .expect(200),
      );
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        task_id: task.id,
        actor_id: 'agent-7',
        actor_type: 'agent',
        action: 'updated',
        context: {
          title: { from: 'Old', to: 'New' },
          due_date: { from: null, to: '2027-01-01T00:00:00.000Z' },
        },
      });
    });

    it('a PATCH that changes nothing writes nothing', async () => {
      const task = await createTask(alice, { title: 'Same', priority: 'high' });
      const entries = await written(async () => {
        await alice.patch(`/api/tasks/${task.id}`, { title: 'Same', priority: 'high' }).expect(200);
        await alice.patch(`/api/tasks/${task.id}`, {}).expect(200);
      });
      expect(entries).toEqual([]);
    });

    it('deleted: the task as it was, kept after the task is gone', async () => {
      const task = await createTask(alice, { title: 'Doomed', project_slug: 'audit' });
      const entries = await written(() => admin.delete(`/api/tasks/${task.id}`).expect(204));
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        task_id: task.id,
        project_slug: 'audit',
        actor_id: 'root',
        actor_type: 'human',
        action: 'deleted',
        context: expect.objectContaining({ title: 'Doomed' }),
      });
      const trail = await auditOf(alice, task.id);
      expect(trail.map((e: Entry) => e.action)).toEqual(['created', 'deleted']);
    });

    it('worker_registered, worker_updated, worker_deleted', async () => {
      const reg = await written(() =>
        admin
          .post('/api/workers', { id: 'w-audit', name: 'W', type: 'agent', capabilities: ['x'] })
          .expect(201),
      );
      expect(reg).toHaveLength(1);
      expect(reg[0]).toMatchObject({
        task_id: null,
        actor_id: 'root',
        action: 'worker_registered',
        context: { worker_id: 'w-audit', name: 'W', type: 'agent', capabilities: ['x'] },
      });
      const upd = await written(() =>
        admin.patch('/api/workers/w-audit', { name: 'W2', type: 'agent' }).expect(200),
      );
      expect(upd).toHaveLength(1);
      expect(upd[0]).toMatchObject({
        action: 'worker_updated',
        context: { worker_id: 'w-audit', name: { from: 'W', to: 'W2' } },
      });
      const del = await written(() => admin.delete('/api/workers/w-audit').expect(204));
      expect(del).toHaveLength(1);
      expect(del[0]).toMatchObject({
        action: 'worker_deleted',
        context: { worker_id: 'w-audit', name: 'W2', type: 'agent' },
      });
    });

    it('self-registration is recorded with the registering user as actor', async () => {
      const carol = await t.actor('carol');
      const entries = await written(() =>
        carol.post('/api/workers', { name: 'Carol' }).expect(201),
      );
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor_id: 'carol',
        actor_type: 'human',
        action: 'worker_registered',
      });
    });
  });

  describe('failed requests leave no entry', () => {
    it.each([
      ['422 validation', () => alice.post('/api/tasks', { title: '' }), 422],
      ['422 bad parent', () => alice.post('/api/tasks', { title: 'x', parent_id: 999999 }), 422],
      ['404 missing task', () => alice.patch('/api/tasks/999999', { title: 'x' }), 404],
      ['404 missing delete', () => alice.delete('/api/tasks/999999'), 404],
      ['403 not admin', () => alice.delete('/api/workers/agent-7'), 403],
      [
        '409 duplicate worker',
        () => admin.post('/api/workers', { id: 'agent-7', name: 'again' }),
        409,
      ],
    ])('%s', async (_name, call, status) => {
      const entries = await written(async () => {
        await call().expect(status);
      });
      expect(entries).toEqual([]);
    });

    it('409 refused transition: neither the change nor an entry', async () => {
      const task = await createTask(alice, { title: 'Flow', status: 'blocked' });
      const entries = await written(() =>
        alice.patch(`/api/tasks/${task.id}`, { status: 'review', title: 'Renamed' }).expect(409),
      );
      expect(entries).toEqual([]);
      expect((await alice.get(`/api/tasks/${task.id}`).expect(200)).body.title).toBe('Flow');
    });

    it('409 task with subtasks: no entry', async () => {
      const parent = await createTask(alice, { title: 'P' });
      await createTask(alice, { title: 'C', parent_id: parent.id });
      expect(await written(() => alice.delete(`/api/tasks/${parent.id}`).expect(409))).toEqual([]);
    });
  });

  describe('fault injection: the audit insert itself fails', () => {
    beforeAll(async () => {
      await db.query(`
        CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.context::text LIKE '%FAULT%' THEN RAISE EXCEPTION 'injected audit failure in audit_entries'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER fail_audit BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION fail_audit();`);
    });

    afterAll(async () => {
      await db.query('DROP TRIGGER fail_audit ON audit_entries; DROP FUNCTION fail_audit();');
    });

    it('a create whose entry cannot be written leaves no task, and answers a bare 500', async () => {
      const before = Number((await db.query('SELECT count(*) FROM tasks')).rows[0].count);
      const res = await alice.post('/api/tasks', { title: 'FAULT here' }).expect(500);
      expect(res.body).toEqual({
        error: 'Internal server error',
        status_code: 500,
        code: 'internal_error',
      });
      expect(JSON.stringify(res.body)).not.toMatch(/injected|audit_entries|trigger/);
      const after = Number((await db.query('SELECT count(*) FROM tasks')).rows[0].count);
      expect(after).toBe(before);
      expect((await db.query(`SELECT 1 FROM tasks WHERE title = 'FAULT here'`)).rowCount).toBe(0);
    });

    it('an update whose entry cannot be written leaves the task unchanged', async () => {
      const task = await createTask(alice, { title: 'Stable' });
      await alice.patch(`/api/tasks/${task.id}`, { title: 'FAULT rename' }).expect(500);
      expect((await alice.get(`/api/tasks/${task.id}`).expect(200)).body.title).toBe('Stable');
    });
  });

  describe('append-only in the database', () => {
    it.each([
      ['UPDATE', `UPDATE audit_entries SET actor_id = 'mallory'`],
      ['DELETE', 'DELETE FROM audit_entries'],
      ['TRUNCATE', 'TRUNCATE audit_entries'],
    ])('refuses %s', async (_op, statement) => {
      const before = await count();
      await expect(db.query(statement)).rejects.toThrow(/append-only/);
      expect(await count()).toBe(before);
    });
  });

  describe('GET /api/audit filters', () => {
    let taskA: number;
    let since: string;

    beforeAll(async () => {
      since = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      taskA = await createTaskId(agent, { title: 'Filter A', project_slug: 'filters' });
      await alice.patch(`/api/tasks/${taskA}`, { title: 'Filter A2' }).expect(200);
      await createTask(alice, { title: 'Filter B', project_slug: 'filters-other' });
    });

    const get = async (query: string) => {
      const res = await alice.get(`/api/audit${query}`).expect(200);
      return { body: res.body as Entry[], total: Number(res.headers['x-total-count']) };
    };

    it('by task_id, oldest first', async () => {
      const { body, total } = await get(`?task_id=${taskA}`);
      expect(body.map((e) => e.action)).toEqual(['created', 'updated']);
      expect(total).toBe(2);
      expect(body[0].id).toBeLessThan(body[1].id);
    });

    it('by actor_id and actor_type', async () => {
      const byAgent = await get('?actor_id=agent-7');
      expect(byAgent.body.every((e) => e.actor_id === 'agent-7')).toBe(true);
      expect(byAgent.body.length).toBeGreaterThan(0);
      const agents = await get('?actor_type=agent');
      expect(agents.body.every((e) => e.actor_type === 'agent')).toBe(true);
      expect(agents.body.map((e) => e.actor_id)).toContain('agent-7');
      const humans = await get('?actor_type=human&limit=100');
      expect(humans.body.every((e) => e.actor_type === 'human')).toBe(true);
    });

    it('by action and project', async () => {
      const updated = await get('?action=updated&project=filters');
      expect(updated.body).toHaveLength(1);
      expect(updated.body[0]).toMatchObject({ task_id: taskA, action: 'updated' });
      const other = await get('?project=filters-other');
      expect(other.body.map((e) => e.action)).toEqual(['project_created', 'created']);
    });

    it('by since and until', async () => {
      const recent = await get(`?since=${encodeURIComponent(since)}&limit=100`);
      expect(recent.body.map((e) => e.task_id)).toEqual(expect.arrayContaining([taskA]));
      expect(recent.body.every((e) => e.timestamp >= since)).toBe(true);
      const before = await get(`?until=${encodeURIComponent(since)}&limit=100`);
      expect(before.body.some((e) => e.task_id === taskA)).toBe(false);
    });

    it('pages with limit and offset', async () => {
      const all = await get('?limit=100');
      const page = await get('?limit=2&offset=1');
      expect(page.body.map((e) => e.id)).toEqual(all.body.slice(1, 3).map((e) => e.id));
      expect(page.total).toBe(all.total);
    });

    it.each([
      'task_id=abc',
      'actor_type=robot',
      'action=exploded',
      'since=yesterday',
      'limit=500',
      'what=1',
    ])('rejects ?%s with 422', async (query) => {
      await alice.get(`/api/audit?${query}`).expect(422);
    });

    it('/api/tasks/:id/audit: 404 for a task that never existed, 422 for a bad id', async () => {
      await alice.get('/api/tasks/999999/audit').expect(404);
      await alice.get('/api/tasks/abc/audit').expect(422);
    });
  });

  describe('a burst of 200 concurrent mutations', () => {
    it('writes exactly one entry per successful mutation', async () => {
      const shared: number[] = [];
      for (let i = 0; i < 10; i++) {
        shared.push(await createTaskId(alice, { title: `burst ${i}`, project_slug: 'burst' }));
      }
      const before = await count();
      const calls = Array.from({ length: 200 }, (_, i) => {
        const who = i % 3 === 0 ? agent : alice;
        const id = shared[i % shared.length];
        switch (i % 5) {
          case 0:
            return who.post('/api/tasks', { title: `new ${i}`, project_slug: 'burst' });
          case 1:
            return who.patch(`/api/tasks/${id}`, { title: `renamed ${i}` });
          case 2:
            return who
              .post('/api/workers', { id: `burst-worker-${i}`, name: `W${i}` })
              .set('Authorization', `Bearer ${admin.token}`);
          case 3:
            return who.delete(`/api/tasks/${id}`);
          default:
            return who.patch(`/api/tasks/${id}`, { description: `described ${i}` });
        }
      });
      const results = await Promise.all(calls.map((c) => c.then((r) => r.status)));
      // Every call that succeeds changes something (unique titles and descriptions), so each
      // success must have exactly one entry; 404s (already deleted) must have none.
      const successes = results.filter((s) => s < 300).length;
      expect(results.every((s) => [200, 201, 204, 404].includes(s))).toBe(true);
      expect(successes).toBeGreaterThan(100);
      expect((await count()) - before).toBe(successes);
    });
  });
});
