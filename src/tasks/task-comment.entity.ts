import { ApiProperty } from '@nestjs/swagger';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { bigintAsNumber } from '../audit/audit-entry.entity';
import { COMMENT_MAX_LENGTH } from '../common/limits';
import { ACTOR_TYPES, WORKER_TYPES, WorkerType } from '../common/worker-types';
import { COMMENT_KINDS, CommentKind } from './task.enums';

/**
 * One comment on a task, as the API returns it. Append-only (a trigger refuses UPDATE and
 * DELETE, see the Collaboration migration): a correction is a new comment.
 */
@Entity({ name: 'task_comments' })
@Index('idx_task_comments_task', ['task_id', 'id'])
@Check('chk_task_comments_body_length', `char_length("body") BETWEEN 1 AND ${COMMENT_MAX_LENGTH}`)
export class TaskComment {
  @ApiProperty({ type: 'integer', example: 31 })
  @Column({
    type: 'bigint',
    primary: true,
    generated: 'identity',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_task_comments',
    transformer: bigintAsNumber,
  })
  id: number;

  @ApiProperty({ type: 'integer', example: 42 })
  @Column({ type: 'integer' })
  task_id: number;

  @ApiProperty({
    example: 'agent-claude-1',
    description: 'The worker id (JWT `sub`) who wrote it.',
  })
  @Column({ type: 'varchar', length: 255 })
  author_id: string;

  @ApiProperty({
    enum: WORKER_TYPES,
    enumName: 'WorkerType',
    example: 'agent',
    description: "Whether the author was a person or an agent (the worker registry's type).",
  })
  // The database type is the one the audit log's actor types share (it holds `system` too, which
  // never writes a comment); the column must name all of its values.
  @Column({ type: 'enum', enum: ACTOR_TYPES, enumName: 'worker_type' })
  author_type: WorkerType;

  @ApiProperty({ enum: COMMENT_KINDS, enumName: 'CommentKind', example: 'note' })
  @Column({ type: 'enum', enum: COMMENT_KINDS, enumName: 'comment_kind', default: 'note' })
  kind: CommentKind;

  @ApiProperty({ minLength: 1, maxLength: COMMENT_MAX_LENGTH, example: 'The tests pass locally.' })
  @Column({ type: 'text' })
  body: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: null,
    description: 'The comment of the same task this one answers, or null.',
  })
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  reply_to: number | null;

  @ManyToOne(() => TaskComment, { onDelete: 'NO ACTION', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'reply_to', foreignKeyConstraintName: 'fk_task_comments_reply_to' })
  replyTo?: TaskComment;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T21:02:11.120Z' })
  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}
