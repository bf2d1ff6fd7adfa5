import { Controller, Get, Inject } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/public.decorator';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import { ApiErrors } from '../common/openapi/api-errors.decorator';
import { DatabaseConnector } from '../database/database-connector';
import { WithoutDatabase } from '../database/database-ready.guard';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

class HealthResponse {
  @ApiProperty({ example: 'healthy' })
  status: 'healthy';

  @ApiProperty({ example: '1.0.0', description: 'The API package version' })
  version: string;
}

class DatabaseHealthResponse {
  @ApiProperty({ example: 'connected' })
  database: 'connected';

  @ApiPropertyOptional({
    example:
      "connected as a superuser: this API could disable the audit log's triggers; run it as the restricted role (DATABASE_APP_ROLE)",
    description:
      'Present when the API connects as a superuser or as the owner of the audit table, which could switch its protection off.',
  })
  warning?: string;
}

/** A database ping longer than this counts as down: health checks must answer promptly. */
const DB_PING_TIMEOUT_MS = 1500;

/**
 * `/health` says the process is up (liveness: it never touches the database);
 * `/api/health/db` says whether it can reach PostgreSQL (readiness).
 */
@ApiTags('health')
@Public()
@SkipThrottle()
@WithoutDatabase()
@Controller()
export class HealthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: TypeOrmHealthIndicator,
    private readonly connector: DatabaseConnector,
  ) {}

  @Get('health')
  @ApiOperation({
    summary: 'Liveness: the process is up (no database access)',
    description: 'Public, never rate limited. Restart the process when this fails.',
  })
  @ApiOkResponse({ type: HealthResponse, description: 'The process is up' })
  health(): HealthResponse {
    return { status: 'healthy', version: this.config.version };
  }

  @Get('api/health/db')
  @ApiOperation({
    summary: 'Readiness: the database answers',
    description: 'Public, never rate limited. Send no traffic to a replica while this is 503.',
  })
  @ApiOkResponse({ type: DatabaseHealthResponse, description: 'The database answers' })
  @ApiErrors(503)
  async database(): Promise<DatabaseHealthResponse> {
    const result = await this.db.pingCheck('database', { timeout: DB_PING_TIMEOUT_MS });
    if (result.database?.status !== 'up') {
      throw new ServiceUnavailableError('Database unreachable');
    }
    const warning = this.connector.privilegeWarning;
    return warning ? { database: 'connected', warning } : { database: 'connected' };
  }
}
