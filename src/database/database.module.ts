import { Global, Module } from '@nestjs/common';
import { DatabaseConnector } from './database-connector';
import { NotificationListener } from './notification-listener';

/**
 * Global: the connection's life (DatabaseConnector) and the replica's LISTEN connection. The
 * tables are reached through each feature's TypeORM repositories, registered by the feature's
 * module with `TypeOrmModule.forFeature`.
 */
@Global()
@Module({
  providers: [DatabaseConnector, NotificationListener],
  exports: [DatabaseConnector, NotificationListener],
})
export class DatabaseModule {}
