import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { type Viewer, withinAllowedProjects } from '../access/project-access';
import { ProjectRepository } from '../access/project.repository';
import type { AuditAction } from '../audit/audit-actions';
import type { AuditEntry } from '../audit/audit-entry.entity';
import { AuditEntryRepository, EVENTS_CHANNEL } from '../audit/audit-entry.repository';
import { chainShownTo } from '../audit/chain-disclosure';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import type { WorkerType } from '../common/worker-types';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { NotificationListener } from '../database/notification-listener';

/** What a subscriber asked for; every filter given must match. */
export interface EventFilters {
  project?: string;
  taskId?: number;
  actorType?: WorkerType;
  action?: AuditAction;
}

/** Where a subscriber's events go (an SSE response). */
export interface EventSink {
  /** Sends the entries, in order; false when the sink has given up (closed, or too slow). */
  send(entries: AuditEntry[]): boolean;
  /** The feed is going away (shutdown): end the stream so the client resumes elsewhere. */
  close(): void;
}

interface Subscription {
  viewer: Viewer;
  filters: EventFilters;
  sink: EventSink;
  /** The last id this subscriber has been sent (or chose to start after). */
  cursor: number;
  /** Batches that arrived while it caught up from the table, sent once it has. */
  held?: AuditEntry[][];
  closed: boolean;
}

/** Entries kept in memory, so that a client reconnecting after a short drop needs no query. */
const WINDOW_SIZE = 2000;
/** Entries read from the table per statement. */
const BATCH = 500;

const matches = (f: EventFilters, e: AuditEntry): boolean =>
  (f.project === undefined || e.project_slug === f.project) &&
  (f.taskId === undefined || e.task_id === f.taskId) &&
  (f.actorType === undefined || e.actor_type === f.actorType) &&
  (f.action === undefined || e.action === f.action);

const pairKey = (viewer: string, slug: string) => `${viewer}\u0000${slug}`;

