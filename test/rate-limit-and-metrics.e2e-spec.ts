import request from 'supertest';
import { TokenVerifier } from '../src/auth/token-verifier';
import { MetricsServer } from '../src/metrics/metrics-server';
import { Actor, TestApp } from './support/test-app';

describe('Rate limiting (e2e)', () => {
  let t: TestApp;
  let alice: Actor;
  let bob: Actor;

  beforeAll(async () => {
    t = await TestApp.start({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
    alice = await t.actor('alice');
    bob = await t.actor('bob');
  });

  afterAll(() => t.close());

  it('answers 429 with the envelope and Retry-After once a user passes the limit', async () => {
    // A token's first request is counted for the client IP (it is not verified yet), the rest
    // for its user.
    await alice.get('/api/me').expect(200);
    for (let i = 0; i < 5; i++) await alice.get('/api/tasks').expect(200);
    const res = await alice.get('/api/tasks').expect(429);
    expect(res.body).toEqual({
      error: 'Too many requests, slow down',
      status_code: 429,
      code: 'rate_limited',
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('counts per user: another user is not affected', async () => {
    await bob.get('/api/tasks').expect(200);
  });

  it('limits 401s per IP before any signature is checked, for every way of failing auth', async () => {
    // Its own app and limit: the counters above are per process and already spent.
    const guarded = await TestApp.start({
      identity: t.identity,
      env: { RATE_LIMIT_PER_MINUTE: '6' },
    });
    try {
      const stats = guarded.app.get(TokenVerifier).stats;
      const forged = `${(await guarded.actor('mallory')).token.slice(0, -4)}AAAA`;
      const attempts = [
        undefined,
        'Basic x',
        `Bearer ${forged}`,
        `Bearer ${forged}`,
        'Bearer x.y.z',
        undefined,
      ];
      for (const header of attempts) {
        const req = guarded.anonymous.get('/api/tasks');
        await (header ? req.set('Authorization', header) : req).expect(401);
      }
      const before = stats.signatureChecks;
      const limited = await guarded.anonymous
        .get('/api/tasks')
        .set('Authorization', `Bearer ${forged}`)
        .expect(429);
      expect(limited.body).toEqual({
        error: 'Too many requests, slow down',
        status_code: 429,
        code: 'rate_limited',
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(stats.signatureChecks).toBe(before); // refused before the signature was looked at
    } finally {
      await guarded.close();
    }
  });

  it('counts a verified token for its user, apart from its IP', async () => {
    const guarded = await TestApp.start({
      identity: t.identity,
      env: { RATE_LIMIT_PER_MINUTE: '3' },
    });
    try {
      const carol = await guarded.actor('carol');
      await carol.get('/api/me').expect(200); // a new token: counted for the IP (1 of 3)
      await carol.get('/api/me').expect(200); // verified: counted for carol (1 of 3)
      await carol.get('/api/me').expect(200);
      await carol.get('/api/me').expect(200);
      await carol.get('/api/me').expect(429);
      // The IP still has two requests left for callers without a verified token.
      await guarded.anonymous.get('/api/me').expect(401);
      await guarded.anonymous.get('/api/me').expect(401);
      await guarded.anonymous.get('/api/me').expect(429);
    } finally {
      await guarded.close();
    }
  });

  it('never limits the health checks', async () => {
    for (let i = 0; i < 20; i++) await t.anonymous.get('/health').expect(200);
    await t.anonymous.get('/api/health/db').expect(200);
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0 (the test default)', async () => {
    const unlimited = await TestApp.start({ identity: t.identity });
    try {
      const carol = await unlimited.actor('carol');
      const statuses = await Promise.all(
        Array.from({ length: 30 }, () => carol.get('/api/tasks').then((r) => r.status)),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await unlimited.close();
    }
  });
});

describe('Prometheus metrics (e2e)', () => {
  let t: TestApp;
  let alice: Actor;
  let bob: Actor;
  let scrape: () => Promise<string>;

  beforeAll(async () => {
    t = await TestApp.start({ env: { METRICS_PORT: '0' } });
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    const port = t.app.get(MetricsServer).port!;
    scrape = async () =>
      (await request(`http://127.0.0.1:${port}`).get('/metrics').expect(200)).text;
  });

  afterAll(() => t.close());

  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  it('counts requests by route pattern and status, with durations', async () => {
    const task = await alice.post('/api/tasks', { title: 'metered' }).expect(201);
    await alice.get(`/api/tasks/${task.body.id}`).expect(200);
    await alice.get('/api/tasks/999999').expect(404);
    const text = await scrape();
    expect(
      value(text, 'taskflow_http_requests_total{method="GET",route="/api/tasks/:id",status="200"}'),
    ).toBe(1);
    expect(
      value(text, 'taskflow_http_requests_total{method="GET",route="/api/tasks/:id",status="404"}'),
    ).toBe(1);
    expect(
      value(text, 'taskflow_http_requests_total{method="POST",route="/api/tasks",status="201"}'),
    ).toBe(1);
    expect(text).toContain(
      'taskflow_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/tasks/:id",status="200"}',
    );
  });

  it('counts lost claims', async () => {
    const task = await alice.post('/api/tasks', { title: 'contested' }).expect(201);
    await alice.post(`/api/tasks/${task.body.id}/start`).expect(200);
    await bob.post(`/api/tasks/${task.body.id}/start`).expect(409);
    expect(value(await scrape(), 'taskflow_claim_conflicts_total')).toBe(1);
  });

  it('reports the database pool and the token cache', async () => {
    const text = await scrape();
    expect(value(text, 'taskflow_db_pool_connections')).toBeGreaterThan(0);
    expect(text).toMatch(/^taskflow_db_pool_idle \d+$/m);
    expect(text).toMatch(/^taskflow_db_pool_waiting \d+$/m);
    expect(value(text, 'taskflow_auth_verified_token_cache_hits')).toBeGreaterThan(0);
    expect(text).toContain('taskflow_process_resident_memory_bytes');
  });

  it('is not served on the API port', async () => {
    await alice.get('/metrics').expect(404);
  });
});
