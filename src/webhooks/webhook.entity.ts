import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { AuditAction } from '../audit/audit-actions';

export const WEBHOOK_STATUSES = ['active', 'paused', 'failing'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** pg returns bigint as a string; audit ids stay far below 2^53. */
const bigintAsNumber = {
  to: (v: unknown) => v,
  from: (v: string | null) => (v === null ? v : Number(v)),
};

/**
 * A receiver of audit entries, and its place in the audit log (`cursor`): the outbox is the log
 * itself, read after the cursor. The lease columns say which replica delivers it right now
 * (see docs/webhooks.md); they never leave the server, nor does the secret after creation.
 */
@Entity({ name: 'webhooks' })
@Index('idx_webhooks_due', ['status', 'next_attempt_at'])
export class Webhook {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_webhooks' })
  id: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  /** Audit actions delivered; empty: all of them. */
  @Column({ type: 'varchar', length: 40, array: true, default: () => "'{}'" })
  events: AuditAction[];

  /** Only entries of this project; null: every entry. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  project: string | null;

  /** The HMAC key of the signatures; kept in clear because every delivery needs it. */
  @Column({ type: 'varchar', length: 200 })
  secret: string;

  @Column({ type: 'enum', enum: WEBHOOK_STATUSES, enumName: 'webhook_status', default: 'active' })
  status: WebhookStatus;

  /** Consecutive failed attempts; 0 after any success. */
  @Column({ type: 'integer', default: 0 })
  failure_count: number;

  /** The id of the last audit entry dealt with (delivered, or not matching the filter). */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  cursor: number;

  /** That entry's `tx_id`: the cursor's place in the log's delivery order (docs/events.md). */
  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  cursor_tx: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  next_attempt_at: Date;

  /** The claim of the replica delivering it; another may take over once it has expired. */
  @Column({ type: 'uuid', nullable: true })
  lease_token: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  lease_expires_at: Date | null;

  @Column({ type: 'varchar', length: 255 })
  created_by: string;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;
}
