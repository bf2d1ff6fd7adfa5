import 'reflect-metadata';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { ensureAppRole, recreateDatabase, runMigrations } from '../../src/database/database-admin';
import { TEST_APP_ROLE, TEST_DATABASE_PREFIX, databaseUrl, templateDatabase } from './env';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Drops the databases of earlier runs whose process is gone (a run killed halfway, say). */
async function dropStaleDatabases(): Promise<void> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${TEST_DATABASE_PREFIX}%`],
    );
    for (const { datname } of rows) {
      const pid = Number(/^taskflow_test_(\d+)_/.exec(datname)?.[1]);
      if (!pid || !isAlive(pid)) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Once per `npm test`: a freshly migrated template that every test file copies, with the grants
 * of the app role the tested APIs connect as (copies keep them).
 */
export default async function globalSetup(): Promise<void> {
  process.env.TASKFLOW_TEST_RUN = String(process.pid);
  await dropStaleDatabases();
  const { database } = loadConfig({
    DATABASE_URL: databaseUrl(templateDatabase()),
    DATABASE_APP_ROLE: TEST_APP_ROLE,
  });
  await recreateDatabase(database);
  await ensureAppRole(database);
  await runMigrations(database);
}
