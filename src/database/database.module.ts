import { DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseConnector } from './database-connector';
import { Db } from './db';
import { NotificationListener } from './notification-listener';
import { PgPool } from './pg-pool';

/**
 * Global: every feature's repositories run their SQL through `Db`. The `PgPool` is the one the
 * app's TypeORM DataSource was configured with (see app.module.ts).
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(pool: PgPool): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: PgPool, useValue: pool }, DatabaseConnector, Db, NotificationListener],
      exports: [PgPool, DatabaseConnector, Db, NotificationListener],
    };
  }
}
