import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { databaseBefore, sql } from './support/database';
import { TestApp } from './support/test-app';

/**
 * The RetiredProjects migration on a board where projects were deleted by removing their rows:
 * each deleted project comes back as a retired row, with the members it had when it went, so its
 * history is its members' again and its slug cannot be taken.
 */
describe('Migrating deleted projects to retired ones (real PostgreSQL)', () => {
  let url: string;
  let owner: Client;

  beforeAll(async () => {
    let ds: DataSource;
    ({ url, ds } = await databaseBefore('RetiredProjects1764290000000'));
    owner = await sql(url);
    await owner.query(
      `INSERT INTO projects (slug, name, visibility, owner) VALUES ('kept', 'Kept', 'internal', 'ann')`,
    );
    await owner.query(
      `INSERT INTO project_members (project_slug, worker_id, role) VALUES ('kept', 'ann', 'owner')`,
    );
    const entry = (slug: string, actor: string, action: string, context: object) =>
      owner.query(
        `INSERT INTO audit_entries (project_slug, actor_id, actor_type, action, context)
         VALUES ($1, $2, 'human', $3, $4)`,
        [slug, actor, action, JSON.stringify(context)],
      );
    const gone = {
      slug: 'gone',
      name: 'Gone',
      description: 'secret plans',
      visibility: 'private',
      owner: 'ann',
    };
    await entry('gone', 'ann', 'project_created', gone);
    await entry('gone', 'ann', 'member_added', {
      worker_id: 'ben',
      role: 'viewer',
      previous_role: null,
    });
    await entry('gone', 'ann', 'member_added', {
      worker_id: 'cat',
      role: 'member',
      previous_role: null,
    });
    await entry('gone', 'ann', 'member_added', {
      worker_id: 'ben',
      role: 'member',
      previous_role: 'viewer',
    });
    await entry('gone', 'cat', 'member_removed', { worker_id: 'cat', role: 'member' });
    await entry('gone', 'ann', 'project_deleted', gone);
    const ran = await ds.runMigrations({ transaction: 'each' });
    expect(ran.map((m) => m.name)[0]).toBe('RetiredProjects1764290000000');
    await ds.destroy();
  });

  afterAll(() => owner.end());

  it('brings a deleted project back retired, with its members at deletion', async () => {
    const { rows: projects } = await owner.query(
      `SELECT slug, name, description, visibility, owner, deleted_at IS NOT NULL AS retired
         FROM projects ORDER BY slug`,
    );
    expect(projects).toEqual([
      {
        slug: 'gone',
        name: 'Gone',
        description: 'secret plans',
        visibility: 'private',
        owner: 'ann',
        retired: true,
      },
      {
        slug: 'kept',
        name: 'Kept',
        description: null,
        visibility: 'internal',
        owner: 'ann',
        retired: false,
      },
    ]);
    const { rows: members } = await owner.query(
      `SELECT worker_id, role FROM project_members WHERE project_slug = 'gone' ORDER BY worker_id`,
    );
    expect(members).toEqual([
      { worker_id: 'ann', role: 'owner' },
      { worker_id: 'ben', role: 'member' },
    ]);
  });

  it('keeps the history with its members and the slug from anyone else', async () => {
    const t = await TestApp.start({ databaseUrl: url });
    try {
      const ben = await t.actor('ben');
      const cat = await t.actor('cat');
      const history = await ben.get('/api/audit?project=gone&limit=100').expect(200);
      expect(history.body).toHaveLength(6);
      expect((await cat.get('/api/audit?project=gone').expect(200)).body).toEqual([]);
      const again = await cat.post('/api/projects', { slug: 'gone', name: 'Mine' }).expect(409);
      expect(again.body.code).toBe('project_slug_retired');
      const admin = await t.actor({ id: 'root', role: 'admin' });
      expect((await admin.get('/api/audit/verify').expect(200)).body.ok).toBe(true);
    } finally {
      await t.close();
    }
  });
});
