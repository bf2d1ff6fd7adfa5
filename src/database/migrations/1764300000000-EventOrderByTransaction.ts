import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each audit entry records the id of the transaction that wrote it (`tx_id`,
 * `pg_current_xact_id()` as a bigint, by `audit_tx_id()`), so that readers of the log (the event stream, webhook
 * delivery, resuming) can follow it in a stable order without a lock shared by every writer:
 * they read in (tx_id, id) order and only entries whose transaction is older than the oldest one
 * still running (`pg_snapshot_xmin(pg_current_snapshot())`), which are all final. See
 * docs/events.md, "Order".
 *
 * Entries written before this migration get tx_id 1, below every real transaction id: they were
 * allocated in commit order under the lock this replaces, so among themselves id order stands.
 */
export class EventOrderByTransaction1764300000000 implements MigrationInterface {
  name = 'EventOrderByTransaction1764300000000';

  public async up(q: QueryRunner): Promise<void> {
    // A constant default first: PostgreSQL then adds the column without rewriting the table
    // (and without touching a row, which the append-only trigger would refuse).
    await q.query(`ALTER TABLE "audit_entries" ADD "tx_id" bigint NOT NULL DEFAULT 1`);
    // A function of its own, so the default reads the same in the entity and in the catalog.
    await q.query(`
      CREATE FUNCTION "audit_tx_id"() RETURNS bigint LANGUAGE sql VOLATILE
        AS $$ SELECT pg_current_xact_id()::text::bigint $$`);
    await q.query(`ALTER TABLE "audit_entries" ALTER COLUMN "tx_id" SET DEFAULT audit_tx_id()`);
    await q.query(`CREATE INDEX "idx_audit_tx" ON "audit_entries" ("tx_id", "id")`);
    // A webhook's cursor becomes a position in that order: the entry's id and its tx_id. Every
    // entry so far has tx_id 1, so a cursor past the start is at tx_id 1.
    await q.query(`ALTER TABLE "webhooks" ADD "cursor_tx" bigint NOT NULL DEFAULT 0`);
    await q.query(`UPDATE "webhooks" SET "cursor_tx" = 1 WHERE "cursor" > 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "webhooks" DROP COLUMN "cursor_tx"`);
    await q.query(`DROP INDEX "idx_audit_tx"`);
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "tx_id"`);
    await q.query(`DROP FUNCTION "audit_tx_id"()`);
  }
}
