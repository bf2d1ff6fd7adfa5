import { Global, Module } from '@nestjs/common';
import { DatabaseConnector } from './database-connector';

@Global()
@Module({
  providers: [DatabaseConnector],
  exports: [DatabaseConnector],
})
export class DatabaseModule {}
