import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/config';
import { dataSourceOptions } from './data-source-options';

const DUPLICATE_DATABASE = '42P04';

function databaseName(db: DatabaseConfig): string {
  const name = decodeURIComponent(new URL(db.url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  return name;
}

/** The same server, but the `postgres` maintenance database, for CREATE/DROP DATABASE. */
function maintenanceClient(db: DatabaseConfig): Client {
  const url = new URL(db.url);
  url.pathname = '/postgres';
  return new Client({
    connectionString: url.toString(),
    ssl: db.ssl,
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

/** Applies pending migrations; returns the names of those it ran. */
export async function runMigrations(db: DatabaseConfig): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(db));
  await dataSource.initialize();
  try {
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}
