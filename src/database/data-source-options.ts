import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/config';
import { APP_ROLE_SETTING } from './app-role';
import { MIGRATIONS } from './migrations';
import { PG_TYPES } from './timestamps';

/**
 * TypeORM options shared by the app (`TypeOrmModule`) and the migration CLI (`ormconfig.ts`).
 * The schema comes from migrations only: `synchronize` stays off everywhere. The app's entities
 * come from the feature modules (`forFeature`, `autoLoadEntities`); the migration CLI lists them
 * all in `ormconfig.ts`.
 */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    ssl: db.ssl,
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
      // timestamptz read by position (timestamps.ts), the rest as pg reads it.
      types: PG_TYPES,
    },
  };
}

/** The owner's DataSource, on which migrations run and grant to the app role. */
export function migrationDataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  const options = dataSourceOptions({ ...db, ...db.owner, poolSize: 1 });
  return {
    ...options,
    applicationName: 'taskflow-migrate',
    extra: {
      ...(options.extra as Record<string, unknown>),
      // DATABASE_APP_ROLE is a plain identifier (config.ts), safe in a startup option.
      options: `-c ${APP_ROLE_SETTING}=${db.appRole}`,
    },
  } as DataSourceOptions;
}
