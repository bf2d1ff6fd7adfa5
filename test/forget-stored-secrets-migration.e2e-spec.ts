import { Client } from 'pg';
import { databaseBefore, sql } from './support/database';

/**
 * The ForgetStoredSecrets migration on idempotency keys stored before answers dropped their
 * secrets: a created webhook's stored answer loses its `secret`, and nothing else changes.
 */
describe('Forgetting secrets stored with Idempotency-Keys (real PostgreSQL)', () => {
  let owner: Client;
  const SECRET = 'whsec-stored-before-the-fix-0123456789';

  beforeAll(async () => {
    const { url, ds } = await databaseBefore('ForgetStoredSecrets1764305000000');
    owner = await sql(url);
    const store = (key: string, response: unknown) =>
      owner.query(
        `INSERT INTO idempotency_keys (actor_id, key, fingerprint, status_code, response)
         VALUES ('root', $1, repeat('a', 64), 201, $2)`,
        [key, JSON.stringify(response)],
      );
    await store('webhook', { id: 'w1', url: 'https://example.com/hook', secret: SECRET });
    await store('task', { id: 7, title: 'A task whose title says secret', secret: 'kept' });
    await store('list', [{ url: 'https://example.com', secret: 'in an array: not an answer' }]);
    const ran = await ds.runMigrations({ transaction: 'each' });
    expect(ran.map((m) => m.name)[0]).toBe('ForgetStoredSecrets1764305000000');
    await ds.destroy();
  });

  afterAll(() => owner?.end());

  it("drops a created webhook's secret from its stored answer, and touches nothing else", async () => {
    const rows = await owner.query<{ key: string; response: unknown }>(
      `SELECT key, response FROM idempotency_keys ORDER BY key`,
    );
    const byKey = Object.fromEntries(rows.rows.map((r) => [r.key, r.response]));
    expect(byKey.webhook).toEqual({ id: 'w1', url: 'https://example.com/hook' });
    expect(byKey.task).toEqual({ id: 7, title: 'A task whose title says secret', secret: 'kept' });
    expect(byKey.list).toEqual([
      { url: 'https://example.com', secret: 'in an array: not an answer' },
    ]);
    const text = await owner.query(
      `SELECT count(*)::int AS n FROM idempotency_keys WHERE response::text LIKE $1`,
      [`%${SECRET}%`],
    );
    expect(text.rows[0].n).toBe(0);
  });
});
