import { ApiProperty } from '@nestjs/swagger';
import { Column, Entity, Index } from 'typeorm';
import { ACTOR_TYPES, ActorType } from '../common/worker-types';
import { AUDIT_ACTIONS, AuditAction } from './audit-actions';

/** pg returns bigint as a string; ids stay far below 2^53, so they are numbers in JSON. */
/** A `bigint` id as a number: ids stay far below 2^53. */
export const bigintAsNumber = {
  to: (v: unknown) => v,
  from: (v: string | null) => (v === null ? v : Number(v)),
};

/**
 * One recorded change. Written in the transaction of the change itself and never updated or
 * deleted (a trigger refuses both). `task_id` is a plain column, not a foreign key: deleting a
 * task must not touch its history.
 */
@Entity({ name: 'audit_entries' })
@Index('idx_audit_task', ['task_id', 'id'])
@Index('idx_audit_actor', ['actor_id', 'id'])
@Index('idx_audit_actor_type', ['actor_type', 'id'])
@Index('idx_audit_action', ['action', 'id'])
@Index('idx_audit_project', ['project_slug', 'id'])
@Index('idx_audit_timestamp', ['timestamp'])
@Index('idx_audit_tx', ['tx_id', 'id'])
// Partial and expression indexes, which TypeORM cannot describe: see the AuditHashChain migration.
@Index('uq_audit_task_chain', { synchronize: false })
@Index('uq_audit_worker_chain', { synchronize: false })
export class AuditEntry {
  @ApiProperty({ type: 'integer', example: 1017 })
  @Column({
    type: 'bigint',
    primary: true,
    generated: 'identity',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_audit_entries',
    transformer: bigintAsNumber,
  })
  id: number;

  @ApiProperty({ type: 'integer', nullable: true, example: 42 })
  @Column({ type: 'integer', nullable: true })
  task_id: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'website' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  project_slug: string | null;

  @ApiProperty({ example: 'agent-claude-1' })
  @Column({ type: 'varchar', length: 255 })
  actor_id: string;

  @ApiProperty({
    enum: ACTOR_TYPES,
    enumName: 'ActorType',
    example: 'agent',
    description:
      "The registered type of the actor (`human` when not registered), or `system` for the API's own sweeper (`system:sweeper`).",
  })
  @Column({ type: 'enum', enum: ACTOR_TYPES, enumName: 'worker_type' })
  actor_type: ActorType;

  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction', example: 'progressed' })
  @Column({ type: 'varchar', length: 40 })
  action: AuditAction;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    example: { percent: 60, note: 'tests pass' },
    description:
      '`updated`: `{field: {from, to}}` per changed field; `progressed`: `{percent, note}`; `blocked`: `{reason}`; `created`/`deleted`: the task as it was.',
  })
  @Column({ type: 'jsonb', nullable: true })
  context: Record<string, unknown> | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 200,
    example: 'taskflow-mcp/1.0.0 (claude-code)',
    description:
      'The client that made the change, from its `X-TaskFlow-Client` header; null when it sent none.',
  })
  @Column({ type: 'varchar', length: 200, nullable: true })
  client: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description:
      'The API key the change was made with (its `id`, as `GET /api/workers/{id}/keys` lists it); null when the caller used a login token.',
  })
  @Column({ type: 'uuid', nullable: true })
  key_id: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @Column({ type: 'timestamptz', default: () => 'now()' })
  timestamp: Date;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 7,
    description:
      "Position in its chain (the task's, or for entries about no task the worker's), from 1. Null, for anyone but an admin, on an entry about no task: that chain also holds entries the reader may not see.",
  })
  @Column({ type: 'integer' })
  chain_seq: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description:
      'The `hash` of the previous entry of the same chain; null for the first, and, for anyone but an admin, on an entry about no task (as `chain_seq`).',
  })
  @Column({ type: 'char', length: 64, nullable: true })
  prev_hash: string | null;

  @ApiProperty({
    example: '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752',
    description:
      'SHA-256 (hex) over the entry and `prev_hash`, computed by the database on insert; `GET /api/audit/verify` recomputes it.',
  })
  @Column({ type: 'char', length: 64 })
  hash: string;

  /**
   * The writing transaction's id: the log's delivery order is (tx_id, id) (docs/events.md). Not
   * part of the API: the repositories leave it out of every entry they answer.
   */
  @Column({
    type: 'bigint',
    default: () => 'audit_tx_id()',
    select: false,
  })
  tx_id?: string;
}
