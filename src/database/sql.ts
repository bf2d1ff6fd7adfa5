import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { queryRows } from './query-rows';

/**
 * Plain SQL for the hot paths: inside the request's transaction when there is one (mutations),
 * else straight on node-postgres's pool. Reads skip TypeORM's query runner and entity mapping,
 * which cost more than the query itself; rows come back as plain objects whose keys are the
 * column names, which are also the API's field names.
 */
@Injectable()
export class Sql {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    if (this.txHost.isTransactionActive()) {
      // The transaction's own pg connection: the same session, minus TypeORM's per-query
      // wrapper (subscriber broadcast, logger hooks) that the hot write paths do not use.
      // Errors keep their SQLSTATE either way (database-errors.ts reads both shapes).
      const runner = this.txHost.tx.queryRunner as { databaseConnection?: PoolClient } | undefined;
      const client = runner?.databaseConnection;
      if (client) return (await client.query(text, params)).rows as T[];
      return queryRows<T>(this.txHost.tx, text, params);
    }
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    return (await pool.query(text, params)).rows as T[];
  }
}
