import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The inbox (`INBOX_SQL`) finds questions waiting for an answer through this index, as it finds
 * failed tasks and work in review through the indexes on `status`: few tasks wait at any time, so
 * it reads them, not every task the caller may read. By project, so that an inbox reads only the
 * projects its caller writes in and the shared board (`project_slug IS NULL`).
 */
export class InboxIndexes1764345000000 implements MigrationInterface {
  name = 'InboxIndexes1764345000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "idx_tasks_awaiting_input" ON "tasks" ("project_slug") WHERE "awaiting_input"`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_tasks_awaiting_input"`);
  }
}
