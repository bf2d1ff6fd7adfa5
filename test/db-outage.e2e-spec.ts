import { freshDatabase, sql } from './support/database';
import { TcpProxy } from './support/tcp-proxy';
import { Actor, TestApp } from './support/test-app';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `fn` until it returns true or `timeoutMs` passes; returns how long it took. */
async function within(timeoutMs: number, fn: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await fn()) return Date.now() - started;
    await wait(200);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe('Database outage (e2e, TCP proxy between the API and PostgreSQL)', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let alice: Actor;

  beforeAll(async () => {
    const url = new URL(await freshDatabase());
    proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
    t = await TestApp.start({
      databaseUrl: proxy.route(url.toString()),
      env: { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1500' },
    });
    alice = await t.actor('alice');
  });

  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('answers 503 (never 500, never a hang) while the database is cut, and recovers without a restart', async () => {
    const before = await alice.post('/api/tasks', { title: 'Before the outage' }).expect(201);

    proxy.cut('reset');
    const started = Date.now();
    const answers = await Promise.all([
      alice.get('/api/tasks'),
      alice.get(`/api/tasks/${before.body.id}`),
      alice.post('/api/tasks', { title: 'During the outage' }),
      alice.post(`/api/tasks/${before.body.id}/start`),
      t.anonymous.get('/api/health/db'),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: expect.stringMatching(/^Database (unavailable|unreachable|busy)/),
        status_code: 503,
        code: 'database_unavailable',
      });
      expect(res.headers['retry-after']).toBe('5');
    }
    await t.anonymous.get('/health').expect(200);

    proxy.restore();
    await within(10_000, async () => (await alice.get('/api/tasks')).status === 200);
    await t.anonymous.get('/api/health/db').expect(200);
    const after = await alice.post('/api/tasks', { title: 'After the outage' }).expect(201);
    const titles = (await alice.get('/api/tasks').expect(200)).body.map(
      (x: { title: string }) => x.title,
    );
    // Nothing half-written: the request answered 503 left no task behind.
    expect(titles).toEqual(['Before the outage', 'After the outage']);
    expect(after.body.id).toBeGreaterThan(before.body.id);
    const trail = await alice.get(`/api/tasks/${before.body.id}/audit`).expect(200);
    expect(trail.body.map((e: { action: string }) => e.action)).toEqual(['created']);
  });

  it('bounds the wait when the database stops answering altogether (packets lost)', async () => {
    proxy.cut('blackhole');
    const started = Date.now();
    const answers = await Promise.all([
      alice.get('/api/tasks'),
      alice.post('/api/tasks', { title: 'Into the void' }),
      t.anonymous.get('/api/health/db'),
    ]);
    const elapsed = Date.now() - started;
    expect(answers.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(elapsed).toBeLessThan(8000);

    proxy.restore();
    await within(15_000, async () => (await alice.get('/api/tasks')).status === 200);
    const titles = (await alice.get('/api/tasks').expect(200)).body.map(
      (x: { title: string }) => x.title,
    );
    expect(titles).not.toContain('Into the void');
  });

  it('says "busy", not "unavailable", when every pooled connection stayed in use for the whole wait', async () => {
    const crowded = await TestApp.start({
      env: { DB_POOL_SIZE: '1', DB_CONNECT_TIMEOUT_MS: '300' },
    });
    const bob = await crowded.actor('bob');
    const id = (await bob.post('/api/tasks', { title: 'Locked' }).expect(201)).body.id as number;
    const locker = await sql(crowded.databaseUrl);
    try {
      // The API's one connection ends up waiting on this row lock, inside the PATCH.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [id]);
      const patch = bob.patch(`/api/tasks/${id}`, { title: 'Waited' }).then((r) => r);
      await within(5000, async () => {
        const { rows } = await locker.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        return rows[0].n > 0;
      });
      const crowdedOut = await bob.get('/api/tasks');
      expect(crowdedOut.status).toBe(503);
      expect(crowdedOut.body).toEqual({
        error: 'Database busy: every connection is in use, try again shortly',
        status_code: 503,
        code: 'database_unavailable',
      });
      expect(crowdedOut.headers['retry-after']).toBe('5');
      await locker.query('COMMIT');
      expect((await patch).status).toBe(200);
      await bob.get('/api/tasks').expect(200);
    } finally {
      await locker.end();
      await crowded.close();
    }
  });
});
