import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { recreateDatabase } from '../../src/database/database-admin';
import { databaseUrl, templateDatabase, testDatabaseName } from './env';

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
