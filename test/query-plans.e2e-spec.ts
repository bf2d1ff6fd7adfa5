import { Client } from 'pg';
import {
  FIND_TASK_SQL,
  claimNextCandidateSql,
  countTasksSql,
  pageOfTasksSql,
} from '../src/tasks/task.repository';
import { readableProject } from '../src/access/project.repository';
import { SCOPED_AUDIT_ENTRIES, readableAuditEntry } from '../src/audit/audit-entry.repository';
import { freshDatabase, sql } from './support/database';

/**
 * The hot queries stay on indexes as the table grows: on 100,000 tasks, none of them reads the
 * tasks table sequentially (the bench checks the latency side at 1,000,000).
 */
describe('Query plans of the hot paths (real PostgreSQL)', () => {
  let db: Client;

  beforeAll(async () => {
    db = await sql(await freshDatabase());
    // Half the projects private; each user a member of a tenth of them.
    await db.query(`
      INSERT INTO projects (slug, name, visibility, owner)
      SELECT 'proj-' || p, 'Project ' || p,
             (CASE WHEN p % 2 = 0 THEN 'private' ELSE 'internal' END)::project_visibility, 'seed'
      FROM generate_series(0, 999) p`);
    await db.query(`
      INSERT INTO project_members (project_slug, worker_id, role)
      SELECT 'proj-' || p, 'user-' || u, 'member' FROM generate_series(0, 999) p,
             generate_series(0, 39) u WHERE (p + u) % 10 = 0`);
    await db.query(`
      INSERT INTO tasks (title, status, priority, project_slug, assigned_to, due_date, created_by,
                         tags, completed_at)
      SELECT 'task ' || g,
             (ARRAY['pending','in_progress','review','completed','blocked'])[1 + g % 5]::task_status,
             (ARRAY['low','medium','high','critical'])[1 + g % 4]::task_priority,
             'proj-' || (g % 1000),
             CASE WHEN g % 5 IN (1, 2, 3) THEN 'user-' || (g % 40) END,
             CASE WHEN g % 3 = 0 THEN now() + (g % 90) * interval '1 day' END,
             'seed',
             ARRAY['tag-' || (g % 500), 'team-' || (g % 7)],
             CASE WHEN g % 5 = 3 THEN now() - (g % 365) * interval '1 day' END
      FROM generate_series(1, 100000) g`);
    await db.query(`INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action)
      SELECT g, 'proj-' || (g % 1000), 'seed', 'human', 'created' FROM generate_series(1, 100000) g`);
    await db.query('ANALYZE');
  });

  afterAll(() => db.end());

  /** Every relation the plan reads sequentially. */
  const sequentialScans = async (text: string, params: unknown[]): Promise<string[]> => {
    const [{ 'QUERY PLAN': plan }] = (await db.query(`EXPLAIN (FORMAT JSON) ${text}`, params)).rows;
    const found: string[] = [];
    const walk = (node: Record<string, any>) => {
      if (node['Node Type'] === 'Seq Scan') found.push(node['Relation Name']);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan[0].Plan);
    return found;
  };

  // As TaskRepository.page builds it: the visibility rule first, then the filters.
  const visible = readableProject('t.project_slug', '$1', '$2', '$3');
  const caller = ['user-3', false, null];
  const where = [visible, 't.status = $4', 't.project_slug = $5'];

  it.each([
    ['get a task', FIND_TASK_SQL, [4242, ...caller]],
    [
      'a page of a project by status, newest first',
      pageOfTasksSql(where, 't.updated_at DESC, t.id DESC', 50, 0),
      [...caller, 'in_progress', 'proj-7'],
    ],
    ['its count', countTasksSql(where), [...caller, 'in_progress', 'proj-7']],
    ['the default list order', pageOfTasksSql([visible], 't.id ASC', 50, 500), caller],
    [
      'a rare tag (GIN)',
      pageOfTasksSql([visible, 't.tags @> $4::text[]'], 't.id ASC', 50, 0),
      [...caller, ['tag-42']],
    ],
    [
      'any of two rare tags (GIN)',
      pageOfTasksSql([visible, 't.tags && $4::text[]'], 't.id ASC', 50, 0),
      [...caller, ['tag-42', 'tag-43']],
    ],
    [
      'the count of a rare tag',
      countTasksSql([visible, 't.tags @> $4::text[]']),
      [...caller, ['tag-42']],
    ],
    [
      'completed in a week',
      countTasksSql([visible, 't.completed_at >= $4', 't.completed_at < $5']),
      [...caller, new Date(Date.now() - 14 * 86_400_000), new Date(Date.now() - 7 * 86_400_000)],
    ],
    [
      'claim-next among pending tasks',
      claimNextCandidateSql('pending'),
      ['user-3', null, null, null, false, null],
    ],
    [
      'claim-next among tasks pre-assigned to the caller',
      claimNextCandidateSql('mine'),
      ['user-3', null, null, null, false, null],
    ],
    [
      'claim-next among expired leases',
      claimNextCandidateSql('expired'),
      ['user-3', null, 'high', null, false, null],
    ],
    [
      'a task audit trail',
      `SELECT e.* FROM ${SCOPED_AUDIT_ENTRIES}
        WHERE ${readableAuditEntry('$1', '$2', '$3')} AND task_id = $4 ORDER BY id LIMIT 50`,
      [...caller, 4242],
    ],
  ])('%s: no sequential scan of a big table', async (_name, text, params) => {
    const scans = await sequentialScans(text, params);
    expect(
      scans.filter((relation) => relation === 'tasks' || relation === 'audit_entries'),
    ).toEqual([]);
  });
});
