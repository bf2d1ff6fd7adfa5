import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The analytics summary (docs/analytics.md) reads a few actions over a time window; this index
 * finds exactly those entries, so the summary never scans the whole audit log.
 */
export class AnalyticsIndex1764335000000 implements MigrationInterface {
  name = 'AnalyticsIndex1764335000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "idx_audit_action_time" ON "audit_entries" ("action", "timestamp")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_audit_action_time"`);
  }
}
