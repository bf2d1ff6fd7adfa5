import { ApiProperty } from '@nestjs/swagger';
import { Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { AUDIT_ACTIONS, AuditAction } from '../audit/audit-actions';
import { Webhook } from './webhook.entity';

const bigintAsNumber = {
  to: (v: unknown) => v,
  from: (v: string | null) => (v === null ? v : Number(v)),
};

/** One attempt to deliver one audit entry to one webhook. */
@Entity({ name: 'webhook_deliveries' })
@Index('idx_webhook_deliveries_webhook', ['webhook_id', 'id'])
@Unique('uq_webhook_deliveries_attempt', ['delivery_id', 'attempt'])
// Partial: at most one successful attempt per delivery (created in SQL, see the Webhooks migration).
@Index('uq_webhook_deliveries_success', { synchronize: false })
export class WebhookDelivery {
  @ApiProperty({ type: 'integer', example: 311, description: 'The id of this attempt.' })
  @Column({
    type: 'bigint',
    primary: true,
    generated: 'identity',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_webhook_deliveries',
    transformer: bigintAsNumber,
  })
  id: number;

  @ApiProperty({ format: 'uuid', example: '0b1c9a52-1f0e-4a47-9d51-6b0f2f1c5e2a' })
  @Column({ type: 'uuid' })
  webhook_id: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_webhook_deliveries_webhook' })
  webhook?: Webhook;

  @ApiProperty({
    format: 'uuid',
    example: '5f1c6e0e-39a4-5c1e-8a57-2f7a4b1d9c33',
    description:
      'The `X-TaskFlow-Delivery` header: the same for every attempt at one event, so the receiver can drop a repeat.',
  })
  @Column({ type: 'uuid' })
  delivery_id: string;

  @ApiProperty({ type: 'integer', example: 1017, description: 'The event: an audit entry id.' })
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  audit_entry_id: number;

  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction', example: 'completed' })
  @Column({ type: 'varchar', length: 40 })
  event: AuditAction;

  @ApiProperty({ type: 'integer', example: 1, description: 'From 1, per event.' })
  @Column({ type: 'integer' })
  attempt: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 200,
    description: "The receiver's status; null when no answer came.",
  })
  @Column({ type: 'integer', nullable: true })
  status_code: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Why the attempt failed; null on success.',
  })
  @Column({ type: 'varchar', length: 500, nullable: true })
  error: string | null;

  @ApiProperty({ type: 'integer', example: 42, description: 'Milliseconds until the answer.' })
  @Column({ type: 'integer' })
  latency_ms: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @Column({ type: 'timestamptz', default: () => 'now()' })
  attempted_at: Date;
}
