import { Global, Module } from '@nestjs/common';
import { DatabaseConnector } from './database-connector';
import { Sql } from './sql';

@Global()
@Module({
  providers: [DatabaseConnector, Sql],
  exports: [DatabaseConnector, Sql],
})
export class DatabaseModule {}
