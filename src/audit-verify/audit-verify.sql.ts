/**
 * The audit chains' SQL. The hash itself is the database's `audit_entry_hash()` (AuditHashChain
 * migration), the same function the insert trigger uses, so the verifier and the writer cannot
 * disagree about the canonical form.
 */

/**
 * Recomputes every chain touched by the filters ($1 task id, $2 since) and returns how many
 * entries were checked and the first broken one. The window runs over whole chains before
 * `since` is applied, so the first entry after `since` is still checked against its predecessor.
 */
export const VERIFY_CHAINS_SQL = `
WITH chained AS (
  SELECT e.*,
         lag(chain_seq) OVER chain AS previous_seq,
         lag(hash) OVER chain AS previous_hash
    FROM audit_entries e
   WHERE ($1::integer IS NULL OR task_id = $1::integer)
  WINDOW chain AS (PARTITION BY audit_chain_key(task_id, context, actor_id) ORDER BY chain_seq, id)
), checked AS (
  SELECT id, task_id,
         CASE
           WHEN hash IS DISTINCT FROM audit_entry_hash(id, chain_seq, task_id, project_slug,
                  actor_id, actor_type, action, context, "timestamp", prev_hash)
             THEN 'content_changed'
           WHEN chain_seq IS DISTINCT FROM COALESCE(previous_seq, 0) + 1 THEN 'entries_missing'
           WHEN prev_hash IS DISTINCT FROM previous_hash THEN 'prev_hash_mismatch'
         END AS reason
    FROM chained
   WHERE ($2::timestamptz IS NULL OR "timestamp" >= $2::timestamptz)
)
SELECT (SELECT count(*) FROM checked)::integer AS checked, broken.id, broken.task_id, broken.reason
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
    SELECT id, task_id, reason FROM checked WHERE reason IS NOT NULL ORDER BY id LIMIT 1
  ) AS broken ON true`;

/** The newest entry of each chain ($1 task id or null), one page ($2 limit, $3 offset). */
export const CHAIN_HEADS_SQL = `
SELECT DISTINCT ON (chain) chain, task_id,
       CASE WHEN task_id IS NULL THEN COALESCE(context ->> 'worker_id', actor_id) END AS worker_id,
       chain_seq, hash, id AS entry_id, "timestamp"
  FROM (SELECT audit_chain_key(task_id, context, actor_id) AS chain, * FROM audit_entries
         WHERE $1::integer IS NULL OR task_id = $1::integer) AS e
 ORDER BY chain, chain_seq DESC
 LIMIT $2 OFFSET $3`;

export const COUNT_CHAINS_SQL = `
SELECT count(DISTINCT audit_chain_key(task_id, context, actor_id))::integer AS total
  FROM audit_entries WHERE $1::integer IS NULL OR task_id = $1::integer`;
