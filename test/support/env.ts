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

/**
 * The restricted role the tested API connects as, as in production (DATABASE_APP_ROLE). Its own
 * name, so that tests never touch the password `npm start` gives `taskflow_app` on this machine.
 * Roles are shared by the whole server: every run uses this one and none ever drops it.
 */
export const TEST_APP_ROLE = 'taskflow_test_app';

/** The same database, as the app role (trust authentication: no password). */
export function asAppRole(url: string): string {
  const parsed = new URL(url);
  parsed.username = TEST_APP_ROLE;
  parsed.password = '';
  return parsed.toString();
}

/**
 * The environment of an API on the database `ownerUrl`: connected as the app role, migrating
 * (when it does) as the owner, like the compose stack.
 */
export function apiDatabaseEnv(ownerUrl: string): Record<string, string> {
  return {
    DATABASE_URL: asAppRole(ownerUrl),
    MIGRATIONS_DATABASE_URL: ownerUrl,
    DATABASE_APP_ROLE: TEST_APP_ROLE,
  };
}
