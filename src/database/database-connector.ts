import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../common/errors/database-errors';

const RETRY_DELAY_MS = 2000;

/**
 * Connects TypeORM when the app boots, without making start-up depend on the database being up:
 * if PostgreSQL cannot be reached the API still starts, answers 503 on data routes (see
 * `DatabaseReadyGuard`) and keeps trying in the background. Any other failure (wrong password,
 * missing database) is a configuration error and stops start-up.
 */
@Injectable()
export class DatabaseConnector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly dataSource: DataSource) {}

  get ready(): boolean {
    return this.dataSource.isInitialized;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.dataSource.isInitialized) return;
    try {
      await this.dataSource.initialize();
      if (this.retry) this.logger.log('Database reachable again; serving data routes');
      this.retry = undefined;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (!this.retry) {
        this.logger.warn(
          `Database unreachable (${(error as Error).message}); answering 503 and retrying every ${RETRY_DELAY_MS / 1000}s`,
        );
      }
      this.retry = setTimeout(() => void this.connect().catch(() => undefined), RETRY_DELAY_MS);
      this.retry.unref();
    }
  }
}
