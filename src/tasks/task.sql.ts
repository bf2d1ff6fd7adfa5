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

/**
 * What a move is decided on (see task-moves.ts): the task, the first dependency that is not
 * completed, and the registered capabilities of the workers who could hold it after the move
 * (the caller $2, the current assignee, a named new holder $3), read only when the task requires
 * some. The row is locked until the transaction ends, so the decision and the write see the same
 * version of the task: concurrent moves on one task queue here, and each is decided on the state
 * the previous one left.
 */
const moveSubjectColumns = (caller: string, holder: string) => `t.*,
  (SELECT json_build_object('id', b.id, 'status', b.status)
     FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
     WHERE d.task_id = t.id AND b.status <> 'completed' ORDER BY b.id LIMIT 1) AS blocker,
  CASE WHEN cardinality(t.required_capabilities) > 0 THEN
    (SELECT json_object_agg(w.id, w.capabilities) FROM workers w
       WHERE w.id IN (${caller}, t.assigned_to, ${holder})) END AS capabilities_by_worker`;

/** Locks one task for a move. Parameters: $1 the id, $2 the caller, $3 a new holder or null. */
export const LOCK_MOVE_SUBJECT_SQL = `SELECT ${moveSubjectColumns('$2', '$3::varchar')} FROM tasks t WHERE t.id = $1 FOR NO KEY UPDATE`;

/**
 * Writes the outcome of a move. Parameters: $1 id, $2 status, $3 holder, $4 progress (null keeps
 * it), $5 the lease: 'keep', 'end', or seconds from now as text.
 */
export const APPLY_MOVE_SQL = `UPDATE tasks SET status = $2, assigned_to = $3,
  progress_percent = COALESCE($4::int, progress_percent),
  lease_expires_at = CASE $5::text WHEN 'keep' THEN lease_expires_at WHEN 'end' THEN NULL
                     ELSE now() + make_interval(secs => $5::text::int) END,
  updated_at = now()
  WHERE id = $1 RETURNING *`;

/** A worker's registered capabilities (a pre-assignment at creation checks them). */
export const WORKER_CAPABILITIES_SQL = `SELECT capabilities FROM workers WHERE id = $1`;

/** Tasks a claim may take: pending ones, and in-progress ones whose lease has run out. */
export const CLAIMABLE = {
  pending: `t.status = 'pending'`,
  expired: `t.status = 'in_progress' AND t.lease_expires_at < now()`,
};

/**
 * claim-next's candidate, locked and with what its move is decided on, skipping rows other
 * claimers hold. `state`: tasks whose lease ran out, pending tasks pre-assigned to the caller,
 * then unassigned pending ones (never a task pre-assigned to someone else). Only tasks whose
 * required capabilities the caller has registered, narrowed by the filter. Parameters: $1 the
 * caller, $2 project, $3 min priority, $4 the capabilities filter (null: no narrowing). The
 * unassigned variant walks
 * `idx_tasks_claimable` in order (see test/query-plans.e2e-spec.ts).
 */
export function claimNextCandidateSql(state: 'expired' | 'mine' | 'pending'): string {
  const where =
    state === 'expired'
      ? CLAIMABLE.expired
      : state === 'mine'
        ? `${CLAIMABLE.pending} AND t.assigned_to = $1`
        : `${CLAIMABLE.pending} AND t.assigned_to IS NULL`;
  return `SELECT ${moveSubjectColumns('$1', 'NULL')}
     FROM tasks t
     WHERE ${where}
       AND ($2::varchar IS NULL OR t.project_slug = $2)
       AND ($3::task_priority IS NULL OR t.priority >= $3::task_priority)
       AND t.required_capabilities <@ COALESCE((SELECT w.capabilities FROM workers w WHERE w.id = $1), '{}')
       AND ($4::text[] IS NULL OR t.required_capabilities <@ $4::text[])
       AND NOT ${hasUnfinishedDependency('t')}
     ORDER BY t.priority DESC, t.due_date ASC NULLS LAST, t.id ASC
     LIMIT 1
     FOR NO KEY UPDATE OF t SKIP LOCKED`;
}
