import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/query-rows';

/** How long a key protects against retries. */
export const KEY_TTL_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export type Claim =
  { kind: 'new' } | { kind: 'replay'; fingerprint: string; statusCode: number; response: unknown };

/**
 * Idempotency-Key records. A key is claimed by inserting its row in the transaction of the change
 * it protects: a concurrent retry's INSERT waits on that row until the first request commits (and
 * then replays its answer) or rolls back (and then runs itself). So a change happens once,
 * however many retries race.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Idempotency');
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly dataSource: DataSource,
  ) {}

  /** In the current transaction: a fresh claim, or the stored answer of an earlier request. */
  async claim(actorId: string, key: string, fingerprint: string): Promise<Claim> {
    // An expired row is taken over as if new; a live one is left alone and read below.
    const claimed = await queryRows(
      this.txHost.tx,
      `INSERT INTO idempotency_keys (actor_id, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (actor_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => ${KEY_TTL_HOURS})
       RETURNING 1`,
      [actorId, key, fingerprint],
    );
    if (claimed.length > 0) return { kind: 'new' };
    const [row] = await queryRows<{ fingerprint: string; status_code: number; response: unknown }>(
      this.txHost.tx,
      `SELECT fingerprint, status_code, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    return {
      kind: 'replay',
      fingerprint: row.fingerprint,
      statusCode: row.status_code,
      response: row.response,
    };
  }

  /** Stores the answer, in the same transaction as the change. */
  async complete(
    actorId: string,
    key: string,
    statusCode: number,
    response: unknown,
  ): Promise<void> {
    await this.txHost.tx.query(
      `UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE actor_id = $1 AND key = $2`,
      [actorId, key, statusCode, response === undefined ? null : JSON.stringify(response)],
    );
  }

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** Keys past their 24 hours are dead weight; expired ones are also taken over on reuse. */
  async purge(): Promise<number> {
    if (!this.dataSource.isInitialized) return 0;
    try {
      const purged = await queryRows(
        this.dataSource.manager,
        `DELETE FROM idempotency_keys
         WHERE created_at < now() - make_interval(hours => ${KEY_TTL_HOURS}) RETURNING key`,
      );
      return purged.length;
    } catch (error) {
      this.logger.warn(`purging old keys failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
