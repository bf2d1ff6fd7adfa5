import { hasUnfinishedDependency } from './task-dependencies.sql';

/**
 * The SQL of the board's hot paths, as text. TaskFlow runs it through `Sql`; the benchmark's raw
 * baseline (bench/baseline-server.ts) imports the same statements, so the two are compared on
 * identical queries.
 */

/** `GET /api/tasks/{id}` (`blocked_by` is a column, kept by a trigger on task_dependencies). */
export const FIND_TASK_SQL = `SELECT t.* FROM tasks t WHERE t.id = $1`;

/** One page of tasks matching `where` (conditions on alias `t`), in `orderBy` order. */
export const pageOfTasksSql = (where: string[], orderBy: string, limit: number, offset: number) =>
  `SELECT t.* FROM tasks t${whereClause(where)} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`;

/** How many tasks match `where`. */
export const countTasksSql = (where: string[]) =>
  `SELECT count(*)::int AS total FROM tasks t${whereClause(where)}`;

const whereClause = (where: string[]) => (where.length ? ` WHERE ${where.join(' AND ')}` : '');

/** The columns a lifecycle move may set besides its status. */
export type MoveColumn = 'progress_percent' | 'assigned_to';

/**
 * A lifecycle move as one conditional UPDATE. Parameters: $1 the task id, $2 the statuses it may
 * leave from, then (when `assigneeOnly`) the caller, then the values of `columns` in order.
 */
export function moveTaskSql(options: {
  columns: MoveColumn[];
  /** A status, or `resume` (back to in_progress when assigned, else pending). */
  to: string;
  assigneeOnly: boolean;
  /** Whether the move ends a lease (every move but progress). */
  endsLease: boolean;
}): string {
  let n = options.assigneeOnly ? 3 : 2;
  const assignments = options.columns.map((column) => `${column} = $${++n}`);
  assignments.push(
    options.to === 'resume'
      ? `status = CASE WHEN assigned_to IS NULL THEN 'pending'::task_status ELSE 'in_progress'::task_status END`
      : `status = '${options.to}'`,
    'updated_at = now()',
  );
  if (options.endsLease) assignments.push('lease_expires_at = NULL');
  const assignee = options.assigneeOnly ? ' AND (assigned_to IS NULL OR assigned_to = $3)' : '';
  return `UPDATE tasks SET ${assignments.join(', ')} WHERE id = $1 AND status = ANY($2::task_status[])${assignee} RETURNING *`;
}

/** Tasks a claim may take: pending ones, and in-progress ones whose lease has run out. */
export const CLAIMABLE = {
  pending: `t.status = 'pending'`,
  expired: `t.status = 'in_progress' AND t.lease_expires_at < now()`,
};

/**
 * claim-next's candidate: the best task in `state` the caller may take, locked, skipping rows
 * other claimers hold. Parameters: $1 project, $2 min priority, $3 capabilities (null: the
 * caller's registered ones), $4 the caller. The pending variant walks `idx_tasks_claimable`
 * in order (see test/query-plans.e2e-spec.ts).
 */
export function claimNextCandidateSql(state: 'expired' | 'pending'): string {
  const where =
    state === 'expired' ? CLAIMABLE.expired : `${CLAIMABLE.pending} AND t.assigned_to IS NULL`;
  return `SELECT t.id, t.status AS prev_status, t.assigned_to AS prev_holder, t.lease_expires_at AS prev_lease
     FROM tasks t
     WHERE ${where}
       AND ($1::varchar IS NULL OR t.project_slug = $1)
       AND ($2::task_priority IS NULL OR t.priority >= $2::task_priority)
       AND t.required_capabilities <@ COALESCE($3::text[], (SELECT w.capabilities FROM workers w WHERE w.id = $4), '{}')
       AND NOT ${hasUnfinishedDependency('t')}
     ORDER BY t.priority DESC, t.due_date ASC NULLS LAST, t.id ASC
     LIMIT 1
     FOR NO KEY UPDATE SKIP LOCKED`;
}
