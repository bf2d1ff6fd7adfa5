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
      // The transaction's own pg connection: the same session, without TypeORM's per-query
      // subscriber broadcast, which costs more than the statement's client-side work.
      const client = this.txHost.tx.queryRunner?.connection.isInitialized
        ? (this.txHost.tx.queryRunner as unknown as { databaseConnection?: PoolClient })
            .databaseConnection
        : undefined;
      if (client) return (await client.query(text, params)).rows as T[];
      return queryRows<T>(this.txHost.tx, text, params);
    }
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    return (await pool.query(text, params)).rows as T[];
  }
}