/**
 * The replica's view of the event log (the audit log). It wakes on NOTIFY (and on a slow poll,
 * in case one was missed), reads the new entries by id range once for all its subscribers,
 * keeps the latest in a window, and hands each subscriber the ones it may see and asked for.
 *
 * Entry ids are allocated in commit order (`APPEND_AUDIT_SQL`), so "every id above the last one
 * read" never skips an entry that commits late, on any replica: each one reads the same table.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventFeed');
  private readonly subscriptions = new Set<Subscription>();
  /** The last id read from the table: every entry up to it has been fanned out. */
  private lastId = -1;
  /** The window holds every entry with an id in (windowFloor, lastId]. */
  private window: AuditEntry[] = [];
  private windowFloor = -1;
  private reading = false;
  /** The read in progress (resolves, never rejects). */
  private reads: Promise<void> = Promise.resolve();
  private readAgain = false;
  private poll?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly entries: AuditEntryRepository,
    private readonly projects: ProjectRepository,
    private readonly listener: NotificationListener,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get started(): boolean {
    return this.lastId >= 0;
  }

  get subscribers(): number {
    return this.subscriptions.size;
  }

  /** Knows where the log ends before the app serves (when the database is up by then). */
  async onApplicationBootstrap(): Promise<void> {
    this.listener.listen(EVENTS_CHANNEL, {
      notified: (payload) => this.notified(payload),
      connected: () => this.wake(),
    });
    this.poll = setInterval(() => this.wake(), this.config.events.pollSeconds * 1000);
    this.poll.unref();
    this.wake();
    await this.reads;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.closeAll();
  }

  /** Ends every stream (SIGTERM): clients reconnect, to another replica, with Last-Event-ID. */
  closeAll(): void {
    for (const subscription of this.subscriptions) {
      subscription.closed = true;
      subscription.sink.close();
    }
    this.subscriptions.clear();
  }

  /** A 503 until the feed knows where the log ends (the database was reachable once). */
  assertReady(): void {
    if (this.started) return;
    this.wake();
    throw new ServiceUnavailableError('The event feed is starting, try again shortly');
  }

  /**
   * Starts sending `viewer` the entries matching `filters`: those after `after` first (from the
   * window, else from the table), then each new one as it commits. Without `after`, only new
   * ones. Returns the function that stops it.
   */
  async subscribe(
    viewer: Viewer,
    filters: EventFilters,
    after: number | undefined,
    sink: EventSink,
  ): Promise<() => void> {
    this.assertReady();
    const through = this.lastId;
    const subscription: Subscription = {
      viewer,
      filters,
      sink,
      cursor: after ?? through,
      held: [],
      closed: false,
    };
    // Registered before the first await: every batch read from now on reaches it (held until
    // the catch-up is done), and the catch-up covers everything up to `through`.
    this.subscriptions.add(subscription);
    const stop = () => {
      subscription.closed = true;
      this.subscriptions.delete(subscription);
    };
    try {
      if (subscription.cursor < through) await this.catchUp(subscription, through);
      for (const batch of subscription.held ?? []) this.send(subscription, batch);
      subscription.held = undefined;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  private async catchUp(subscription: Subscription, through: number): Promise<void> {
    if (subscription.cursor >= this.windowFloor) {
      const recent = this.window.filter((e) => e.id > subscription.cursor && e.id <= through);
      this.send(subscription, await this.visibleTo(subscription, recent));
      return;
    }
    const filters = {
      project: subscription.filters.project,
      taskId: subscription.filters.taskId,
      actorType: subscription.filters.actorType,
      action: subscription.filters.action,
    };
    while (!subscription.closed) {
      const page = await this.entries.pageAfter(
        subscription.viewer,
        filters,
        subscription.cursor,
        through,
        BATCH,
      );
      if (page.length > 0 && !this.send(subscription, page)) return;
      if (page.length < BATCH) return;
    }
  }

  /** Sends what is newer than the subscriber's cursor; drops a subscriber that gave up. */
  private send(subscription: Subscription, entries: AuditEntry[]): boolean {
    if (subscription.closed) return false;
    const fresh = entries.filter((e) => e.id > subscription.cursor);
    if (fresh.length === 0) return true;
    subscription.cursor = fresh[fresh.length - 1].id;
    if (subscription.sink.send(fresh.map((e) => chainShownTo(subscription.viewer, e)))) return true;
    subscription.closed = true;
    this.subscriptions.delete(subscription);
    return false;
  }

  /**
   * A NOTIFY carries the new entry's id. With nobody subscribed on this replica there is no one
   * to read the entry for, so the feed only moves its end there (ids follow commit order, so
   * everything below is settled) and drops its window: a write then costs no read here, and a
   * subscriber asking for older entries catches up from the table.
   */
  private notified(payload: string): void {
    const id = Number(payload);
    if (this.subscriptions.size > 0 || this.reading || !this.started || !Number.isSafeInteger(id)) {
      this.wake();
      return;
    }
    if (id <= this.lastId) return;
    this.lastId = id;
    this.window = [];
    this.windowFloor = id;
  }

  /** Reads the table until it is drained; a wake-up during a read makes one more pass. */
  private wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.reads = this.drain()
      .catch((error: Error) => this.logger.warn(`reading new events failed: ${error.message}`))
      .finally(() => {
        this.reading = false;
        if (this.readAgain && !this.stopped) {
          this.readAgain = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    if (!this.started) {
      this.lastId = await this.entries.latestId();
      this.windowFloor = this.lastId;
      this.logger.log(`streaming events after id ${this.lastId}`);
    }
    for (;;) {
      const batch = await this.entries.allAfter(this.lastId, BATCH);
      if (batch.length === 0) return;
      this.remember(batch);
      // The subscribers of this batch are those registered now; any later one catches up to
      // at least this batch's last id by itself.
      const audience = [...this.subscriptions];
      await this.fanOut(audience, batch);
      if (batch.length < BATCH) return;
    }
  }

  private remember(batch: AuditEntry[]): void {
    this.lastId = batch[batch.length - 1].id;
    this.window.push(...batch);
    const excess = this.window.length - WINDOW_SIZE;
    if (excess > 0) {
      this.windowFloor = this.window[excess - 1].id;
      this.window = this.window.slice(excess);
    }
  }

  private async fanOut(audience: Subscription[], batch: AuditEntry[]): Promise<void> {
    if (audience.length === 0) return;
    const readable = await this.readable(audience, batch);
    for (const subscription of audience) {
      const visible = batch.filter(
        (e) => matches(subscription.filters, e) && readable(subscription.viewer, e),
      );
      if (subscription.held) subscription.held.push(visible);
      else this.send(subscription, visible);
    }
  }

  private async visibleTo(
    subscription: Subscription,
    entries: AuditEntry[],
  ): Promise<AuditEntry[]> {
    const wanted = entries.filter((e) => matches(subscription.filters, e));
    const readable = await this.readable([subscription], wanted);
    return wanted.filter((e) => readable(subscription.viewer, e));
  }

  /**
   * Who may read which entry, by the one visibility rule (`readableProject`), asked once for
   * every non-admin viewer × every project in the entries. Entries about no project are
   * everyone's, and admins read everything, as in that rule; a key's project allow-list
   * (`Viewer.projects`) narrows it for that subscriber, as `withinAllowed` does in SQL.
   */
  private async readable(
    audience: Subscription[],
    entries: AuditEntry[],
  ): Promise<(viewer: Viewer, entry: AuditEntry) => boolean> {
    const slugs = [
      ...new Set(entries.flatMap((e) => (e.project_slug === null ? [] : [e.project_slug]))),
    ];
    const viewers = [...new Set(audience.filter((s) => !s.viewer.isAdmin).map((s) => s.viewer.id))];
    const pairs =
      slugs.length > 0 && viewers.length > 0
        ? await this.projects.readablePairs(viewers, slugs)
        : [];
    const allowed = new Set(pairs.map((p) => pairKey(p.viewer, p.slug)));
    return (viewer, entry) =>
      withinAllowedProjects(viewer, entry.project_slug) &&
      (entry.project_slug === null ||
        viewer.isAdmin ||
        allowed.has(pairKey(viewer.id, entry.project_slug)));
  }
}
