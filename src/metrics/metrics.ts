import { Injectable, Optional } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TokenVerifier } from '../auth/token-verifier';
import { RedisThrottlerStorage } from '../throttling/redis-throttler-storage';

const CLAIM_ROUTE = '/api/tasks/:id/start';

/** What pg's pool tells about itself (its public counters). */
interface PoolCounters {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * Prometheus metrics of one app instance (its own registry, so several apps in one process, as
 * in the tests, do not mix their numbers). Request metrics are labelled by route pattern, never
 * by raw URL, to keep the label set bounded.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'taskflow_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'taskflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly claimConflicts = new Counter({
    name: 'taskflow_claim_conflicts_total',
    help: 'Claims (POST /api/tasks/{id}/start) lost to another worker or refused: 409 answers',
    registers: [this.registry],
  });

  constructor(
    dataSource: DataSource,
    verifier: TokenVerifier,
    @Optional() @InjectThrottlerStorage() throttlerStorage?: ThrottlerStorage,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'taskflow_' });
    // TypeORM's PostgreSQL driver keeps its pg pool in `master`, a public field of the driver
    // (undefined until the DataSource connects); `Driver`, the type DataSource exposes, does not
    // name it.
    const pool = () => (dataSource.driver as { master?: PoolCounters }).master;
    const poolGauge = (name: string, help: string, read: (p: PoolCounters) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          this.set(p ? read(p) : 0);
        },
      });
    poolGauge('taskflow_db_pool_connections', 'Open database connections', (p) => p.totalCount);
    poolGauge('taskflow_db_pool_idle', 'Idle database connections', (p) => p.idleCount);
    poolGauge(
      'taskflow_db_pool_waiting',
      'Requests waiting for a connection',
      (p) => p.waitingCount,
    );
    new Gauge({
      name: 'taskflow_auth_verified_token_cache_hits',
      help: 'Requests whose token was already verified (no signature check)',
      registers: [this.registry],
      collect() {
        this.set(verifier.stats.cacheHits);
      },
    });
    if (throttlerStorage instanceof RedisThrottlerStorage) {
      new Gauge({
        name: 'taskflow_rate_limit_redis_up',
        help: '1 while rate limits are counted in Redis (shared), 0 while this replica counts alone',
        registers: [this.registry],
        collect() {
          this.set(throttlerStorage.sharing ? 1 : 0);
        },
      });
      new Gauge({
        name: 'taskflow_rate_limit_local_counts',
        help: 'Requests counted in this replica alone because Redis could not count them',
        registers: [this.registry],
        collect() {
          this.set(throttlerStorage.localCounts);
        },
      });
    }
  }

  /** The series of one method, route and status, bound once: labels are hashed on every call otherwise. */
  private readonly series = new Map<
    string,
    { requests: Counter.Internal; duration: Histogram.Internal<'method' | 'route' | 'status'> }
  >();

  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    const key = `${method} ${route ?? ''} ${status}`;
    let bound = this.series.get(key);
    if (!bound) {
      const labels = { method, route: route ?? 'unmatched', status: String(status) };
      bound = { requests: this.requests.labels(labels), duration: this.duration.labels(labels) };
      this.series.set(key, bound);
    }
    bound.requests.inc();
    bound.duration.observe(seconds);
    if (route === CLAIM_ROUTE && status === 409) this.claimConflicts.inc();
  }
}
