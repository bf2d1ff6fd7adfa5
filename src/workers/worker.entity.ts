import { ApiProperty } from '@nestjs/swagger';
import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { ACTOR_TYPES, WORKER_TYPES, WorkerType } from '../common/worker-types';

/** A registered worker: a human or an AI agent, identified by its JWT `sub`. */
@Entity({ name: 'workers' })
@Index('idx_workers_type', ['type', 'id'])
@Check('chk_workers_type', `"type"::text <> 'system'`)
export class Worker {
  @ApiProperty({ example: 'agent-claude-1', maxLength: 255, description: 'The JWT `sub`.' })
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_workers' })
  id: string;

  @ApiProperty({ example: 'Claude (triage)', maxLength: 200 })
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @ApiProperty({ enum: WORKER_TYPES, enumName: 'WorkerType', example: 'agent' })
  // The database enum is shared with the audit log's actor types; `system` is refused here.
  @Column({ type: 'enum', enum: ACTOR_TYPES, enumName: 'worker_type', default: 'human' })
  type: WorkerType;

  @ApiProperty({ type: [String], example: ['python', 'code-review'] })
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  capabilities: string[];

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}
