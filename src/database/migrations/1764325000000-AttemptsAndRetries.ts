import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attempts, retries with backoff, timeouts and escalation (docs/lifecycle.md, "Failures").
 *
 * - `failed`, a new task status: a task whose attempts ran out, or that failed for good, waiting
 *   for a person to `retry` it.
 * - `system`, a new actor type: the sweeper inside the API (`system:sweeper`) records the
 *   attempts that a lease running out or a claim timing out cost, and the audit log tells it
 *   apart from people and agents. No worker may be registered as `system` (`chk_workers_type`).
 * - Server-owned `attempts`, `not_before` (backoff: no claim before it), `last_error` and
 *   `timeout_at` (when the current claim times out); settable `max_attempts` (1–20) and
 *   `timeout_seconds` (60 s to a week).
 *
 * PostgreSQL cannot drop a value from an enum, so `down` leaves `failed` and `system` in their
 * types (unused once the columns are gone); reverting CreateTasks / CreateWorkersAndAudit drops
 * the types themselves. The new values are not used in this migration's own transaction (the
 * check compares text), which PostgreSQL forbids.
 */
export class AttemptsAndRetries1764325000000 implements MigrationInterface {
  name = 'AttemptsAndRetries1764325000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE "task_status" ADD VALUE IF NOT EXISTS 'failed'`);
    await q.query(`ALTER TYPE "worker_type" ADD VALUE IF NOT EXISTS 'system'`);
    await q.query(`
      ALTER TABLE "tasks"
        ADD "attempts" integer NOT NULL DEFAULT 0,
        ADD "max_attempts" smallint NOT NULL DEFAULT 3,
        ADD "timeout_seconds" integer,
        ADD "not_before" timestamptz,
        ADD "last_error" text,
        ADD "timeout_at" timestamptz,
        ADD CONSTRAINT "chk_tasks_attempts" CHECK ("attempts" >= 0),
        ADD CONSTRAINT "chk_tasks_max_attempts" CHECK ("max_attempts" BETWEEN 1 AND 20),
        ADD CONSTRAINT "chk_tasks_timeout_seconds" CHECK ("timeout_seconds" BETWEEN 60 AND 604800),
        ADD CONSTRAINT "chk_tasks_last_error_length" CHECK (char_length("last_error") <= 2000)`);
    await q.query(
      `ALTER TABLE "workers" ADD CONSTRAINT "chk_workers_type" CHECK ("type"::text <> 'system')`,
    );
    // The sweeper's look for claims that ran out of time; few tasks are in progress at once.
    await q.query(`
      CREATE INDEX "idx_tasks_timeout" ON "tasks" ("timeout_at")
        WHERE "status" = 'in_progress' AND "timeout_at" IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_tasks_timeout"`);
    await q.query(`ALTER TABLE "workers" DROP CONSTRAINT "chk_workers_type"`);
    await q.query(`
      ALTER TABLE "tasks"
        DROP CONSTRAINT "chk_tasks_last_error_length",
        DROP CONSTRAINT "chk_tasks_timeout_seconds",
        DROP CONSTRAINT "chk_tasks_max_attempts",
        DROP CONSTRAINT "chk_tasks_attempts",
        DROP COLUMN "timeout_at",
        DROP COLUMN "last_error",
        DROP COLUMN "not_before",
        DROP COLUMN "timeout_seconds",
        DROP COLUMN "max_attempts",
        DROP COLUMN "attempts"`);
  }
}
