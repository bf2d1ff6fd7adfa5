import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleIdentifier } from '../app-role';

/**
 * API keys: a registered worker's own credentials (an agent's service account, a person's token
 * for scripts), and the audit log's record of which key made each change.
 *
 * A key is stored only as the SHA-256 of its secret (`secret_hash`): whoever reads the table,
 * a backup included, cannot act with it. A revoked key keeps its row (`revoked_at`), so the
 * audit entries that name it keep naming something; for the same reason a worker's deletion
 * revokes its keys (WorkersService) rather than deleting them, so there is no foreign key.
 *
 * The audit hash gains `key_id`, in the canonical form only when it is set, so every entry
 * written before keeps its hash and the chains stay verifiable across the change (as `client`
 * was added by ProjectsTagsAndTimes). When set, it is appended together with `client` (null or
 * not), so that an entry with a key and no client never hashes like one with a client only.
 */
/** The end of the chain trigger's call to `audit_entry_hash`, before and after this migration. */
const WITHOUT_KEY = 'NEW.prev_hash, NEW.client);';
const WITH_KEY = 'NEW.prev_hash, NEW.client, NEW.key_id);';

export class ApiKeys1764310000000 implements MigrationInterface {
  name = 'ApiKeys1764310000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "api_keys" (
        "id" uuid NOT NULL,
        "worker_id" varchar(255) NOT NULL,
        "name" varchar(100) NOT NULL,
        "prefix" varchar(16) NOT NULL,
        "secret_hash" char(64) NOT NULL,
        "scopes" varchar(10) array NOT NULL,
        "projects" varchar(100) array,
        "expires_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "revoked_at" timestamptz,
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "uq_api_keys_secret_hash" UNIQUE ("secret_hash")
      )`);
    await q.query(`CREATE INDEX "idx_api_keys_worker" ON "api_keys" ("worker_id", "created_at")`);

    await q.query(`ALTER TABLE "audit_entries" ADD "key_id" uuid`);
    await q.query(`
      CREATE FUNCTION "audit_entry_hash"(
        p_id bigint, p_chain_seq integer, p_task_id integer, p_project_slug varchar,
        p_actor_id varchar, p_actor_type worker_type, p_action varchar, p_context jsonb,
        p_timestamp timestamptz, p_prev_hash char(64), p_client varchar, p_key_id uuid
      ) RETURNS char(64) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to((jsonb_build_array(
          p_id, p_chain_seq, p_task_id, p_project_slug, p_actor_id, p_actor_type::text, p_action,
          p_context, to_char(p_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          p_prev_hash
        ) || CASE WHEN p_key_id IS NOT NULL THEN jsonb_build_array(p_client, p_key_id::text)
                  WHEN p_client IS NULL THEN '[]'::jsonb
                  ELSE jsonb_build_array(p_client) END
        )::text, 'UTF8')), 'hex')
      $$`);
    await this.rewriteChainTriggerHash(q, WITHOUT_KEY, WITH_KEY);

    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`GRANT SELECT, INSERT ON api_keys TO ${role}`);
    // Revoking and `last_used_at` only: a key's secret, owner and limits never change.
    await q.query(`GRANT UPDATE (revoked_at, last_used_at) ON api_keys TO ${role}`);
    await q.query(`GRANT INSERT (key_id) ON audit_entries TO ${role}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`REVOKE ALL ON api_keys FROM ${role}`);
    await this.rewriteChainTriggerHash(q, WITH_KEY, WITHOUT_KEY);
    await q.query(
      `DROP FUNCTION "audit_entry_hash"(bigint, integer, integer, varchar, varchar, worker_type, varchar, jsonb, timestamptz, char, varchar, uuid)`,
    );
    await q.query(`ALTER TABLE "audit_entries" DROP COLUMN "key_id"`);
    await q.query(`DROP TABLE "api_keys"`);
  }

  /**
   * The chain trigger, as the migrations before left it, hashing with `to` where it hashed with
   * `from`. Edited in place rather than written out again, so that no other change to the
   * trigger is undone here; refused if the trigger does not read as expected.
   */
  private async rewriteChainTriggerHash(q: QueryRunner, from: string, to: string): Promise<void> {
    await q.query(`
      DO $$
      DECLARE
        definition text := pg_get_functiondef('audit_entries_chain()'::regprocedure);
      BEGIN
        IF position('${from}' IN definition) = 0 THEN
          RAISE EXCEPTION 'audit_entries_chain() does not hash with ${from}';
        END IF;
        EXECUTE replace(definition, '${from}', '${to}');
      END $$`);
  }
}
