import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { recreateDatabase } from '../../src/database/database-admin';
import { TEMPLATE_DATABASE, databaseUrl } from './env';

let counter = 0;

/**
 * A private, migrated database for the calling test file: a copy of the template made by the
 * global setup. Jest runs the files of one worker one after another, so the name only has to be
 * unique per worker (and per call, for files that start several apps).
 */
export async function freshDatabase(): Promise<string> {
  counter += 1;
  const name = `taskflow_test_w${process.env.JEST_WORKER_ID ?? '0'}_${counter}`;
  const url = databaseUrl(name);
  await recreateDatabase(loadConfig({ DATABASE_URL: url }).database, TEMPLATE_DATABASE);
  return url;
}

/** A plain SQL client on a test database, for assertions the API cannot make about itself. */
export async function sql(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
