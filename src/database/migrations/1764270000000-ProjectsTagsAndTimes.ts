import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleIdentifier } from '../app-role';

/**
 * Projects with members, tags, the times work started and finished, and the client that made
 * each audited change.
 *
 * Every `project_slug` the board already uses becomes a project: `internal` (everyone reads,
 * members write, as close to today's open board as membership allows), named after its slug,
 * owned by the creator of its earliest task, who is also its first member. Slugs written before
 * projects existed are kept as they are, even where they would not pass today's slug rule: the
 * tasks keep pointing at them.
 *
 * `started_at` and `completed_at` of existing tasks come from their audit trail (the first
 * `started`, the last `completed` or `approved` of a completed task); tasks whose history is
 * gone keep them null rather than a guess.
 *
 * The audit hash gains `client`, appended to the canonical form only when it is set, so every
 * entry written before keeps its hash and the chains stay verifiable across the change.
 */
export class ProjectsTagsAndTimes1764270000000 implements MigrationInterface {
  name = 'ProjectsTagsAndTimes1764270000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "project_visibility" AS ENUM ('internal', 'private')`);
    await q.query(`CREATE TYPE "project_role" AS ENUM ('owner', 'member', 'viewer')`);
    await q.query(`
      CREATE TABLE "projects" (
        "slug" varchar(100) NOT NULL,
        "name" varchar(200) NOT NULL,
        "description" text,
        "visibility" "project_visibility" NOT NULL DEFAULT 'internal',
        "owner" varchar(255) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_projects" PRIMARY KEY ("slug"),
        CONSTRAINT "chk_projects_description_length" CHECK (char_length("description") <= 10000)
      )`);
    await q.query(`
      CREATE TABLE "project_members" (
        "project_slug" varchar(100) NOT NULL,
        "worker_id" varchar(255) NOT NULL,
        "role" "project_role" NOT NULL,
        "added_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_project_members" PRIMARY KEY ("project_slug", "worker_id"),
        CONSTRAINT "fk_project_members_project" FOREIGN KEY ("project_slug")
          REFERENCES "projects"("slug") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // "Which projects is this caller in?": every visibility check asks it.
    await q.query(
      `CREATE INDEX "idx_project_members_worker" ON "project_members" ("worker_id", "project_slug")`,
    );

    await q.query(`
      INSERT INTO "projects" ("slug", "name", "visibility", "owner", "created_at")
      SELECT DISTINCT ON ("project_slug") "project_slug", "project_slug", 'internal',
             "created_by", "created_at"
        FROM "tasks" WHERE "project_slug" IS NOT NULL
       ORDER BY "project_slug", "created_at", "id"`);
    await q.query(`
      INSERT INTO "project_members" ("project_slug", "worker_id", "role", "added_at")
      SELECT "slug", "owner", 'owner', "created_at" FROM "projects"`);
    await q.query(`
      ALTER TABLE "tasks" ADD CONSTRAINT "fk_tasks_project" FOREIGN KEY ("project_slug")
        REFERENCES "projects"("slug") ON DELETE RESTRICT ON UPDATE NO ACTION`);

    await q.query(`ALTER TABLE "tasks" ADD "tags" text array NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE "tasks" ADD "started_at" timestamptz`);
    await q.query(`ALTER TABLE "tasks" ADD "completed_at" timestamptz`);
    await q.query(`CREATE INDEX "idx_tasks_tags" ON "tasks" USING gin ("tags")`);
    await q.query(`CREATE INDEX "idx_tasks_completed_at" ON "tasks" ("completed_at", "id")`);
    // Backfilling is not a write the board made: the version and the updated time stay.
    await q.query(`ALTER TABLE "tasks" DISABLE TRIGGER USER`);
    await q.query(`
      UPDATE "tasks" t SET
        "started_at" = (SELECT min(a."timestamp") FROM "audit_entries" a
                         WHERE a."task_id" = t."id" AND a."action" = 'started'),
        "completed_at" = CASE WHEN t."status" = 'completed' THEN
          (SELECT max(a."timestamp") FROM "audit_entries" a
            WHERE a."task_id" = t."id" AND a."action" IN ('completed', 'approved')) END
      WHERE t."status" <> 'pending'`);
    await q.query(`ALTER TABLE "tasks" ENABLE TRIGGER USER`);

    await q.query(`ALTER TABLE "audit_entries" ADD "client" varchar(200)`);
    await q.query(`
      CREATE FUNCTION "audit_entry_hash"(
        p_id bigint, p_chain_seq integer, p_task_id integer, p_project_slug varchar,
        p_actor_id varchar, p_actor_type worker_type, p_action varchar, p_context jsonb,
        p_timestamp timestamptz, p_prev_hash char(64), p_client varchar
      ) RETURNS char(64) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to((jsonb_build_array(
          p_id, p_chain_seq, p_task_id, p_project_slug, p_actor_id, p_actor_type::text, p_action,
          p_context, to_char(p_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          p_prev_hash
        ) || CASE WHEN p_client IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(p_client) END
        )::text, 'UTF8')), 'hex')
      $$`);
    await this.replaceChainTrigger(q, 'NEW.prev_hash, NEW.client');

    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON projects, project_members TO ${role}`);
    await q.query(`GRANT INSERT (client) ON audit_entries TO ${role}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`REVOKE ALL ON projects, project_members FROM ${role}`);
    await this.replaceChainTrigger(q, 'NEW.prev_hash');
    await q.query(
      `DROP FUNCTION "audit_entry_hash"(bigint, integer, integer, varchar, varchar, worker_type, varchar, jsonb, timestamptz, char, varchar)`,
    );
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "client"`);
    await q.query(`DROP INDEX "idx_tasks_completed_at"`);
    await q.query(`DROP INDEX "idx_tasks_tags"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "completed_at"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "started_at"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "tags"`);
    await q.query(`ALTER TABLE "tasks" DROP CONSTRAINT "fk_tasks_project"`);
    await q.query(`DROP TABLE "project_members"`);
    await q.query(`DROP TABLE "projects"`);
    await q.query(`DROP TYPE "project_role"`);
    await q.query(`DROP TYPE "project_visibility"`);
  }

  /**
   * The chain trigger of AuditHashChain, hashing with `hashArgs` after the common ones, and
   * serialising the writers of a worker chain even when the worker is not registered.
   */
  private async replaceChainTrigger(q: QueryRunner, hashArgs: string): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION "audit_entries_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
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
          -- Project and membership entries concern people who need not be registered workers:
          -- with no row to lock, the chain's writers queue on a lock named after the chain.
          IF NOT FOUND THEN
            PERFORM pg_advisory_xact_lock(hashtext(
              'audit-chain:worker:' || COALESCE(NEW.context ->> 'worker_id', NEW.actor_id)));
          END IF;
          SELECT chain_seq, hash INTO head FROM audit_entries
            WHERE task_id IS NULL
              AND COALESCE(context ->> 'worker_id', actor_id)
                = COALESCE(NEW.context ->> 'worker_id', NEW.actor_id)
            ORDER BY chain_seq DESC LIMIT 1;
        END IF;
        NEW.chain_seq := COALESCE(head.chain_seq, 0) + 1;
        NEW.prev_hash := head.hash;
        NEW.hash := audit_entry_hash(NEW.id, NEW.chain_seq, NEW.task_id, NEW.project_slug,
          NEW.actor_id, NEW.actor_type, NEW.action, NEW.context, NEW.timestamp, ${hashArgs});
        RETURN NEW;
      END $$`);
  }
}
