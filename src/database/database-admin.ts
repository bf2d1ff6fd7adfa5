import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/config';
import { PG, sqlState } from '../common/errors/database-errors';
import { migrationDataSourceOptions } from './data-source-options';

const DUPLICATE_DATABASE = '42P04';

function databaseName(db: DatabaseConfig): string {
  const name = decodeURIComponent(new URL(db.owner.url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('MIGRATIONS_DATABASE_URL (or DATABASE_URL) names no database');
  return name;
}

/**
 * The same server as the owner (MIGRATIONS_DATABASE_URL), but the `postgres` maintenance
 * database, for CREATE/DROP DATABASE and roles.
 */
function maintenanceClient(db: DatabaseConfig): Client {
  const url = new URL(db.owner.url);
  url.pathname = '/postgres';
  return new Client({
    connectionString: url.toString(),
    ssl: db.owner.ssl,
    connectionTimeoutMillis: db.connectTimeoutMs,
  });
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Creates the database named in DATABASE_URL when it is missing. Returns true if it did. */
export async function ensureDatabase(db: DatabaseConfig): Promise<boolean> {
  const name = databaseName(db);
  const client = maintenanceClient(db);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (error) {
      // Another process created it between the check and here.
      if ((error as { code?: string }).code === DUPLICATE_DATABASE) return false;
      throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Drops and recreates a database, optionally as a copy of a template (tests and the bench). */
export async function recreateDatabase(db: DatabaseConfig, template?: string): Promise<void> {
  const name = databaseName(db);
  const client = maintenanceClient(db);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await client.query(
      `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`,
    );
  } finally {
    await client.end();
  }
}

/**
 * Makes the app role (DATABASE_APP_ROLE) a login role, with `password` when given. Roles belong
 * to the whole server, so other processes may be doing the same at this moment (parallel test
 * runs, several migrate containers): losing that race is fine, whoever wins made the same role.
 */
export async function ensureAppRole(db: DatabaseConfig, password?: string): Promise<void> {
  const client = maintenanceClient(db);
  await client.connect();
  try {
    const role = quoteIdent(db.appRole);
    const secret = password === undefined ? '' : ` PASSWORD ${client.escapeLiteral(password)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const found = await client.query<{ rolcanlogin: boolean }>(
          'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
          [db.appRole],
        );
        if (found.rowCount === 0) {
          await client.query(`CREATE ROLE ${role} LOGIN${secret}`);
        } else if (!found.rows[0].rolcanlogin || password !== undefined) {
          await client.query(`ALTER ROLE ${role} LOGIN${secret}`);
        }
        return;
      } catch (error) {
        // duplicate_object / unique_violation: created meanwhile; XX000 "tuple concurrently
        // updated": altered meanwhile. Either way, look again.
        const state = sqlState(error);
        const raced =
          state === PG.duplicateObject ||
          state === PG.uniqueViolation ||
          state === PG.internalError;
        if (!raced || attempt >= 5) throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * When the API's connection (DATABASE_URL) is the app role's and the owner's is another, makes
 * sure that role can log in with the password DATABASE_URL carries: the deploy step then leaves
 * the API nothing to set up. Returns whether it did.
 */
export async function prepareAppRole(db: DatabaseConfig): Promise<boolean> {
  const api = new URL(db.url);
  if (decodeURIComponent(api.username) !== db.appRole) return false;
  if (decodeURIComponent(new URL(db.owner.url).username) === db.appRole) return false;
  await ensureAppRole(db, api.password ? decodeURIComponent(api.password) : undefined);
  return true;
}

/** Applies pending migrations as the owner; returns the names of those it ran. */
export async function runMigrations(db: DatabaseConfig): Promise<string[]> {
  const dataSource = new DataSource(migrationDataSourceOptions(db));
  await dataSource.initialize();
  try {
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}
