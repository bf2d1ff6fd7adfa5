import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { closedPort } from './ports';

/** The Redis every spec shares (.ci/run starts it); each spec keeps to a key prefix of its own. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run or spec uses, for REDIS_KEY_PREFIX. */
export const uniqueKeyPrefix = (): string => `taskflow-test:${randomUUID()}:`;

/** A plain client on the shared Redis, to read (and clean up) what the API wrote. */
export function redisClient(url = TEST_REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix` (the counters expire anyway; this keeps Redis tidy). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

/**
 * A redis-server of a spec's own, as a child process, so that it can be frozen (SIGSTOP: the
 * connection stays open and nothing answers, like a Redis stuck on a slow command or a lost link)
 * and thawed without touching the Redis other specs use.
 */
export class PrivateRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const port = await closedPort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const redis = new PrivateRedis(child, `redis://127.0.0.1:${port}`);
    const client = redisClient(redis.url);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.connect();
          await client.ping();
          return redis;
        } catch (error) {
          if (attempt >= 50) {
            child.kill();
            throw error;
          }
          client.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.disconnect();
    }
  }

  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    await exited;
  }
}
