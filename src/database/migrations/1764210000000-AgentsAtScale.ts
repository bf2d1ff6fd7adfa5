import { MigrationInterface, QueryRunner } from 'typeorm';

/** Leases, required capabilities, task dependencies and idempotency keys (agents at scale). */
export class AgentsAtScale1764210000000 implements MigrationInterface {
  name = 'AgentsAtScale1764210000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tasks" ADD "lease_expires_at" timestamptz`);
    await q.query(`ALTER TABLE "tasks" ADD "required_capabilities" text[] NOT NULL DEFAULT '{}'`);
    // claim-next reads the best claimable task: this partial index is its exact order.
    await q.query(`
      CREATE INDEX "idx_tasks_claimable" ON "tasks" ("priority" DESC, "due_date", "id")
        WHERE "status" = 'pending' AND "assigned_to" IS NULL`);
    // Expired leases are claimable too; few tasks hold a lease at any time.
    await q.query(`
      CREATE INDEX "idx_tasks_lease" ON "tasks" ("lease_expires_at")
        WHERE "status" = 'in_progress' AND "lease_expires_at" IS NOT NULL`);

    // "task_id is blocked by depends_on_id". Deleting the dependent task drops its edges; a task
    // others depend on cannot be deleted (409), as with subtasks.
    await q.query(`
      CREATE TABLE "task_dependencies" (
        "task_id" integer NOT NULL,
        "depends_on_id" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_task_dependencies" PRIMARY KEY ("task_id", "depends_on_id"),
        CONSTRAINT "chk_task_dependencies_not_self" CHECK ("task_id" <> "depends_on_id"),
        CONSTRAINT "fk_task_dependencies_task" FOREIGN KEY ("task_id")
          REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "fk_task_dependencies_depends_on" FOREIGN KEY ("depends_on_id")
          REFERENCES "tasks"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE INDEX "idx_task_dependencies_depends_on" ON "task_dependencies" ("depends_on_id")`,
    );

    // One row per (caller, Idempotency-Key), written in the transaction of the change it
    // protects; the stored answer is replayed to retries for 24 hours.
    await q.query(`
      CREATE TABLE "idempotency_keys" (
        "actor_id" varchar(255) NOT NULL,
        "key" varchar(255) NOT NULL,
        "fingerprint" char(64) NOT NULL,
        "status_code" smallint,
        "response" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_idempotency_keys" PRIMARY KEY ("actor_id", "key")
      )`);
    await q.query(
      `CREATE INDEX "idx_idempotency_keys_created" ON "idempotency_keys" ("created_at")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "idempotency_keys"`);
    await q.query(`DROP TABLE "task_dependencies"`);
    await q.query(`DROP INDEX "idx_tasks_lease"`);
    await q.query(`DROP INDEX "idx_tasks_claimable"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "required_capabilities"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "lease_expires_at"`);
  }
}
