import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { recreateDatabase } from '../../src/database/database-admin';
import { migrationDataSourceOptions } from '../../src/database/data-source-options';
import { TEST_APP_ROLE, databaseUrl, templateDatabase, testDatabaseName } from './env';

let counter = 0;

/**
 * A private, migrated database for the calling test file: a copy of the template made by the
 * global setup. Jest runs the files of one worker one after another, so the name only has to be
 * unique per run, worker and call (files that start several apps call this several times).
 */
export async function freshDatabase(): Promise<string> {
  counter += 1;
  const url = databaseUrl(testDatabaseName(`api${counter}`));
  await recreateDatabase(loadConfig({ DATABASE_URL: url }).database, templateDatabase());
  return url;
}

/** A plain SQL client on a test database, for assertions the API cannot make about itself. */
export async function sql(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/**
 * A private database with every migration applied up to, but not including, `migration` (a
 * migration's `name`), however many came after it, and the DataSource that will run the rest:
 * for specs that arrange the data a migration finds and then check what it makes of it.
 */
export async function databaseBefore(migration: string): Promise<{ url: string; ds: DataSource }> {
  const url = await freshDatabase();
  const config = loadConfig({ DATABASE_URL: url, DATABASE_APP_ROLE: TEST_APP_ROLE });
  const ds = new DataSource(migrationDataSourceOptions(config.database));
  await ds.initialize();
  while ((await ds.query(`SELECT 1 FROM migrations WHERE name = $1`, [migration])).length > 0) {
    await ds.undoLastMigration({ transaction: 'each' });
  }
  return { url, ds };
}
