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
import { ApiKeyRepository } from '../auth/api-key.repository';
import type { AuthUser } from '../auth/auth-user';
import {
  type LogPosition,
  type PositionedEntry,
  comparePositions,
  isAfter,
} from '../audit/log-position';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import type { ActorType } from '../common/worker-types';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { NotificationListener } from '../database/notification-listener';

/** What a subscriber asked for; every filter given must match. */
export interface EventFilters {
  project?: string;
  taskId?: number;
  actorType?: ActorType;
  action?: AuditAction;
}

/** Who subscribes: a viewer, and the API key it streams with, if it does. */
export type Subscriber = Viewer & Pick<AuthUser, 'keyId'>;

/** Where a subscriber's events go (an SSE response). */
export interface EventSink {
  /** Sends the entries, in order; false when the sink has given up (closed, or too slow). */
  send(entries: AuditEntry[]): boolean;
  /** The feed is going away (shutdown): end the stream so the client resumes elsewhere. */
  close(): void;
  /** The API key the stream was opened with is revoked: end it, for good. */
  revoked(): void;
}

interface Subscription {
  viewer: Subscriber;
  filters: EventFilters;
  sink: EventSink;
  /** The position of the last entry this subscriber has been sent (or chose to start after). */
  cursor: LogPosition;
  /** Batches that arrived while it caught up from the table, sent once it has. */
  held?: PositionedEntry[][];
  /**
   * Entries already committed when a subscriber asked only for new ones, but not yet read by the
   * feed (an older transaction still running kept them back): not new to it.
   */
  old?: Set<number>;
  closed: boolean;
}

/** Entries kept in memory, so that a client reconnecting after a short drop needs no query. */
const WINDOW_SIZE = 2000;
/** Entries read from the table per statement. */
const BATCH = 500;
/**
 * How soon to look again when committed entries wait behind an older transaction still running
 * (their NOTIFY has come and gone): doubling from the first to the last while they wait.
 */
const PENDING_RETRY_MS = { first: 10, last: 1000 };
/** At most this many committed-but-unread entries are remembered as old for a new subscriber. */
const OLD_LIMIT = 10_000;

const matches = (f: EventFilters, { entry: e }: PositionedEntry): boolean =>
  (f.project === undefined || e.project_slug === f.project) &&
  (f.taskId === undefined || e.task_id === f.taskId) &&
  (f.actorType === undefined || e.actor_type === f.actorType) &&
  (f.action === undefined || e.action === f.action);

const pairKey = (viewer: string, slug: string) => `${viewer}\u0000${slug}`;

/**
 * Whether the entry revokes the API key the subscriber streams with: the key's own `key_revoked`,
 * or its worker's `worker_deleted` (which revokes every key of the worker in the same
 * transaction). Whatever the subscriber's filters and visibility: it need not see the entry to
 * lose its key. Every replica's feed reads every entry, so a revocation on one replica ends the
 * key's streams on all of them.
 */
const revokes = (subscriber: Subscriber, { entry: e }: PositionedEntry): boolean =>
  subscriber.keyId !== undefined &&
  ((e.action === 'key_revoked' && e.context?.key_id === subscriber.keyId) ||
    (e.action === 'worker_deleted' && e.context?.worker_id === subscriber.id));

/**
 * The replica's view of the event log (the audit log). It wakes on NOTIFY (and on a slow poll,
 * in case one was missed), reads the new final entries once for all its subscribers, keeps the
 * latest in a window, and hands each subscriber the ones it may see and asked for.
 *
 * It follows the log in (transaction, id) order and reads only entries whose transactions are
 * all finished (`AuditEntryRepository.settledAfter`), so "everything after the last position
 * read" never skips an entry that commits late, on any replica, and every replica and every
 * resume sends the same entries in the same order. See `LogPosition` and docs/events.md.
 */
