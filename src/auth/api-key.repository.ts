import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { TableRepository } from '../database/table-repository';
import { ApiKey } from './api-key.entity';

const toKey = (row: ApiKey): ApiKey => ({
  id: row.id,
  worker_id: row.worker_id,
  name: row.name,
  prefix: row.prefix,
  secret_hash: row.secret_hash,
  scopes: row.scopes,
  projects: row.projects,
  expires_at: row.expires_at,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
});

/** The `api_keys` table. */
@Injectable()
export class ApiKeyRepository extends TableRepository<ApiKey> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, ApiKey);
  }

  async insert(key: Omit<ApiKey, 'created_at' | 'last_used_at' | 'revoked_at'>): Promise<ApiKey> {
    const inserted = await this.writable
      .createQueryBuilder()
      .insert()
      .values(key)
      .returning('*')
      .execute();
    return toKey((inserted.raw as ApiKey[])[0]);
  }

  /** A worker's keys that are not revoked (expired ones included), oldest first. */
  async liveOf(workerId: string): Promise<ApiKey[]> {
    const rows = await this.repository.find({
      where: { worker_id: workerId, revoked_at: IsNull() },
      order: { created_at: 'ASC', id: 'ASC' },
    });
    return rows.map(toKey);
  }

  /**
   * The key with this secret hash, if its worker is still registered (a key outlives nothing:
   * a worker registered again under the same id does not inherit keys).
   */
  async findBySecretHash(secretHash: string): Promise<ApiKey | undefined> {
    const [row] = await this.select<ApiKey>(
      `SELECT k.* FROM api_keys k JOIN workers w ON w.id = k.worker_id WHERE k.secret_hash = $1`,
      [secretHash],
    );
    return row && toKey(row);
  }

  /**
   * Whether the key is refused whatever its expiry: revoked, or its worker no longer registered
   * (as `findBySecretHash` would find it: a key outlives nothing).
   */
  async isRevoked(keyId: string): Promise<boolean> {
    const rows = await this.select(
      `SELECT 1 FROM api_keys k JOIN workers w ON w.id = k.worker_id
        WHERE k.id = $1 AND k.revoked_at IS NULL`,
      [keyId],
    );
    return rows.length === 0;
  }

  /** Revokes one live key of the worker; undefined when it has no such live key. */
  async revoke(workerId: string, keyId: string): Promise<ApiKey | undefined> {
    const [row] = await this.write<ApiKey>(
      `UPDATE api_keys SET revoked_at = now()
        WHERE id = $1 AND worker_id = $2 AND revoked_at IS NULL RETURNING *`,
      [keyId, workerId],
    );
    return row && toKey(row);
  }

  /** Revokes every live key of the worker (it is being deleted); returns them. */
  async revokeAllOf(workerId: string): Promise<ApiKey[]> {
    const rows = await this.write<ApiKey>(
      `UPDATE api_keys SET revoked_at = now()
        WHERE worker_id = $1 AND revoked_at IS NULL RETURNING *`,
      [workerId],
    );
    return rows.map(toKey);
  }

  /**
   * Records that the key was used, unless that was recorded less than a minute ago. Bookkeeping
   * outside any unit of work, on purpose: it is no change to the board, has no audit entry, and
   * must not make a read-only request open a transaction.
   */
  async touch(keyId: string): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({ last_used_at: () => 'now()' })
      .where('id = :keyId', { keyId })
      .andWhere(`(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`)
      .execute();
  }
}
