import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/config';
import { DEFAULT_APP_ROLE } from '../config/config';
import { dataSourceOptions } from './data-source-options';

/**
 * How the migrations learn the app role's name (DATABASE_APP_ROLE): a custom setting on the
 * migration connection, read with `current_setting()`. Migrations are classes TypeORM
 * instantiates itself, so they cannot be handed the configuration any other way.
 */
export const APP_ROLE_SETTING = 'taskflow.app_role';

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

/** Inside a migration: the app role's name, quoted for SQL. */
export async function appRoleIdentifier(query: (sql: string) => Promise<unknown>): Promise<string> {
  const [row] = (await query(
    `SELECT COALESCE(NULLIF(current_setting('${APP_ROLE_SETTING}', true), ''), '${DEFAULT_APP_ROLE}') AS role`,
  )) as { role: string }[];
  return `"${row.role.replace(/"/g, '""')}"`;
}
