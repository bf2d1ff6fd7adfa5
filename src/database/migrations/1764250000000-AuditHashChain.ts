import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tamper-evident audit log: every entry carries `prev_hash` and `hash`, SHA-256 over a
 * canonical form of the entry and the previous entry's hash. One chain per task, and one per
 * worker for the entries that concern no task (worker_registered, …). The chain is computed by
 * a trigger, so no path that writes an entry can skip it, and the API never sees the algorithm.
 */
export class AuditHashChain1764250000000 implements MigrationInterface {
  name = 'AuditHashChain1764250000000';

  public async up(q: QueryRunner): Promise<void> {
    // The canonical form is a JSON array whose text PostgreSQL produces itself (jsonb prints keys
    // in a fixed order); the timestamp is spelled in UTC so that the session's TimeZone cannot
    // change it.
    await q.query(`
      CREATE FUNCTION "audit_entry_hash"(
        p_id bigint, p_chain_seq integer, p_task_id integer, p_project_slug varchar,
        p_actor_id varchar, p_actor_type worker_type, p_action varchar, p_context jsonb,
        p_timestamp timestamptz, p_prev_hash char(64)
      ) RETURNS char(64) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to(jsonb_build_array(
          p_id, p_chain_seq, p_task_id, p_project_slug, p_actor_id, p_actor_type::text, p_action,
          p_context, to_char(p_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          p_prev_hash
        )::text, 'UTF8')), 'hex')
      $$`);
    // Which chain an entry belongs to: its task's, else the worker's it is about.
    await q.query(`
      CREATE FUNCTION "audit_chain_key"(p_task_id integer, p_context jsonb, p_actor_id varchar)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN p_task_id IS NOT NULL THEN 'task:' || p_task_id
                    ELSE 'worker:' || COALESCE(p_context ->> 'worker_id', p_actor_id) END
      $$`);

    await q.query(`ALTER TABLE "audit_entries" ADD "chain_seq" integer`);
    await q.query(`ALTER TABLE "audit_entries" ADD "prev_hash" char(64)`);
    await q.query(`ALTER TABLE "audit_entries" ADD "hash" char(64)`);
    await this.chainExistingEntries(q);
    await q.query(`ALTER TABLE "audit_entries" ALTER "chain_seq" SET NOT NULL`);
    await q.query(`ALTER TABLE "audit_entries" ALTER "hash" SET NOT NULL`);
    // Unique: two writers that somehow read the same head cannot fork a chain; the second fails.
    await q.query(`
      CREATE UNIQUE INDEX "uq_audit_task_chain" ON "audit_entries" ("task_id", "chain_seq")
        WHERE "task_id" IS NOT NULL`);
    await q.query(`
      CREATE UNIQUE INDEX "uq_audit_worker_chain" ON "audit_entries"
        ((COALESCE("context" ->> 'worker_id', "actor_id")), "chain_seq") WHERE "task_id" IS NULL`);

    // Concurrent writers of one chain queue on the row the entry is about (the task, or the
    // worker). The move that writes a task's entry has already locked that row, so for it the
    // lock costs nothing; the few writers that have not (a dependency added beside a move) wait
    // here instead of failing on the unique index. A row lock, unlike an advisory lock, takes no
    // lock-table slot, so a bulk insert of a million entries cannot run out of them.
    await q.query(`
      CREATE FUNCTION "audit_entries_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        head record;
      BEGIN
        IF NEW.task_id IS NOT NULL THEN
          PERFORM 1 FROM tasks WHERE id = NEW.task_id FOR NO KEY UPDATE;
          SELECT chain_seq, hash INTO head FROM audit_entries
            WHERE task_id = NEW.task_id ORDER BY chain_seq DESC LIMIT 1;
        ELSE
          PERFORM 1 FROM workers
            WHERE id = COALESCE(NEW.context ->> 'worker_id', NEW.actor_id) FOR NO KEY UPDATE;
          SELECT chain_seq, hash INTO head FROM audit_entries
            WHERE task_id IS NULL
              AND COALESCE(context ->> 'worker_id', actor_id)
                = COALESCE(NEW.context ->> 'worker_id', NEW.actor_id)
            ORDER BY chain_seq DESC LIMIT 1;
        END IF;
        NEW.chain_seq := COALESCE(head.chain_seq, 0) + 1;
        NEW.prev_hash := head.hash;
        NEW.hash := audit_entry_hash(NEW.id, NEW.chain_seq, NEW.task_id, NEW.project_slug,
          NEW.actor_id, NEW.actor_type, NEW.action, NEW.context, NEW.timestamp, NEW.prev_hash);
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER "audit_entries_chain"
        BEFORE INSERT ON "audit_entries"
        FOR EACH ROW EXECUTE FUNCTION "audit_entries_chain"()`);
  }

  /** Entries written before this migration are chained in id order, as they were written. */
  private async chainExistingEntries(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_entries" DISABLE TRIGGER "audit_entries_no_update_delete"`);
    await q.query(`
      DO $$
      DECLARE
        entry record;
        previous_key text := NULL;
        seq integer := 0;
        previous_hash char(64) := NULL;
      BEGIN
        FOR entry IN
          SELECT *, audit_chain_key(task_id, context, actor_id) AS key FROM audit_entries
           ORDER BY audit_chain_key(task_id, context, actor_id), id
        LOOP
          IF entry.key IS DISTINCT FROM previous_key THEN
            seq := 0;
            previous_hash := NULL;
            previous_key := entry.key;
          END IF;
          seq := seq + 1;
          UPDATE audit_entries SET chain_seq = seq, prev_hash = previous_hash,
                 hash = audit_entry_hash(entry.id, seq, entry.task_id, entry.project_slug,
                   entry.actor_id, entry.actor_type, entry.action, entry.context,
                   entry.timestamp, previous_hash)
           WHERE id = entry.id
           RETURNING hash INTO previous_hash;
        END LOOP;
      END $$`);
    await q.query(`ALTER TABLE "audit_entries" ENABLE TRIGGER "audit_entries_no_update_delete"`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "audit_entries_chain" ON "audit_entries"`);
    await q.query(`DROP FUNCTION "audit_entries_chain"()`);
    await q.query(`DROP INDEX "uq_audit_worker_chain"`);
    await q.query(`DROP INDEX "uq_audit_task_chain"`);
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "hash"`);
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "prev_hash"`);
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "chain_seq"`);
    await q.query(`DROP FUNCTION "audit_chain_key"(integer, jsonb, varchar)`);
    await q.query(
      `DROP FUNCTION "audit_entry_hash"(bigint, integer, integer, varchar, varchar, worker_type, varchar, jsonb, timestamptz, char)`,
    );
  }
}
