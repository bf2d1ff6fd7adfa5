import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { databaseBefore, sql } from './support/database';
import { TestApp } from './support/test-app';

/**
 * The ProjectsTagsAndTimes migration on a board shaped like the one before it: free-text
 * project slugs (one that today's slug rule would refuse), tasks started, completed and reopened,
 * and their hash-chained history. Afterwards every slug is a project, the times come from the
 * history, and the chains still verify.
 */
describe('Migrating a board without projects (real PostgreSQL)', () => {
  let url: string;
  let owner: Client;

  beforeAll(async () => {
    let ds: DataSource;
    ({ url, ds } = await databaseBefore('ProjectsTagsAndTimes1764270000000'));
    owner = await sql(url);
    await owner.query(`
      INSERT INTO tasks (id, title, status, project_slug, created_by, created_at) VALUES
        (1, 'first of website', 'completed', 'website', 'carol', '2026-01-02T00:00:00Z'),
        (2, 'later in website', 'in_progress', 'website', 'dave', '2026-01-05T00:00:00Z'),
        (3, 'legacy spelling', 'pending', 'Legacy Project', 'erin', '2026-01-03T00:00:00Z'),
        (4, 'shared board', 'pending', NULL, 'dave', '2026-01-01T00:00:00Z'),
        (5, 'reopened', 'in_progress', 'website', 'carol', '2026-01-06T00:00:00Z')`);
    await owner.query(`SELECT setval(pg_get_serial_sequence('tasks', 'id'), 5)`);
    await owner.query(`
      INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, "timestamp") VALUES
        (1, 'website', 'carol', 'human', 'created',   '2026-01-02T00:00:00Z'),
        (1, 'website', 'dave',  'human', 'started',   '2026-01-02T10:00:00Z'),
        (1, 'website', 'dave',  'human', 'released',  '2026-01-02T11:00:00Z'),
        (1, 'website', 'dave',  'human', 'started',   '2026-01-02T12:00:00Z'),
        (1, 'website', 'dave',  'human', 'completed', '2026-01-03T09:30:00Z'),
        (2, 'website', 'dave',  'human', 'started',   '2026-01-05T08:00:00Z'),
        (5, 'website', 'carol', 'human', 'started',   '2026-01-06T08:00:00Z'),
        (5, 'website', 'carol', 'human', 'completed', '2026-01-06T09:00:00Z'),
        (5, 'website', 'carol', 'human', 'reopened',  '2026-01-06T10:00:00Z')`);
    const ran = await ds.runMigrations({ transaction: 'each' });
    expect(ran.map((m) => m.name)[0]).toBe('ProjectsTagsAndTimes1764270000000');
    await ds.destroy();
  });

  afterAll(() => owner.end());

  it('makes each slug in use an internal project, owned by the creator of its earliest task', async () => {
    const { rows: projects } = await owner.query(
      `SELECT slug, name, visibility, owner FROM projects ORDER BY slug`,
    );
    expect(projects).toEqual([
      { slug: 'Legacy Project', name: 'Legacy Project', visibility: 'internal', owner: 'erin' },
      { slug: 'website', name: 'website', visibility: 'internal', owner: 'carol' },
    ]);
    const { rows: members } = await owner.query(
      `SELECT project_slug, worker_id, role FROM project_members ORDER BY project_slug`,
    );
    expect(members).toEqual([
      { project_slug: 'Legacy Project', worker_id: 'erin', role: 'owner' },
      { project_slug: 'website', worker_id: 'carol', role: 'owner' },
    ]);
    const { rows: tasks } = await owner.query(`SELECT id, project_slug FROM tasks ORDER BY id`);
    expect(tasks.map((t: { project_slug: string | null }) => t.project_slug)).toEqual([
      'website',
      'website',
      'Legacy Project',
      null,
      'website',
    ]);
  });

  it('takes started_at and completed_at from the history, without bumping versions', async () => {
    const { rows } = await owner.query<{
      id: number;
      started_at: Date | null;
      completed_at: Date | null;
      version: number;
    }>(`SELECT id, started_at, completed_at, version FROM tasks ORDER BY id`);
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    expect(rows.map((r) => [r.id, iso(r.started_at), iso(r.completed_at), r.version])).toEqual([
      [1, '2026-01-02T10:00:00.000Z', '2026-01-03T09:30:00.000Z', 1],
      [2, '2026-01-05T08:00:00.000Z', null, 1],
      [3, null, null, 1],
      [4, null, null, 1],
      // Reopened: in progress again, so it has no completion time.
      [5, '2026-01-06T08:00:00.000Z', null, 1],
    ]);
  });

  it('keeps every hash chain intact, and serves the migrated board', async () => {
    const t = await TestApp.start({ databaseUrl: url });
    try {
      const admin = await t.actor({ id: 'root', role: 'admin' });
      const verify = await admin.get('/api/audit/verify').expect(200);
      expect(verify.body).toMatchObject({ ok: true, checked: 9, first_broken: null });
      const carol = await t.actor('carol');
      await carol.post('/api/tasks/1/reopen').expect(403); // assignee-only, but she may read it
      expect((await carol.get('/api/tasks/3').expect(200)).body.project_slug).toBe(
        'Legacy Project',
      );
      // An internal project's tasks: everyone reads; only members change them.
      const mallory = await t.actor('mallory');
      await mallory.get('/api/tasks/2').expect(200);
      await mallory.patch('/api/tasks/2', { title: 'mine now' }).expect(403);
      const edited = await carol.patch('/api/tasks/2', { title: 'renamed' }).expect(200);
      expect(edited.body.title).toBe('renamed');
      // New entries chain on from the migrated ones, with the client recorded and hashed.
      await carol
        .patch('/api/tasks/5', { title: 'with a client' })
        .set('X-TaskFlow-Client', 'migration-test/1')
        .expect(200);
      const after = await admin.get('/api/audit/verify').expect(200);
      expect(after.body).toMatchObject({ ok: true, checked: 11 });
      const { rows } = await owner.query(
        `SELECT client FROM audit_entries WHERE task_id = 5 ORDER BY id DESC LIMIT 1`,
      );
      expect(rows).toEqual([{ client: 'migration-test/1' }]);
    } finally {
      await t.close();
    }
  });
});
