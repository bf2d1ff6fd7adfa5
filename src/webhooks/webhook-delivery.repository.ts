import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import { TableRepository } from '../database/table-repository';
import { WebhookDelivery } from './webhook-delivery.entity';

type DeliveryRow = Omit<WebhookDelivery, 'id' | 'audit_entry_id'> & {
  id: string;
  audit_entry_id: string;
};

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: Number(row.id),
  webhook_id: row.webhook_id,
  delivery_id: row.delivery_id,
  audit_entry_id: Number(row.audit_entry_id),
  event: row.event,
  attempt: row.attempt,
  status_code: row.status_code,
  error: row.error,
  latency_ms: row.latency_ms,
  attempted_at: row.attempted_at,
});

/**
 * The `webhook_deliveries` table, read here; attempts are appended by `WebhookRepository`
 * together with the change to their webhook.
 */
@Injectable()
export class WebhookDeliveryRepository extends TableRepository<WebhookDelivery> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, WebhookDelivery);
  }

  /** One page of a webhook's attempts, oldest first, and how many there are. */
  async page(webhookId: string, limit: number, offset: number): Promise<Page<WebhookDelivery>> {
    const rows = await this.select<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id ASC LIMIT $2 OFFSET $3`,
      [webhookId, limit, offset],
    );
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM webhook_deliveries WHERE webhook_id = $1`,
      [webhookId],
    );
    return { items: rows.map(toDelivery), total };
  }
}
