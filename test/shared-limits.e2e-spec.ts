import { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import request from 'supertest';
import { TokenVerifier } from '../src/auth/token-verifier';
import { MetricsServer } from '../src/metrics/metrics-server';
import { RedisThrottlerStorage } from '../src/throttling/redis-throttler-storage';
import { closedPort } from './support/ports';
import {
  PrivateRedis,
  TEST_REDIS_URL,
  deleteKeys,
  redisClient,
  uniqueKeyPrefix,
} from './support/redis';
import { TestApp } from './support/test-app';

const ENVELOPE = { error: 'Too many requests, slow down', status_code: 429, code: 'rate_limited' };

const storageOf = (t: TestApp): RedisThrottlerStorage => t.app.get(ThrottlerStorage);

const scrape = async (t: TestApp): Promise<string> =>
  (
    await request(`http://127.0.0.1:${t.app.get(MetricsServer).port}`)
      .get('/metrics')
      .expect(200)
  ).text;

/** Each test's traffic comes from an address of its own (TRUST_PROXY), so IP counters never mix. */
const from = (ip: string) => (test: request.Test) => test.set('X-Forwarded-For', ip);

describe('Rate limits shared by every replica through Redis (e2e)', () => {
  const LIMIT = 12;
  const prefix = uniqueKeyPrefix();
  let replicas: TestApp[];
  let redis: Redis;

  beforeAll(async () => {
    redis = redisClient();
    await redis.connect();
    const env = {
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      TRUST_PROXY: 'true',
    };
    // Three API processes as compose runs them: one database, one identity provider, one Redis.
    const first = await TestApp.start({ env });
    const others = await Promise.all(
      [1, 2].map(() =>
        TestApp.start({ env, identity: first.identity, databaseUrl: first.databaseUrl }),
      ),
    );
    replicas = [first, ...others];
  });

  afterAll(async () => {
    for (const t of [...replicas].reverse()) await t.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('starts every replica counting in Redis', () => {
    expect(replicas.map((t) => storageOf(t).sharing)).toEqual([true, true, true]);
  });

  it('allows the limit once across three replicas, not three times', async () => {
    const ip = from('198.51.100.10');
    const alice = await Promise.all(replicas.map((t) => t.actor('alice')));
    // A token's first request on a replica is counted for the IP (that replica has not verified
    // it yet); from then on every replica counts it for alice, in the same Redis counter.
    for (const a of alice) await ip(a.get('/api/me')).expect(200);

    const answers: request.Response[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) answers.push(await ip(alice[i % 3].get('/api/tasks')));

    expect(answers.map((r) => r.status)).toEqual([
      ...Array<number>(LIMIT).fill(200),
      ...Array<number>(2 * LIMIT).fill(429),
    ]);
    for (const refused of answers.filter((r) => r.status === 429)) {
      expect(refused.body).toEqual(ENVELOPE);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect(replicas.map((t) => storageOf(t).localCounts)).toEqual([0, 0, 0]);
  });

  it('keeps its counters under REDIS_KEY_PREFIX', async () => {
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    // One counter per tracker and route, with an expiry: none outlives the window.
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('limits anonymous and bad-token traffic per IP across replicas, before any signature check', async () => {
    const ip = from('203.0.113.20');
    const forged = `${(await replicas[0].actor('mallory')).token.slice(0, -4)}AAAA`;
    const attempts = [undefined, 'Basic x', `Bearer ${forged}`, 'Bearer x.y.z'];
    for (let i = 0; i < LIMIT; i++) {
      const header = attempts[i % attempts.length];
      const req = ip(replicas[i % 3].anonymous.get('/api/tasks'));
      await (header ? req.set('Authorization', header) : req).expect(401);
    }
    for (const t of replicas) {
      const stats = t.app.get(TokenVerifier).stats;
      const before = stats.signatureChecks;
      const refused = await ip(t.anonymous.get('/api/tasks'))
        .set('Authorization', `Bearer ${forged}`)
        .expect(429);
      expect(refused.body).toEqual(ENVELOPE);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(stats.signatureChecks).toBe(before);
    }
    // Another address is not affected.
    await from('203.0.113.21')(replicas[1].anonymous.get('/api/tasks')).expect(401);
  });
});

describe('Rate limits when Redis fails (e2e)', () => {
  it('keeps serving, counting per replica, when REDIS_URL points at nothing', async () => {
    const t = await TestApp.start({
      env: {
        RATE_LIMIT_PER_MINUTE: '5',
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        METRICS_PORT: '0',
      },
    });
    try {
      expect(storageOf(t).sharing).toBe(false);
      const alice = await t.actor('alice');
      await alice.get('/api/me').expect(200); // counted for the IP
      for (let i = 0; i < 5; i++) await alice.get('/api/tasks').expect(200);
      // Fail open to the replica's own counters, not to no limit at all.
      const refused = await alice.get('/api/tasks').expect(429);
      expect(refused.body).toEqual(ENVELOPE);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

      const metrics = await scrape(t);
      expect(metrics).toMatch(/^taskflow_rate_limit_redis_up 0$/m);
      expect(metrics).toMatch(/^taskflow_rate_limit_local_counts 7$/m);
    } finally {
      await t.close();
    }
  });

  it('falls back to memory while Redis hangs, and shares again once it answers', async () => {
    const server = await PrivateRedis.start();
    const prefix = uniqueKeyPrefix();
    const client = redisClient(server.url);
    const t = await TestApp.start({
      env: {
        RATE_LIMIT_PER_MINUTE: '1000',
        REDIS_URL: server.url,
        REDIS_KEY_PREFIX: prefix,
        METRICS_PORT: '0',
      },
    });
    try {
      const storage = storageOf(t);
      const alice = await t.actor('alice');
      await alice.get('/api/me').expect(200);
      expect(storage.sharing).toBe(true);
      expect(await scrape(t)).toMatch(/^taskflow_rate_limit_redis_up 1$/m);

      // Frozen: the connection stays open and nothing answers. The first request waits for the
      // command timeout, then every request is counted locally without asking Redis.
      server.freeze();
      for (let i = 0; i < 5; i++) await alice.get('/api/me').expect(200);
      expect(storage.sharing).toBe(false);
      expect(storage.localCounts).toBe(5);
      expect(await scrape(t)).toMatch(/^taskflow_rate_limit_redis_up 0$/m);

      server.thaw();
      await client.connect();
      const hits = async () => {
        const keys = await client.keys(`${prefix}*:hits`);
        const counts = await Promise.all(keys.map((k) => client.get(k)));
        return counts.reduce((sum, c) => sum + Number(c), 0);
      };
      const before = await hits();
      // Back to Redis by itself, after the pause that follows a failure (a couple of seconds).
      for (let i = 0; i < 100 && !storage.sharing; i++) {
        await alice.get('/api/me').expect(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(storage.sharing).toBe(true);
      await alice.get('/api/me').expect(200);
      expect(await hits()).toBeGreaterThanOrEqual(before + 2);
      expect(await scrape(t)).toMatch(/^taskflow_rate_limit_redis_up 1$/m);
    } finally {
      await t.close();
      client.disconnect();
      await server.stop();
    }
  });
});
