/**
 * Where the tests find PostgreSQL: TEST_DATABASE_URL names the server (its database part is
 * replaced), defaulting to the local one that CI starts.
 */
export const TEST_SERVER_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export const TEMPLATE_DATABASE = 'taskflow_test_template';

export function databaseUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
