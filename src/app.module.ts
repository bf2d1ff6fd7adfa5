import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { AccessModule } from './access/access.module';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuditModule } from './audit/audit.module';
import { AuditVerifyModule } from './audit-verify/audit-verify.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { AdminGuard } from './auth/require-admin';
import { ErrorEnvelopeFilter } from './common/errors/error-envelope.filter';
import { StrictValidationPipe } from './common/validation/validation.pipe';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { DatabaseModule } from './database/database.module';
import { DatabaseReadyGuard } from './database/database-ready.guard';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisThrottlerStorage } from './throttling/redis-throttler-storage';
import { UserThrottlerGuard } from './throttling/user-throttler.guard';
import { loggerOptions } from './logging/logger';
import { ProjectsModule } from './projects/projects.module';
import { TasksModule } from './tasks/tasks.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkersModule } from './workers/workers.module';

/**
 * The whole application. Cross-cutting behaviour is registered here once (APP_FILTER, APP_PIPE,
 * APP_GUARD), so a test that builds the app from this module gets production behaviour. A
 * mutation's unit of work is bound by `@Audited()` on its handler (an interceptor), so reads do
 * not pass through it.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: PinoLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(logger)),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.database),
          // DatabaseConnector connects at boot, tolerating a database that is not up yet.
          manualInitialization: true,
          // Each feature module registers the entities of the tables it owns (forFeature).
          autoLoadEntities: true,
        }),
        // The unit of work's transaction, carried to the repositories (UnitOfWork, TableRepository).
        // The plugin alone, not ClsModule.forRoot: forRoot also registers a global guard and a
        // global interceptor (no-ops unless mounted) that would put every read through rxjs.
        // Nothing here needs a CLS context per request: each unit of work opens its own.
        ClsModule.registerPlugins([
          new ClsPluginTransactional({
            imports: [TypeOrmModule],
            adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
          }),
        ]),
        DatabaseModule,
        AuthModule.forRoot(),
        AccessModule,
        AuditModule,
        AuditVerifyModule,
        AnalyticsModule,
        HealthModule,
        MetricsModule,
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: 60_000, limit: config.rateLimitPerMinute }],
          // Without REDIS_URL the throttler's own in-memory storage: counters per replica. With
          // limiting off (0) nothing is counted, so Redis is not even connected.
          storage:
            config.redis && config.rateLimitPerMinute > 0
              ? new RedisThrottlerStorage(config.redis)
              : undefined,
        }),
        TasksModule,
        WorkersModule,
        ProjectsModule,
        IdempotencyModule,
        EventsModule,
        WebhooksModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        // Guards run in this order: not too often (before any signature check), who is calling,
        // may they, can the database serve them. RATE_LIMIT_PER_MINUTE=0 turns limiting off:
        // then the throttler is not even registered.
        ...(config.rateLimitPerMinute > 0
          ? [{ provide: APP_GUARD, useClass: UserThrottlerGuard }]
          : []),
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
        { provide: APP_GUARD, useExisting: AdminGuard },
        { provide: APP_GUARD, useClass: DatabaseReadyGuard },
        // Mutations also run through AuditInterceptor (transaction, idempotency, audit), bound
        // per handler by @Audited() so that reads pass through no interceptor.
      ],
    };
  }
}
