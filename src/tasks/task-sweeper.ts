import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { UnitOfWork } from '../audit/unit-of-work';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import { SYSTEM_SWEEPER_ID } from '../common/worker-types';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { TaskLifecycleService } from './task-lifecycle.service';

/** Tasks one round deals with at most, so that a backlog cannot hold a round for long. */
const ROUND = 100;

/** The identity the sweeper acts under: the audit log records it with actor type `system`. */
export const SWEEPER: AuthUser = {
  id: SYSTEM_SWEEPER_ID,
  email: null,
  role: 'system',
  isAdmin: true,
};

/**
 * Counts the attempts that nobody reports: an in-progress task whose lease ran out (its holder
 * stopped heartbeating) or whose claim ran past `timeout_seconds` (a hung agent that still
 * heartbeats). Every replica runs it every SWEEP_INTERVAL_MS; each task is one unit of work by
 * `system:sweeper` (actor type `system`), its row taken with SKIP LOCKED so replicas never queue
 * on the same task, and decided again on the locked row. A claim that takes over an expired
 * lease first records the same failed attempt itself, so whichever notices first counts it, once.
 */
@Injectable()
export class TaskSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Sweeper');
  private readonly intervalMs: number;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly lifecycle: TaskLifecycleService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.intervalMs = config.retries.sweepIntervalMs;
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs > 0) this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep().then(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round: overdue tasks, one unit of work each, until none is left (or ROUND of them). */
  async sweep(): Promise<number> {
    let swept = 0;
    try {
      while (!this.stopping && swept < ROUND) {
        const found = await this.unitOfWork.run(
          { actorId: SWEEPER.id, actorType: 'system', action: 'failed', name: 'TaskSweeper' },
          () => this.lifecycle.sweepOne(SWEEPER),
        );
        if (!found) break;
        swept++;
      }
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) {
        this.logger.warn({ err: error }, 'sweep round failed; retrying next round');
      }
    }
    return swept;
  }
}
