import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import { DatabaseConnector } from './database-connector';

const WITHOUT_DATABASE = 'taskflow:without-database';

/** For handlers that answer without the database, or report its state themselves (health). */
export const WithoutDatabase = () => SetMetadata(WITHOUT_DATABASE, true);

/** Until the first connection succeeds, data routes answer 503 rather than fail inside TypeORM. */
@Injectable()
export class DatabaseReadyGuard implements CanActivate {
  constructor(
    private readonly connector: DatabaseConnector,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.connector.ready) return true;
    const exempt = this.reflector.getAllAndOverride<boolean | undefined>(WITHOUT_DATABASE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (exempt) return true;
    throw new ServiceUnavailableError('Database unavailable, try again shortly');
  }
}
