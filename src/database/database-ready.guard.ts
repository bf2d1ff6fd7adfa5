import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import { routeFlag } from '../common/route-flag';
import { DatabaseConnector } from './database-connector';

const WITHOUT_DATABASE = 'taskflow:without-database';

/** For handlers that answer without the database, or report its state themselves (health). */
export const WithoutDatabase = () => SetMetadata(WITHOUT_DATABASE, true);

/** Until the first connection succeeds, data routes answer 503 rather than fail inside TypeORM. */
@Injectable()
export class DatabaseReadyGuard implements CanActivate {
  private readonly exempt: (context: ExecutionContext) => boolean;

  constructor(
    private readonly connector: DatabaseConnector,
    reflector: Reflector,
  ) {
    this.exempt = routeFlag(reflector, WITHOUT_DATABASE);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.connector.ready) return true;
    if (this.exempt(context)) return true;
    throw new ServiceUnavailableError('Database unavailable, try again shortly');
  }
}
