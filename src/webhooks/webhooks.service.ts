import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { NotFoundError, ValidationFailedError } from '../common/errors/domain-errors';
import type { FieldChanges } from '../common/field-changes';
import { fieldChanges } from '../common/field-changes';
import { DEFAULT_PAGE_SIZE, Page, PaginationQuery } from '../common/pagination/pagination.query';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import {
  CreateWebhookDto,
  CreatedWebhook,
  UpdateWebhookDto,
  WEBHOOK_URL_MAX_LENGTH,
  WebhookView,
} from './dto/webhook.dto';
import { UnsafeDestinationError, resolveDestination } from './ssrf-guard';
import type { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import type { Webhook } from './webhook.entity';
import { WebhookChanges, WebhookRepository } from './webhook.repository';
import { generateSecret } from './webhook-signature';

const EDITABLE = ['url', 'events', 'project', 'status'] as const;

export const view = (w: Webhook): WebhookView => ({
  id: w.id,
  url: w.url,
  events: w.events,
  project: w.project,
  status: w.status,
  failure_count: w.failure_count,
  cursor: w.cursor,
  next_attempt_at: w.next_attempt_at,
  created_by: w.created_by,
  created_at: w.created_at,
  updated_at: w.updated_at,
});

/** Only the origin goes to the audit log, which every user reads: a path may hold a token. */
const originOf = (url: string) => new URL(url).origin;

/** The webhook as its `webhook_created` and `webhook_deleted` entries describe it. */
const snapshot = (w: Webhook) => ({
  webhook_id: w.id,
  url_origin: originOf(w.url),
  events: w.events,
  project: w.project,
  status: w.status,
});

const notFound = (id: string) => new NotFoundError(`Webhook ${id} not found`, 'webhook_not_found');

/**
 * Webhooks, for admins (the routes say so); delivery is `WebhookDeliveryWorker`'s. Their audit
 * entries are filed under the project a webhook watches: every user reads the audit log, and an
 * entry about no project would name a private project to all of them.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly trail: AuditTrail,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateWebhookDto, caller: AuthUser): Promise<CreatedWebhook> {
    const url = await this.checkedUrl(dto.url);
    const secret = dto.secret ?? generateSecret();
    const webhook = await this.webhooks.insert({
      id: randomUUID(),
      url,
      events: dto.events ?? [],
      project: dto.project ?? null,
      secret,
      status: dto.status ?? 'active',
      createdBy: caller.id,
    });
    this.trail.record({ projectSlug: webhook.project, context: snapshot(webhook) });
    // An instance, so that its secret is known as one (never stored for a replay).
    return Object.assign(new CreatedWebhook(), view(webhook), { secret });
  }

  list(query: PaginationQuery): Promise<Page<WebhookView>> {
    return this.webhooks
      .page(query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0)
      .then((page) => ({ items: page.items.map(view), total: page.total }));
  }

  async findOne(id: string): Promise<WebhookView> {
    const webhook = await this.webhooks.find(id);
    if (!webhook) throw notFound(id);
    return view(webhook);
  }

  async update(id: string, dto: UpdateWebhookDto): Promise<WebhookView> {
    // Resolved before the row is locked: a slow DNS answer must not hold the lock.
    const url = dto.url === undefined ? undefined : await this.checkedUrl(dto.url);
    const current = await this.webhooks.lock(id);
    if (!current) throw notFound(id);
    const sent = { ...dto, url };
    const { changes, values } = fieldChanges<Webhook, (typeof EDITABLE)[number]>(
      current,
      sent,
      EDITABLE,
    );
    const context: FieldChanges & { webhook_id?: string; secret_rotated?: true } = {};
    for (const [field, change] of Object.entries(changes)) {
      if (field === 'url') {
        context.url_origin = { from: originOf(current.url), to: originOf(values.url!) };
      } else {
        context[field] = change;
      }
    }
    const update: WebhookChanges = { ...values };
    if (dto.secret !== undefined && dto.secret !== current.secret) {
      update.secret = dto.secret;
      context.secret_rotated = true;
    }
    if (Object.keys(update).length === 0) {
      this.trail.unchanged();
      return view(current);
    }
    const updated = await this.webhooks.update(id, update);
    this.recordChange(id, current.project, updated.project, context);
    return view(updated);
  }

  /** A `failing` or `paused` webhook delivers again, from its cursor: nothing is skipped. */
  async resume(id: string): Promise<WebhookView> {
    const current = await this.webhooks.lock(id);
    if (!current) throw notFound(id);
    if (current.status === 'active') {
      this.trail.unchanged();
      return view(current);
    }
    const updated = await this.webhooks.update(id, { status: 'active' });
    this.trail.record({
      projectSlug: current.project,
      context: { webhook_id: id, status: { from: current.status, to: 'active' } },
    });
    return view(updated);
  }

  async remove(id: string): Promise<void> {
    const deleted = await this.webhooks.delete(id);
    if (!deleted) throw notFound(id);
    this.trail.record({ projectSlug: deleted.project, context: snapshot(deleted) });
  }

  /**
   * Records an update under the project the webhook watches (else the one it stopped watching),
   * so that only readers of that project read an entry naming it. A move from one project to
   * another is recorded as two entries, leaving the first and joining the second, each under its
   * own project: one entry would name one of them to readers of the other only.
   */
  private recordChange(
    id: string,
    before: string | null,
    after: string | null,
    context: Record<string, unknown>,
  ): void {
    if (before === null || after === null || before === after) {
      this.trail.record({ projectSlug: after ?? before, context: { webhook_id: id, ...context } });
      return;
    }
    this.trail.record({
      projectSlug: before,
      context: { webhook_id: id, project: { from: before, to: null } },
    });
    this.trail.record({
      projectSlug: after,
      context: { webhook_id: id, ...context, project: { from: null, to: after } },
    });
  }

  async deliveriesOf(id: string, query: PaginationQuery): Promise<Page<WebhookDelivery>> {
    if (!(await this.webhooks.find(id))) throw notFound(id);
    return this.deliveries.page(id, query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0);
  }

  /**
   * The URL as it will be stored, refused (422 on `url`) unless it is plain http(s) without
   * credentials and its host resolves only to addresses a webhook may reach. Delivery checks
   * the address again (the name may resolve elsewhere by then).
   */
  private async checkedUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw ValidationFailedError.field('url', 'url must be an absolute http or https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw ValidationFailedError.field('url', 'url must be an http or https URL');
    }
    if (url.username || url.password) {
      throw ValidationFailedError.field(
        'url',
        'url must not hold a user or password; authenticate with the signature',
      );
    }
    try {
      await resolveDestination(url.hostname, this.config.webhooks.allowPrivate);
    } catch (error) {
      if (error instanceof UnsafeDestinationError) {
        throw ValidationFailedError.field('url', `url refused: ${error.message}`);
      }
      throw error;
    }
    const normalised = url.toString();
    if (normalised.length > WEBHOOK_URL_MAX_LENGTH) {
      throw ValidationFailedError.field(
        'url',
        `url must be at most ${WEBHOOK_URL_MAX_LENGTH} characters once normalised`,
      );
    }
    return normalised;
  }
}
