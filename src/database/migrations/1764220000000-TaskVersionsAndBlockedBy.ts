import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two columns every task answer carries, kept by the database itself so that no write path (a
 * lifecycle move, PATCH, a dependency change, a future move) can forget them:
 * - `version`, the task's ETag: one more on every UPDATE of the row. A conditional write
 *   (`If-Match`) arms `taskflow.if_match` for its transaction; the same trigger then refuses a
 *   write of that task from any other version with SQLSTATE TF412 (412), atomically with the
 *   write, without holding a lock from the check to the write;
 * - `blocked_by`, the ids of the task's dependencies, rewritten when an edge is added or
 *   removed (which also bumps `version`: the answer changed).
 */
export class TaskVersionsAndBlockedBy1764220000000 implements MigrationInterface {
  name = 'TaskVersionsAndBlockedBy1764220000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tasks" ADD "version" integer NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE "tasks" ADD "blocked_by" integer array NOT NULL DEFAULT '{}'`);
    await q.query(`
      UPDATE "tasks" t SET "blocked_by" = ARRAY(
        SELECT d.depends_on_id FROM task_dependencies d WHERE d.task_id = t.id ORDER BY 1)
      WHERE EXISTS (SELECT 1 FROM task_dependencies d WHERE d.task_id = t.id)`);

    await q.query(`
      CREATE FUNCTION tasks_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        expected text := current_setting('taskflow.if_match', true);
      BEGIN
        IF expected IS NOT NULL AND expected <> '' AND split_part(expected, '-', 1) = OLD.id::text THEN
          IF expected <> OLD.id || '-' || OLD.version THEN
            RAISE EXCEPTION 'Task % changed since version %', OLD.id, split_part(expected, '-', 2)
              USING ERRCODE = 'TF412';
          END IF;
          -- Checked once: later writes of the same request build on this one.
          PERFORM set_config('taskflow.if_match', '', true);
        END IF;
        IF TG_OP = 'DELETE' THEN
          RETURN OLD;
        END IF;
        NEW.version := OLD.version + 1;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER "trg_tasks_version" BEFORE UPDATE OR DELETE ON "tasks"
        FOR EACH ROW EXECUTE FUNCTION tasks_next_version()`);

    await q.query(`
      CREATE FUNCTION task_dependencies_blocked_by() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        dependent integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.task_id ELSE NEW.task_id END;
      BEGIN
        UPDATE tasks SET blocked_by = ARRAY(
          SELECT d.depends_on_id FROM task_dependencies d WHERE d.task_id = dependent ORDER BY 1)
        WHERE id = dependent;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "trg_task_dependencies_blocked_by" AFTER INSERT OR DELETE ON "task_dependencies"
        FOR EACH ROW EXECUTE FUNCTION task_dependencies_blocked_by()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "trg_task_dependencies_blocked_by" ON "task_dependencies"`);
    await q.query(`DROP FUNCTION task_dependencies_blocked_by()`);
    await q.query(`DROP TRIGGER "trg_tasks_version" ON "tasks"`);
    await q.query(`DROP FUNCTION tasks_next_version()`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "blocked_by"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "version"`);
  }
}
