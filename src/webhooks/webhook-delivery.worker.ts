import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { isAfter, type LogPosition } from '../audit/log-position';
import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-entry.entity';
import { ServiceUnavailableError } from '../common/errors/domain-errors';
import type { AppConfig, WebhookConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { DeliveryResult, send } from './webhook-sender';
import { deliveryId, signature } from './webhook-signature';
import type { Webhook } from './webhook.entity';
import { WebhookRepository } from './webhook.repository';

/** Entries read per claim; the lease is renewed after each one delivered. */
const BATCH = 50;
/** Webhooks this replica delivers to at the same time (each one in order, one call at a time). */
const LANES = 4;
/** How much longer than one HTTP call a lease lasts: room for the bookkeeping around it. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Delivers the audit log to the webhooks, in every replica. Each webhook is an outbox cursor
 * over the log; a replica claims a due webhook by taking its lease (`WebhookRepository.claim`,
 * FOR UPDATE SKIP LOCKED), posts the entries after the cursor one at a time in the log's order (docs/events.md), and
 * moves the cursor past each one only once the receiver answered 2xx, in the same statement that
 * records the attempt and renews the lease, and only while it still holds the lease.
 *
 * Why a lease and not a row lock held across the call: the lock would pin a pooled connection
 * and an open transaction for every call in flight, and a replica that hangs (rather than dies)
 * would hold its webhooks until its connection is killed. A lease costs no connection while the
 * receiver thinks, expires by itself when a replica dies or hangs, and is fenced by its token:
 * a replica that lost its lease can record nothing. It outlasts one call (timeout + margin), so a
 * live replica never loses it mid-call, and no two replicas ever post to one webhook at once.
 *
 * A replica that is stopped (SIGTERM, a rolling deploy) lets the call in flight finish, bounded
 * by WEBHOOK_TIMEOUT_MS, and records it before it lets go: cutting the call would leave a receiver
 * that had already answered 2xx to get the event again. What remains is a replica that dies
 * between a receiver's 2xx and the recording of it: the event is posted again, with the same
 * `X-TaskFlow-Delivery` (derived, not stored), which is what the receiver drops repeats by.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private readonly settings: WebhookConfig;
  private readonly leaseMs: number;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly webhooks: WebhookRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.settings = config.webhooks;
    this.leaseMs = config.webhooks.timeoutMs + LEASE_MARGIN_MS;
  }

  onApplicationBootstrap(): void {
    if (this.settings.pollIntervalMs > 0) this.schedule(0);
  }

  /**
   * Stops claiming and starting calls, and waits for the calls in flight to end (each bounded by
   * its timeout), be recorded and give their leases back. Runs before the database pool closes
   * (that is an application-shutdown hook), so the recording still has a connection.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.settings.pollIntervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await Promise.all(Array.from({ length: LANES }, () => this.lane()));
  }

  /** Claims and serves webhooks until none is due. */
  private async lane(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.serveOne())) return;
      } catch (error) {
        if (error instanceof ServiceUnavailableError) return; // the connector is retrying
        this.logger.warn({ err: error }, 'webhook delivery round failed; retrying next round');
        return;
      }
    }
  }

  /** One claimed webhook, up to BATCH entries; false when no webhook was due. */
  private async serveOne(): Promise<boolean> {
    const token = randomUUID();
    const webhook = await this.webhooks.claim(token, this.leaseMs);
    if (!webhook) return false;
    let cursor: LogPosition = { tx: webhook.cursor_tx, id: webhook.cursor };
    let holding = true;
    try {
      const { entries, head } = await this.webhooks.pendingEvents(webhook, BATCH);
      for (const { entry, position } of entries) {
        if (this.stopping) return true;
        const id = deliveryId(webhook.id, entry.id);
        const result = await this.post(webhook, entry, id);
        const attempt = {
          deliveryId: id,
          auditEntryId: entry.id,
          event: entry.action,
          statusCode: result.statusCode,
          error: result.error,
          latencyMs: result.latencyMs,
        };
        if (result.error === null) {
          holding = await this.webhooks.delivered(
            webhook.id,
            token,
            attempt,
            position,
            this.leaseMs,
          );
          if (!holding) return true;
          cursor = position;
        } else {
          holding = false; // `failed` gives the lease back with the next attempt's time
          await this.webhooks.failed(webhook.id, token, attempt, {
            baseMs: this.settings.backoffBaseMs,
            maxMs: this.settings.backoffMaxMs,
            maxFailures: this.settings.maxFailures,
          });
          return true;
        }
      }
      // Everything wanted up to `head` was delivered: what lies between is not wanted.
      if (entries.length < BATCH && isAfter(head, cursor)) cursor = head;
      return true;
    } finally {
      if (holding) await this.webhooks.release(webhook.id, token, cursor);
    }
  }

  private post(webhook: Webhook, entry: AuditEntry, id: string): Promise<DeliveryResult> {
    const body = JSON.stringify(entry);
    return send(
      {
        url: webhook.url,
        body,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'TaskFlow-Webhooks/1',
          'X-TaskFlow-Event': entry.action,
          'X-TaskFlow-Delivery': id,
          'X-TaskFlow-Signature': signature(webhook.secret, body, Math.floor(Date.now() / 1000)),
        },
      },
      { allowPrivate: this.settings.allowPrivate, timeoutMs: this.settings.timeoutMs },
    );
  }
}
