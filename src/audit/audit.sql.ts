/** SQL shared with the benchmark's baseline (see src/tasks/task.sql.ts). */

/** An audit entry, with the actor's type read from the worker registry by the same statement. */
export const APPEND_AUDIT_SQL = `INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context) VALUES ($1, $2, $3::varchar, COALESCE((SELECT type FROM workers WHERE id = $3::varchar), 'human'), $4, $5)`;
