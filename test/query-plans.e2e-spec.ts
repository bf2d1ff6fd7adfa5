import { Client } from 'pg';
import {
  FIND_TASK_SQL,
  claimNextCandidateSql,
  countTasksSql,
  pageOfTasksSql,
} from '../src/tasks/task.repository';
import { freshDatabase, sql } from './support/database';

/**
 * The hot queries stay on indexes as the table grows: on 100,000 tasks, none of them reads the
 * tasks table sequentially (the bench checks the latency side at 1,000,000).
 */
describe('Query plans of the hot paths (real PostgreSQL)', () => {
  let db: Client;

  beforeAll(async () => {
    db = await sql(await freshDatabase());
    await db.query(`
      INSERT INTO tasks (title, status, priority, project_slug, assigned_to, due_date, created_by)
      SELECT 'task ' || g,
             (ARRAY['pending','in_progress','review','completed','blocked'])[1 + g % 5]::task_status,
             (ARRAY['low','medium','high','critical'])[1 + g % 4]::task_priority,
             'proj-' || (g % 1000),
             CASE WHEN g % 5 IN (1, 2, 3) THEN 'user-' || (g % 40) END,
             CASE WHEN g % 3 = 0 THEN now() + (g % 90) * interval '1 day' END,
             'seed'
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

  const where = ['t.status = $1', 't.project_slug = $2'];

  it.each([
    ['get a task', FIND_TASK_SQL, [4242]],
    [
      'a page of a project by status, newest first',
      pageOfTasksSql(where, 't.updated_at DESC, t.id DESC', 50, 0),
      ['in_progress', 'proj-7'],
    ],
    ['its count', countTasksSql(where), ['in_progress', 'proj-7']],
    ['the default list order', pageOfTasksSql([], 't.id ASC', 50, 500), []],
    [
      'claim-next among pending tasks',
      claimNextCandidateSql('pending'),
      ['agent', null, null, null],
    ],
    [
      'claim-next among tasks pre-assigned to the caller',
      claimNextCandidateSql('mine'),
      ['agent', null, null, null],
    ],
    [
      'claim-next among expired leases',
      claimNextCandidateSql('expired'),
      ['agent', null, 'high', null],
    ],
    [
      'a task audit trail',
      'SELECT * FROM audit_entries WHERE task_id = $1 ORDER BY id LIMIT 50',
      [4242],
    ],
  ])('%s: no sequential scan of a big table', async (_name, text, params) => {
    const scans = await sequentialScans(text, params);
    expect(
      scans.filter((relation) => relation === 'tasks' || relation === 'audit_entries'),
    ).toEqual([]);
  });
});
