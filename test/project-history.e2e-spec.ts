import { Client } from 'pg';
import {
  auditOf,
  createProject,
  createTaskId,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { sql } from './support/database';
import { EventWatcher } from './support/events';
import { Actor, TestApp } from './support/test-app';

/** What these specs look at in an audit entry. */
interface Entry {
  project_slug: string | null;
  action: string;
  context: Record<string, unknown> | null;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string;
}

/**
 * What happens to a project's history when the project goes, when its slug is wanted again, and
 * when a task changes project: history stays with those who could read it, and no entry tells a
 * reader about entries it may not read.
 */
describe('Project history: deleted projects, moved tasks, chains (real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let url: string;
  let admin: Actor, alice: Actor, bob: Actor, carol: Actor, mallory: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp({
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '0' },
    }));
    url = await t.listen();
    admin = await signInAdmin(t);
    [alice, bob, carol, mallory] = await Promise.all(
      ['alice', 'bob', 'carol', 'mallory'].map((id) => t.actor(id)),
    );
  });

  afterAll(() => stopApp(t, db));

  const auditList = async (actor: Actor, query: string): Promise<Entry[]> =>
    (await actor.get(`/api/audit?limit=100&${query}`).expect(200)).body as Entry[];

  describe('a deleted private project', () => {
    let taskId: number;
    let watcher: EventWatcher;

    beforeAll(async () => {
      await alice
        .post('/api/projects', {
          slug: 'ledger',
          name: 'Ledger',
          description: 'CONFIDENTIAL acquisition plan',
          visibility: 'private',
        })
        .expect(201);
      await alice
        .post('/api/projects/ledger/members', { worker_id: 'carol', role: 'viewer' })
        .expect(201);
      taskId = await createTaskId(alice, {
        title: 'Buy the competitor',
        description: 'CONFIDENTIAL price',
        project_slug: 'ledger',
      });
      await alice.delete(`/api/tasks/${taskId}`).expect(204);
      watcher = new EventWatcher(url, carol.token, { project: 'ledger' });
      await watcher.opened();
      await alice.delete('/api/projects/ledger').expect(204);
    });

    afterAll(() => watcher.stop());

    it("finding 1: a re-created slug does not inherit the deleted project's history", async () => {
      const again = await bob.post('/api/projects', { slug: 'ledger', name: 'Mine now' });
      expect([again.status, again.body.code]).toEqual([409, 'project_slug_retired']);
      expect(await auditList(bob, 'project=ledger')).toEqual([]);
      expect(JSON.stringify(await auditList(bob, 'action=project_deleted'))).not.toContain(
        'CONFIDENTIAL',
      );
      await bob.get(`/api/tasks/${taskId}/audit`).expect(404);
      await bob.get('/api/projects/ledger').expect(404);
    });

    it('finding 2: its members and admins keep its history; nobody else reads it', async () => {
      const history = ['project_created', 'member_added', 'created', 'deleted', 'project_deleted'];
      for (const reader of [alice, carol, admin]) {
        const entries = await auditList(reader, 'project=ledger');
        expect([reader.id, entries.map((e) => e.action)]).toEqual([reader.id, history]);
        const trail = await auditOf(reader, taskId);
        expect(trail.map((e: Entry) => e.action)).toEqual(['created', 'deleted']);
      }
      expect(await auditList(mallory, 'project=ledger')).toEqual([]);
      await mallory.get(`/api/tasks/${taskId}/audit`).expect(404);
    });

    it('finding 2: its members receive its project_deleted event', async () => {
      await watcher.until(
        (w) => w.entries.some((e) => e.action === 'project_deleted'),
        'project_deleted',
      );
    });

    it('is gone as a project: not listed, not found, takes no task', async () => {
      for (const reader of [alice, admin]) {
        await reader.get('/api/projects/ledger').expect(404);
        const list = await reader.get('/api/projects?limit=100').expect(200);
        expect(list.body.map((p: { slug: string }) => p.slug)).not.toContain('ledger');
        const task = await reader
          .post('/api/tasks', { title: 'too late', project_slug: 'ledger' })
          .expect(422);
        expect(task.body.details).toEqual([expect.objectContaining({ field: 'project_slug' })]);
        await reader
          .post('/api/projects/ledger/members', { worker_id: 'bob', role: 'viewer' })
          .expect(404);
        await reader.delete('/api/projects/ledger').expect(404);
      }
    });
  });

  describe('finding 3: a project deleted under a concurrent create', () => {
    /** Resolves once some session waits for a lock: the request under test is parked. */
    const someoneWaits = async () => {
      for (let i = 0; i < 200; i++) {
        const { rows } = await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        if (rows.length > 0) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('no request ever waited for the lock');
    };

    it('finding 3: answers the documented codes, never a constraint name or not_project_member', async () => {
      await createProject(alice, 'contested', { members: [[bob, 'member']] });
      // The new task's parent, on the shared board: holding its row parks the create after
      // its project was looked up, and before the task is written.
      const parent = await createTaskId(alice, { title: 'parent on the shared board' });
      const holder = await sql(t.databaseUrl);
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [parent]);
        const create = alice
          .post('/api/tasks', { title: 'racing', project_slug: 'contested', parent_id: parent })
          .then((r) => r);
        await someoneWaits();
        const remove = alice.delete('/api/projects/contested').then((r) => r);
        await new Promise((r) => setTimeout(r, 300));
        await holder.query('COMMIT');
        const [created, removed] = await Promise.all([create, remove]);
        const outcome = [created.status, created.body.code, removed.status, removed.body.code];
        expect([
          [201, undefined, 409, 'project_has_tasks'],
          [422, 'validation_failed', 204, undefined],
        ]).toContainEqual(outcome);
      } finally {
        await holder.end();
      }
    });
  });

  describe('finding 7: a task moved into a private project', () => {
    beforeAll(async () => {
      await createProject(alice, 'plaza');
      await createProject(alice, 'vault', { visibility: 'private' });
    });

    it('is hidden on the audit routes from non-members, its old entries included', async () => {
      const id = await createTaskId(alice, { title: 'Moving secret', project_slug: 'plaza' });
      await mallory.get(`/api/tasks/${id}/audit`).expect(200);
      await alice.patch(`/api/tasks/${id}`, { project_slug: 'vault' }).expect(200);
      await mallory.get(`/api/tasks/${id}/audit`).expect(404);
      expect(await auditList(mallory, `task_id=${id}`)).toEqual([]);
      expect(await auditList(mallory, 'project=plaza&action=created')).toEqual([]);
      expect((await auditOf(alice, id)).map((e: Entry) => e.action)).toEqual([
        'created',
        'updated',
      ]);
      // Deleted there, it stays where it was last.
      await alice.delete(`/api/tasks/${id}`).expect(204);
      await mallory.get(`/api/tasks/${id}/audit`).expect(404);
      expect((await auditOf(alice, id)).map((e: Entry) => e.action)).toEqual([
        'created',
        'updated',
        'deleted',
      ]);
    });

    it('and moved out again, is everyone’s to read, its private time included', async () => {
      const id = await createTaskId(alice, { title: 'Released', project_slug: 'vault' });
      await alice.patch(`/api/tasks/${id}`, { project_slug: 'plaza' }).expect(200);
      expect((await auditOf(mallory, id)).map((e: Entry) => e.action)).toEqual([
        'created',
        'updated',
      ]);
    });
  });

  it('finding 9: chain positions shown to a reader reveal nothing about entries it cannot read', async () => {
    const dave = await t.actor('dave');
    await createProject(dave, 'dave-hidden-1', { visibility: 'private' });
    await createProject(dave, 'dave-hidden-2', { visibility: 'private' });
    const stream = new EventWatcher(url, mallory.token, { project: 'dave-open' });
    await stream.opened();
    await createProject(dave, 'dave-open');
    await stream.until((w) => w.entries.length > 0, 'project_created');
    await stream.stop();
    expect(stream.entries[0]).toMatchObject({ chain_seq: null, prev_hash: null });
    const [seen] = await auditList(mallory, 'project=dave-open');
    expect(seen).toMatchObject({ action: 'project_created', chain_seq: null, prev_hash: null });
    expect(seen.hash).toMatch(/^[0-9a-f]{64}$/);
    const [whole] = await auditList(admin, 'project=dave-open');
    expect(whole.chain_seq).toBe(3);
    expect(whole.prev_hash).toMatch(/^[0-9a-f]{64}$/);
    // A task's chain is read whole or not at all, so its positions stay.
    const id = await createTaskId(dave, { title: 'open task', project_slug: 'dave-open' });
    expect((await auditOf(mallory, id)).map((e: Entry) => e.chain_seq)).toEqual([1]);
    const verify = await admin.get('/api/audit/verify').expect(200);
    expect(verify.body.ok).toBe(true);
  });

  describe('finding 10: webhook entries', () => {
    beforeAll(async () => {
      await createProject(alice, 'covert', { visibility: 'private' });
      await createProject(alice, 'covert-2', { visibility: 'private' });
    });

    it('name a private project only to those who read it', async () => {
      const hook = await admin
        .post('/api/webhooks', { url: 'http://127.0.0.1:9/hook', project: 'covert' })
        .expect(201);
      await admin.patch(`/api/webhooks/${hook.body.id}`, { project: 'covert-2' }).expect(200);
      await admin.patch(`/api/webhooks/${hook.body.id}`, { project: null }).expect(200);
      await admin.delete(`/api/webhooks/${hook.body.id}`).expect(204);
      const others = await auditList(mallory, `actor_id=root&since=${hook.body.created_at}`);
      expect(JSON.stringify(others)).not.toContain('covert');
      const mine = await auditList(alice, `actor_id=root&since=${hook.body.created_at}`);
      expect(mine.map((e) => [e.action, e.project_slug])).toEqual([
        ['webhook_created', 'covert'],
        ['webhook_updated', 'covert'],
        ['webhook_updated', 'covert-2'],
        ['webhook_updated', 'covert-2'],
        ['webhook_deleted', null],
      ]);
      // Admins read the whole change, in its two halves.
      const all = await auditList(admin, `actor_id=root&since=${hook.body.created_at}`);
      expect(all.map((e) => e.context?.project)).toEqual([
        'covert',
        { from: 'covert', to: null },
        { from: null, to: 'covert-2' },
        { from: 'covert-2', to: null },
        null,
      ]);
    });
  });
});
