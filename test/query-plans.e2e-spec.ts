import { Client } from 'pg';
import {
  FIND_TASK_SQL,
  INBOX_COUNT_SQL,
  INBOX_PAGE_SQL,
  claimNextCandidateSql,
  countTasksSql,
  keysetPageSql,
  pageOfTasksSql,
  type TaskSort,
} from '../src/tasks/task.repository';
import type { TaskSortField } from '../src/tasks/task.enums';
import { readableJoined } from '../src/access/project.repository';
import { SCOPED_AUDIT_ENTRIES, readableAuditEntry } from '../src/audit/audit-entry.repository';
import { SUMMARY_SQL } from '../src/analytics/analytics.repository';
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
    // A few questions waiting for an answer, and a few tasks out of attempts (the inbox's).
    await db.query(`UPDATE tasks SET awaiting_input = true WHERE id % 500 = 1`);
    await db.query(`UPDATE tasks SET status = 'failed' WHERE id % 500 = 5`);
    // A member of five projects: one of tasks in review, one of questions, one of failed tasks.
    await db.query(`INSERT INTO project_members (project_slug, worker_id, role)
      SELECT 'proj-' || p, 'user-few', 'member' FROM generate_series(1, 5) p`);
    await db.query(`INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action)
      SELECT g, 'proj-' || (g % 1000), 'seed', 'human', 'created' FROM generate_series(1, 100000) g`);
    await db.query('ANALYZE');
  });

  afterAll(() => db.end());

  /** Every node of the plan, as `Node Type` (`on relation`, `using index` when it says). */
  const planNodes = async (text: string, params: unknown[]): Promise<string[]> => {
    const [{ 'QUERY PLAN': plan }] = (await db.query(`EXPLAIN (FORMAT JSON) ${text}`, params)).rows;
    const found: string[] = [];
    const walk = (node: Record<string, any>) => {
      const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
      const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
      found.push(`${node['Node Type']}${on}${using}`);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan[0].Plan);
    return found;
  };

  /** Every relation the plan reads sequentially. */
  const sequentialScans = async (text: string, params: unknown[]): Promise<string[]> =>
    (await planNodes(text, params))
      .filter((node) => node.startsWith('Seq Scan on '))
      .map((node) => node.slice('Seq Scan on '.length));

  // As TaskRepository.page builds it: the visibility rule first, then the filters.
  const visible = readableJoined('$2', '$3');
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
    // Reads the tasks that wait on someone (by their states' indexes) in the caller's projects and
    // on the shared board, and the caller's own: never every task it may read.
    ['a page of the inbox', INBOX_PAGE_SQL, [...caller, 50, 0]],
    ['the inbox count', INBOX_COUNT_SQL, caller],
    [
      'the inbox of a key limited to two projects',
      INBOX_PAGE_SQL,
      ['user-3', false, ['proj-7', 'proj-17'], 50, 0],
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
  /** How many rows of `tasks` running the statement reads (returned or filtered out). */
  const tasksRead = async (text: string, params: unknown[]): Promise<number> => {
    const [{ 'QUERY PLAN': plan }] = (
      await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params)
    ).rows;
    const read = (node: Record<string, any>): number =>
      (node['Relation Name'] === 'tasks'
        ? (node['Actual Rows'] +
            (node['Rows Removed by Filter'] ?? 0) +
            (node['Rows Removed by Index Recheck'] ?? 0)) *
          node['Actual Loops']
        : 0) + (node.Plans ?? []).reduce((sum: number, child: any) => sum + read(child), 0);
    return read(plan[0].Plan);
  };

  // The inbox reads the tasks that may be in it, not every task its caller may read nor every
  // task in review on the board (a fifth of them here): it starts from the caller's projects.
  it('the inbox of a member of a few projects reads about what is in it', async () => {
    const caller = ['user-few', false, null];
    const [{ total }] = (await db.query(INBOX_COUNT_SQL, caller)).rows;
    expect(total).toBeGreaterThanOrEqual(300);
    for (const [text, params] of [
      [INBOX_PAGE_SQL, [...caller, 50, 0]],
      [INBOX_COUNT_SQL, caller],
    ] as const) {
      expect(await tasksRead(text, [...params])).toBeLessThan(2 * total);
    }
  });

  // The list as TaskRepository.page reads it by cursor: a page deep in the list walks the sort's
  // index from the cursor on, as the first page does, and never sorts the matching rows.
  const sortOf = (sort: string): TaskSort => ({
    field: sort.replace(/^-/, '') as TaskSortField,
    descending: sort.startsWith('-'),
  });
  const KEYS: Record<string, string> = {
    priority: 'medium',
    due_date: new Date(Date.now() + 45 * 86_400_000).toISOString().replace('Z', '000Z'),
    created_at: new Date().toISOString().replace('Z', '000Z'),
    updated_at: new Date().toISOString().replace('Z', '000Z'),
  };
  const cursorPage = (sort: string, part?: 'undated'): [string, string, unknown[]] => {
    const { field } = sortOf(sort);
    const keyed = field !== 'id' && part !== 'undated';
    const position = keyed ? { key: '$5', id: '$6' } : { key: 'NULL', id: '$5' };
    return [
      `a cursor page by ${sort}${part ? ` (${part})` : ''}`,
      keysetPageSql([visible], sortOf(sort), '$4', position, part),
      [...caller, 51, ...(keyed ? [KEYS[field]] : []), 50_000],
    ];
  };

  it.each([
    ['the default first page', keysetPageSql([visible], sortOf('id'), '$4'), [...caller, 51]],
    [
      'a first page of pending tasks',
      keysetPageSql([visible, 't.status = $4'], sortOf('id'), '$5'),
      [...caller, 'pending', 51],
    ],
    [
      'a cursor page of pending tasks',
      keysetPageSql([visible, 't.status = $4'], sortOf('id'), '$5', { key: 'NULL', id: '$6' }),
      [...caller, 'pending', 51, 50_000],
    ],
    ...['id', 'priority', 'due_date', 'created_at', 'updated_at']
      .flatMap((sort) => [sort, `-${sort}`])
      .map((sort) => cursorPage(sort)),
    cursorPage('due_date', 'undated'),
    cursorPage('-due_date', 'undated'),
  ])('%s: walks an index of tasks in order, sorts nothing', async (_name, text, params) => {
    const nodes = await planNodes(text, params);
    expect(
      nodes.filter((node) => / on tasks using idx_tasks_|on tasks using pk_tasks/.test(node)),
    ).not.toEqual([]);
    expect(nodes.filter((node) => node.includes('Sort') || node === 'Seq Scan on tasks')).toEqual(
      [],
    );
  });

  // Last: it adds a year of finished work to the log (the database files its facts). The summary
  // reads only its window's facts (idx_analytics_facts_at), however long the log.
  it('the analytics summary: no sequential scan of the audit log', async () => {
    await db.query(`INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action,
                                               context, "timestamp")
      SELECT g, 'proj-' || (g % 1000), 'user-' || (g % 40), 'human', a.action,
             CASE WHEN a.action = 'usage_reported'
                  THEN '{"input_tokens": 10, "output_tokens": 2, "cost_usd": "0.01"}'::jsonb END,
             now() - (g % 365) * interval '1 day' + a.n * interval '1 minute'
        FROM generate_series(1, 30000) g,
             (VALUES (1, 'started'), (2, 'usage_reported'), (3, 'completed')) AS a(n, action)`);
    await db.query('ANALYZE audit_entries, analytics_facts');
    const until = new Date();
    const since = new Date(until.getTime() - 30 * 86_400_000);
    for (const grouping of ['actor_type', 'worker']) {
      const nodes = await planNodes(SUMMARY_SQL, [
        since,
        until,
        null,
        grouping,
        'user-3',
        false,
        null,
      ]);
      expect(nodes.filter((node) => node.endsWith('using idx_analytics_facts_at'))).not.toEqual([]);
      expect(nodes.filter((node) => node.startsWith('Seq Scan on analytics_facts'))).toEqual([]);
      expect(nodes.filter((node) => node.startsWith('Seq Scan on audit_entries'))).toEqual([]);
    }
  });
});
