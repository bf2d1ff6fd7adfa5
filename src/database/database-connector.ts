import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Is the API's own connection able to rewrite history? A superuser can turn every trigger off;
 * the owner of `audit_entries` (or a member of the owning role) can disable its triggers.
 */
const PRIVILEGES_SQL = `
  SELECT r.rolsuper AS superuser, pg_has_role(current_user, c.relowner, 'USAGE') AS audit_owner
    FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('audit_entries')
   WHERE r.rolname = current_user`;

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
  /** Set when the connection's role could tamper with the audit log (see /api/health/db). */
  privilegeWarning?: string;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
      await this.checkPrivileges();
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

  private async checkPrivileges(): Promise<void> {
    const [row] =
      await this.dataSource.query<{ superuser: boolean; audit_owner: boolean | null }[]>(
        PRIVILEGES_SQL,
      );
    const what = row?.superuser
      ? 'a superuser'
      : row?.audit_owner
        ? 'the owner of audit_entries'
        : undefined;
    if (!what) return;
    this.privilegeWarning = `connected as ${what}: this API could disable the audit log's triggers; run it as the restricted role (DATABASE_APP_ROLE)`;
    if (this.config.nodeEnv === 'production') {
      this.logger.error(`SECURITY WARNING: ${this.privilegeWarning}`);
    } else {
      this.logger.warn(this.privilegeWarning);
    }
  }
}
