import { DEFAULT_APP_ROLE } from '../config/config';

/**
 * How the migrations learn the app role's name (DATABASE_APP_ROLE): a custom setting on the
 * migration connection, read with `current_setting()`. Migrations are classes TypeORM
 * instantiates itself, so they cannot be handed the configuration any other way.
 */
export const APP_ROLE_SETTING = 'taskflow.app_role';

/** Inside a migration: the app role's name, quoted for SQL. */
export async function appRoleIdentifier(query: (sql: string) => Promise<unknown>): Promise<string> {
  const [row] = (await query(
    `SELECT COALESCE(NULLIF(current_setting('${APP_ROLE_SETTING}', true), ''), '${DEFAULT_APP_ROLE}') AS role`,
  )) as { role: string }[];
  return `"${row.role.replace(/"/g, '""')}"`;
}
