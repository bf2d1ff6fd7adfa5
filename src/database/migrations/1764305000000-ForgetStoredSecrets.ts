import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Answers stored for an `Idempotency-Key` no longer keep a secret (`@SecretField()`), but keys
 * stored before that still hold the signing secret of the webhook they created, for up to the
 * key's 24 hours. Those answers lose it here, so a replay of one answers it no more than a new
 * one would. A created webhook's answer is the one with both `url` and `secret`.
 */
export class ForgetStoredSecrets1764305000000 implements MigrationInterface {
  name = 'ForgetStoredSecrets1764305000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE "idempotency_keys" SET "response" = "response" - 'secret'
        WHERE jsonb_typeof("response") = 'object' AND "response" ? 'secret' AND "response" ? 'url'`,
    );
  }

  public async down(): Promise<void> {
    // A secret that was forgotten cannot be brought back, and need not be.
  }
}
