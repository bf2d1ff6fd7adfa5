/**
 * Where the tests find PostgreSQL: TEST_DATABASE_URL names the server (its database part is
 * replaced), defaulting to the local one that CI starts.
 */
export const TEST_SERVER_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Every database a test run creates starts with this, followed by the run's id. */
export const TEST_DATABASE_PREFIX = 'taskflow_test_';

/**
 * The id of this `npm test` run, set by the global setup and inherited by the Jest workers, so
 * that two runs on one machine (two terminals, two agents) never share or drop each other's
 * databases.
 */
export function testRunId(): string {
  const id = process.env.TASKFLOW_TEST_RUN;
  if (!id) throw new Error('TASKFLOW_TEST_RUN is not set: run the tests through Jest (npm test)');
  return id;
}

export const templateDatabase = (): string => `${TEST_DATABASE_PREFIX}${testRunId()}_template`;

/** A database name unique to this run, worker and purpose. */
export function testDatabaseName(purpose: string): string {
  return `${TEST_DATABASE_PREFIX}${testRunId()}_w${process.env.JEST_WORKER_ID ?? '0'}_${purpose}`;
}

export function databaseUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
