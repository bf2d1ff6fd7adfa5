import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * TypeORM options shared by the app (`TypeOrmModule`) and the migration CLI (`ormconfig.ts`).
 * The schema comes from migrations only: `synchronize` stays off everywhere.
 */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    ssl: db.ssl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: db.poolSize,
    connectTimeoutMS: db.connectTimeoutMs,
    applicationName: 'taskflow-api',
    extra: {
      // Bounded waits everywhere, so an unreachable database turns into a prompt 503, not a hang.
      connectionTimeoutMillis: db.connectTimeoutMs,
      statement_timeout: db.statementTimeoutMs,
      query_timeout: db.statementTimeoutMs + 1000,
      idle_in_transaction_session_timeout: db.statementTimeoutMs * 2,
      keepAlive: true,
    },
  };
}
