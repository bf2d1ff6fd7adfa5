import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { TableRepository } from '../database/table-repository';
import { IdempotencyKey } from './idempotency-key.entity';

/** A stored answer, as an earlier request with the same key left it. */
export interface StoredAnswer {
  fingerprint: string;
  statusCode: number;
  response: unknown;
}

/** The `idempotency_keys` table: one row per caller and key, with the answer once it is known. */
@Injectable()
export class IdempotencyKeyRepository extends TableRepository<IdempotencyKey> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, IdempotencyKey);
  }

  /**
   * Claims the key in the current transaction: true when this request is the first (or the
   * earlier claim expired after `ttlHours`, and is taken over as if new). A concurrent claim of
   * the same key waits on the row until the first transaction ends.
   */
  async claim(
    actorId: string,
    key: string,
    fingerprint: string,
    ttlHours: number,
  ): Promise<boolean> {
    const claimed = await this.write(
      `INSERT INTO idempotency_keys (actor_id, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (actor_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => $4)
       RETURNING 1`,
      [actorId, key, fingerprint, ttlHours],
    );
    return claimed.length > 0;
  }

  async stored(actorId: string, key: string): Promise<StoredAnswer> {
    const [row] = await this.select<{
      fingerprint: string;
      status_code: number;
      response: unknown;
    }>(
      `SELECT fingerprint, status_code, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    return { fingerprint: row.fingerprint, statusCode: row.status_code, response: row.response };
  }

  async store(actorId: string, key: string, statusCode: number, response: unknown): Promise<void> {
    await this.write(
      `UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE actor_id = $1 AND key = $2`,
      [actorId, key, statusCode, response === undefined ? null : JSON.stringify(response)],
    );
  }

  /**
   * Deletes keys older than `ttlHours`; returns how many. Housekeeping, not a change to the
   * board: one statement on its own, outside any unit of work.
   */
  async purge(ttlHours: number): Promise<number> {
    const purged = await this.repository
      .createQueryBuilder()
      .delete()
      .where('created_at < now() - make_interval(hours => :ttlHours)', { ttlHours })
      .execute();
    return purged.affected ?? 0;
  }
}
