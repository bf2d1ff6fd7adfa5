import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';
import type { RedisConfig } from '../config/config';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A request never waits longer than this for Redis to accept a connection… */
const CONNECT_TIMEOUT_MS = 1000;
/** …or to answer a count. */
const COMMAND_TIMEOUT_MS = 500;
const MAX_RECONNECT_DELAY_MS = 2000;
/**
 * After a count that failed on an open connection (a Redis that stopped answering), requests skip
 * Redis for this long: a hung Redis then costs one timeout per pause, not one per request.
 */
const PAUSE_AFTER_FAILURE_MS = 2000;

/**
 * The rate-limit counters of every replica, in one Redis (REDIS_URL), so that N replicas allow
 * the limit once, not N times. Rate limiting must never take the API down with it: while Redis
 * is unreachable or slow, each replica counts in its own memory (the storage used without
 * REDIS_URL), says so once in the log and in `taskflow_rate_limit_redis_up`, and goes back to
 * Redis by itself when it answers again. Requests never queue for Redis: a count is sent only on
 * a ready connection, and any that fails is counted locally instead.
 */
export class RedisThrottlerStorage
  implements ThrottlerStorage, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis;
  private readonly redisStorage: ThrottlerStorageRedisService;
  private readonly local = new ThrottlerStorageService();
  private pausedUntil = 0;
  /** Why the counts are local, from the first failure until Redis answers again. */
  private outage?: string;
  private announced = false;
  /** Requests counted in this replica's memory because Redis could not count them. */
  localCounts = 0;

  constructor(config: RedisConfig) {
    this.redis = new Redis(config.url, {
      keyPrefix: config.keyPrefix,
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // A command sent while disconnected fails at once instead of waiting for a reconnection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    });
    // Without a listener ioredis prints every failed reconnection to stderr.
    this.redis.on('error', (error: Error) => this.fellBack(error));
    this.redis.on('ready', () => this.answered());
    this.redisStorage = new ThrottlerStorageRedisService(this.redis);
  }

  /** True while counts go to Redis, shared by every replica. */
  get sharing(): boolean {
    return this.redis.status === 'ready' && this.outage === undefined;
  }

  /**
   * Waits for the first connection, at most CONNECT_TIMEOUT_MS, so that a replica starts sharing
   * its counts from its first request. A failure is logged by the 'error' listener, and ioredis
   * keeps reconnecting in the background (a Redis that accepts but never answers would otherwise
   * hold start-up for several seconds).
   */
  async onApplicationBootstrap(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.redis.connect().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
    this.local.onApplicationShutdown();
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    if (this.redis.status === 'ready' && Date.now() >= this.pausedUntil) {
      try {
        const record = await this.redisStorage.increment(
          key,
          ttl,
          limit,
          blockDuration,
          throttlerName,
        );
        this.answered();
        return record;
      } catch (error) {
        this.pausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
        this.fellBack(error as Error);
      }
    }
    this.localCounts++;
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  private fellBack(error: Error): void {
    if (this.outage !== undefined) return;
    this.outage = error.message;
    this.logger.warn(
      `Redis unreachable (${error.message}): rate limits are counted per replica until it answers again`,
    );
  }

  private answered(): void {
    if (this.outage !== undefined) {
      this.outage = undefined;
      this.logger.log('Redis answers again: rate limits are shared by every replica');
    } else if (!this.announced) {
      this.logger.log('Rate limits are shared by every replica through Redis');
    }
    this.announced = true;
  }
}