@Injectable()
export class EventFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventFeed');
  private readonly subscriptions = new Set<Subscription>();
  /** The last position read from the table: every entry up to it has been fanned out. */
  private lastPos?: LogPosition;
  /** The window holds every entry with a position in (windowFloor, lastPos]. */
  private window: PositionedEntry[] = [];
  private windowFloor?: LogPosition;
  /** New entries were announced while nobody was subscribed, and not read (see `notified`). */
  private stale = false;
  private pendingRetry?: NodeJS.Timeout;
  private pendingDelay = PENDING_RETRY_MS.first;
  private reading = false;
  /** The read in progress (resolves, never rejects). */
  private reads: Promise<void> = Promise.resolve();
  private readAgain = false;
  private poll?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly entries: AuditEntryRepository,
    private readonly projects: ProjectRepository,
    private readonly keys: ApiKeyRepository,
    private readonly listener: NotificationListener,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get started(): boolean {
    return this.lastPos !== undefined;
  }

  get subscribers(): number {
    return this.subscriptions.size;
  }

  /** Knows where the log ends before the app serves (when the database is up by then). */
  async onApplicationBootstrap(): Promise<void> {
    this.listener.listen(EVENTS_CHANNEL, {
      notified: () => this.notified(),
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
    if (this.pendingRetry) clearTimeout(this.pendingRetry);
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
   * Starts sending `viewer` the entries matching `filters`: those after entry `after` first (from
   * the window, else from the table), then each new one as it becomes final. Without `after`,
   * only new ones. Returns the function that stops it.
   */
  async subscribe(
    viewer: Subscriber,
    filters: EventFilters,
    after: number | undefined,
    sink: EventSink,
  ): Promise<() => void> {
    this.assertReady();
    // Announced entries nobody read: move the end past them first, so that a subscriber
    // without `after` gets only what follows, and one with `after` catches up from the table.
    while (this.stale) {
      this.wake();
      await this.reads;
    }
    const through = this.lastPos!;
    const subscription: Subscription = {
      viewer,
      filters,
      sink,
      cursor: through,
      held: [],
      closed: false,
    };
    // Registered before the next await: every batch read from now on reaches it (held until
    // the catch-up is done), and the catch-up covers everything up to `through`.
    this.subscriptions.add(subscription);
    const stop = () => {
      subscription.closed = true;
      this.subscriptions.delete(subscription);
    };
    try {
      // A key revoked before `through` (the guard trusts a checked key for a moment, and its
      // revocation may have been read already): the table says so. One revoked later is read
      // by the feed, which now reaches this subscription.
      if (viewer.keyId !== undefined && (await this.keys.isRevoked(viewer.keyId))) {
        this.revoke(subscription);
        return stop;
      }
      if (after !== undefined) subscription.cursor = await this.entries.positionOf(after);
      else subscription.old = new Set(await this.entries.committedAfter(through, OLD_LIMIT));
      if (isAfter(through, subscription.cursor)) await this.catchUp(subscription, through);
      for (const batch of subscription.held ?? []) this.send(subscription, batch);
      subscription.held = undefined;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  private async catchUp(subscription: Subscription, through: LogPosition): Promise<void> {
    if (this.windowFloor && comparePositions(subscription.cursor, this.windowFloor) >= 0) {
      const recent = this.window.filter(
        (e) => isAfter(e.position, subscription.cursor) && !isAfter(e.position, through),
      );
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

  /** Ends a subscription whose key is revoked. */
  private revoke(subscription: Subscription): void {
    subscription.closed = true;
    this.subscriptions.delete(subscription);
    subscription.sink.revoked();
  }

  /** Sends what lies after the subscriber's cursor; drops a subscriber that gave up. */
  private send(subscription: Subscription, entries: PositionedEntry[]): boolean {
    if (subscription.closed) return false;
    const fresh = entries.filter(
      (e) => isAfter(e.position, subscription.cursor) && !subscription.old?.has(e.entry.id),
    );
    if (fresh.length === 0) return true;
    subscription.cursor = fresh[fresh.length - 1].position;
    const shown = fresh.map((e) => chainShownTo(subscription.viewer, e.entry));
    if (subscription.sink.send(shown)) return true;
    subscription.closed = true;
    this.subscriptions.delete(subscription);
    return false;
  }

  /**
   * A NOTIFY says an entry committed. With nobody subscribed on this replica there is no one to
   * read it for, so the feed only notes that its end is behind and drops its window: a write
   * then costs no read here, and the next subscriber moves the end first.
   */
  private notified(): void {
    if (this.subscriptions.size > 0 || this.reading || !this.started) {
      this.wake();
      return;
    }
    this.stale = true;
    this.window = [];
    this.windowFloor = this.lastPos;
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
      this.lastPos = await this.entries.settledEnd();
      this.windowFloor = this.lastPos;
      this.logger.log(`streaming events after entry ${this.lastPos.id}`);
    } else if (this.stale && this.subscriptions.size === 0) {
      // Nobody to read the announced entries for: skip them (never back: the end the table
      // gives can lie behind this one while an older transaction still runs).
      const end = await this.entries.settledEnd();
      if (isAfter(end, this.lastPos!)) this.lastPos = end;
      this.window = [];
      this.windowFloor = this.lastPos;
    }
    this.stale = false;
    for (;;) {
      const { entries: batch, pending } = await this.entries.settledAfter(this.lastPos!, BATCH);
      if (batch.length > 0) {
        this.remember(batch);
        // The subscribers of this batch are those registered now; any later one catches up to
        // at least this batch's last position by itself.
        const audience = [...this.subscriptions];
        await this.fanOut(audience, batch);
      }
      if (batch.length < BATCH) {
        this.lookAgainIf(pending);
        return;
      }
    }
  }

  /**
   * Entries that committed behind an older transaction still running became final without a
   * NOTIFY of their own (theirs came while they could not be read yet): look again shortly.
   */
  private lookAgainIf(pending: boolean): void {
    if (!pending) {
      this.pendingDelay = PENDING_RETRY_MS.first;
      return;
    }
    if (this.pendingRetry || this.stopped) return;
    this.pendingRetry = setTimeout(() => {
      this.pendingRetry = undefined;
      this.wake();
    }, this.pendingDelay);
    this.pendingRetry.unref();
    this.pendingDelay = Math.min(this.pendingDelay * 2, PENDING_RETRY_MS.last);
  }

  private remember(batch: PositionedEntry[]): void {
    this.lastPos = batch[batch.length - 1].position;
    this.window.push(...batch);
    const excess = this.window.length - WINDOW_SIZE;
    if (excess > 0) {
      this.windowFloor = this.window[excess - 1].position;
      this.window = this.window.slice(excess);
    }
  }

  private async fanOut(audience: Subscription[], batch: PositionedEntry[]): Promise<void> {
    if (audience.length === 0) return;
    const readable = await this.readable(audience, batch);
    for (const subscription of audience) {
      // Nothing after its key's revocation reaches a subscriber (the revocation itself does,
      // when it may see it and asked for it).
      const revokedAt = batch.findIndex((e) => revokes(subscription.viewer, e));
      const visible = batch
        .slice(0, revokedAt === -1 ? undefined : revokedAt + 1)
        .filter((e) => matches(subscription.filters, e) && readable(subscription.viewer, e));
      if (subscription.held) subscription.held.push(visible);
      else this.send(subscription, visible);
      if (revokedAt !== -1 && !subscription.closed) this.revoke(subscription);
    }
  }

  private async visibleTo(
    subscription: Subscription,
    entries: PositionedEntry[],
  ): Promise<PositionedEntry[]> {
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
    entries: PositionedEntry[],
  ): Promise<(viewer: Viewer, entry: PositionedEntry) => boolean> {
    const slugs = [
      ...new Set(
        entries.flatMap(({ entry: e }) => (e.project_slug === null ? [] : [e.project_slug])),
      ),
    ];
    const viewers = [...new Set(audience.filter((s) => !s.viewer.isAdmin).map((s) => s.viewer.id))];
    const pairs =
      slugs.length > 0 && viewers.length > 0
        ? await this.projects.readablePairs(viewers, slugs)
        : [];
    const allowed = new Set(pairs.map((p) => pairKey(p.viewer, p.slug)));
    return (viewer, { entry }) =>
      withinAllowedProjects(viewer, entry.project_slug) &&
      (entry.project_slug === null ||
        viewer.isAdmin ||
        allowed.has(pairKey(viewer.id, entry.project_slug)));
  }
}
