import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import { PgPool } from './pg-pool';

interface Transaction {
  client: PoolClient;
}

/**
 * Where the repositories' SQL runs: on the current transaction's connection when there is one
 * (`transaction()` opened it further up the same async call chain), on the pool otherwise. The
 * transaction travels in an `AsyncLocalStorage`, so a service or repository never passes it
 * along and cannot run one statement of a unit of work outside it by accident.
 *
 * Only repositories inject `Db`: services see repositories, never a connection.
 */
const refuseOutsideUnitOfWork = (): Promise<never> =>
  Promise.reject(new Error('a write outside a unit of work (run it through UnitOfWork.run)'));

@Injectable()
export class Db {
  private readonly current = new AsyncLocalStorage<Transaction>();

  constructor(private readonly pool: PgPool) {}

  /** The rows of one statement. */
  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const executor = this.current.getStore()?.client ?? this.connected();
    const result = await executor.query<QueryResultRow>(text, params);
    return result.rows as T[];
  }

  /**
   * The rows of a hot statement whose text never changes, as a named prepared statement: each
   * connection plans it once instead of on every call (the visibility rule's subqueries cost
   * PostgreSQL more to plan than to run).
   */
  async prepared<T>(name: string, text: string, params: unknown[] = []): Promise<T[]> {
    const executor = this.current.getStore()?.client ?? this.connected();
    const result = await executor.query<QueryResultRow>({ name, text, values: params });
    return result.rows as T[];
  }

  /**
   * A statement that changes or locks rows. Only inside a transaction, which only a unit of work
   * opens: a service called outside one must fail before it writes, never leave a change
   * without its audit entry.
   */
  write<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.inTransaction ? this.rows<T>(text, params) : refuseOutsideUnitOfWork();
  }

  /** `write` for a hot statement whose text never changes, as a named prepared statement. */
  preparedWrite<T>(name: string, text: string, params: unknown[] = []): Promise<T[]> {
    return this.inTransaction ? this.prepared<T>(name, text, params) : refuseOutsideUnitOfWork();
  }

  get inTransaction(): boolean {
    return this.current.getStore() !== undefined;
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Called inside another transaction, it joins that one, so a unit of work composes.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.current.getStore()) return work();
    const client = await this.connected().connect();
    let unusable: Error | undefined;
    // A checked-out client whose connection drops emits 'error'; unheard, that would crash the
    // process. The statement in flight fails on its own, and the client is discarded below.
    const dropped = (error: Error) => (unusable = error);
    client.on('error', dropped);
    try {
      await client.query('BEGIN');
      const result = await this.current.run({ client }, work);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((failed: Error) => (unusable = failed));
      throw error;
    } finally {
      // A connection that dropped, or whose rollback failed, is discarded rather than reused.
      client.off('error', dropped);
      client.release(unusable);
    }
  }

  private connected(): Pool {
    const pool = this.pool.current;
    if (!pool) throw new ServiceUnavailableError('Database unavailable, try again shortly');
    return pool;
  }
}
