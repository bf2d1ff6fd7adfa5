import { ApiProperty } from '@nestjs/swagger';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Project } from '../access/project.entity';
import {
  ARTIFACT_KINDS,
  ArtifactKind,
  TASK_PRIORITIES,
  TASK_STATUSES,
  TaskPriority,
  TaskStatus,
} from './task.enums';
import {
  ARTIFACT_TITLE_MAX_LENGTH,
  ARTIFACT_URL_MAX_LENGTH,
  COMMENT_MAX_LENGTH,
  MAX_ARTIFACTS,
  USD_AMOUNT_PATTERN,
} from '../common/limits';

/** One thing the work produced, linked from the task. */
export class Artifact {
  @ApiProperty({ enum: ARTIFACT_KINDS, enumName: 'ArtifactKind', example: 'pr' })
  kind: ArtifactKind;

  @ApiProperty({
    maxLength: ARTIFACT_URL_MAX_LENGTH,
    example: 'https://github.com/acme/site/pull/7',
    description: 'http or https; a task has one artifact per URL.',
  })
  url: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: ARTIFACT_TITLE_MAX_LENGTH,
    example: 'Fix the login redirect',
  })
  title: string | null;

  @ApiProperty({ example: 'agent-claude-1', description: 'Who added (or last replaced) it.' })
  added_by: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T21:02:11.120Z' })
  added_at: string;
}

/** The newest hand-off comment of a task: what its last holder left for the next one. */
export interface LastHandoff {
  comment_id: number;
  author_id: string;
  body: string;
  created_at: string;
}
import { TaskUsage } from './task-usage';

/**
 * A task, exactly as the API returns it: property names are the contract's snake_case JSON fields,
 * so the row serialises without a mapping layer. The schema itself lives in migrations; the
 * indexes named here mirror them so that `migration:generate` stays empty.
 */
@Entity({ name: 'tasks' })
@Index('idx_tasks_status', ['status', 'id'])
@Index('idx_tasks_assigned_to', ['assigned_to', 'status'])
@Index('idx_tasks_parent_id', ['parent_id'])
@Index('idx_tasks_project_status_updated', ['project_slug', 'status', 'updated_at', 'id'])
@Index('idx_tasks_priority', ['priority', 'id'])
@Index('idx_tasks_created_at', ['created_at', 'id'])
@Index('idx_tasks_updated_at', ['updated_at', 'id'])
@Index('idx_tasks_due_date', ['due_date', 'id'])
@Index('idx_tasks_completed_at', ['completed_at', 'id'])
// GIN, which TypeORM cannot describe: see the ProjectsTagsAndTimes migration.
@Index('idx_tasks_tags', { synchronize: false })
// Partial indexes for claim-next (created in SQL: TypeORM cannot express their WHERE and DESC).
@Index('idx_tasks_claimable', { synchronize: false })
@Index('idx_tasks_lease', { synchronize: false })
@Index('idx_tasks_timeout', { synchronize: false })
// The inbox's questions waiting for an answer, by project (partial: see the InboxIndexes migration).
@Index('idx_tasks_awaiting_input', { synchronize: false })
// Trigram (GIN) indexes for `q`: created in SQL, which TypeORM cannot express, so it leaves them be.
@Index('idx_tasks_title_trgm', { synchronize: false })
@Index('idx_tasks_description_trgm', { synchronize: false })
@Check('chk_tasks_title_length', `char_length("title") BETWEEN 1 AND 200`)
@Check('chk_tasks_description_length', `char_length("description") <= 10000`)
@Check('chk_tasks_progress_range', `"progress_percent" BETWEEN 0 AND 100`)
@Check('chk_tasks_not_own_parent', `"parent_id" <> "id"`)
@Check('chk_tasks_artifacts_count', `jsonb_array_length("artifacts") <= ${MAX_ARTIFACTS}`)
@Check('chk_tasks_attempts', `"attempts" >= 0`)
@Check('chk_tasks_max_attempts', `"max_attempts" BETWEEN 1 AND 20`)
@Check('chk_tasks_timeout_seconds', `"timeout_seconds" BETWEEN 60 AND 604800`)
@Check('chk_tasks_last_error_length', `char_length("last_error") <= 2000`)
@Check('chk_tasks_budget_tokens', `"budget_tokens" >= 0`)
@Check('chk_tasks_budget_usd', `"budget_usd" >= 0`)
export class Task {
  @ApiProperty({ type: 'integer', example: 42, description: 'Server-owned.' })
  @PrimaryGeneratedColumn('identity', {
    type: 'integer',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_tasks',
  })
  id: number;

  @ApiProperty({ example: 'Write the release notes', minLength: 1, maxLength: 200 })
  @Column({ type: 'varchar', length: 200 })
  title: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 10_000,
    example: 'Cover the API changes.',
  })
  @Column({ type: 'text', nullable: true })
  description: string | null;

  @ApiProperty({ enum: TASK_STATUSES, enumName: 'TaskStatus', example: 'pending' })
  @Column({ type: 'enum', enum: TASK_STATUSES, enumName: 'task_status', default: 'pending' })
  status: TaskStatus;

  @ApiProperty({ enum: TASK_PRIORITIES, enumName: 'TaskPriority', example: 'medium' })
  @Column({ type: 'enum', enum: TASK_PRIORITIES, enumName: 'task_priority', default: 'medium' })
  priority: TaskPriority;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100, example: 0 })
  @Column({ type: 'smallint', default: 0 })
  progress_percent: number;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 255,
    example: 'usr_7f3a',
    description: 'A worker id (the JWT `sub`).',
  })
  @Column({ type: 'varchar', length: 255, nullable: true })
  assigned_to: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 100,
    example: 'website',
    description: 'The project the task belongs to; null for the shared board, open to everyone.',
  })
  @Column({ type: 'varchar', length: 100, nullable: true })
  project_slug: string | null;

  @ManyToOne(() => Project, { onDelete: 'RESTRICT', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'project_slug', foreignKeyConstraintName: 'fk_tasks_project' })
  project?: Project;

  @ApiProperty({ type: 'integer', nullable: true, example: null })
  @Column({ type: 'integer', nullable: true })
  parent_id: number | null;

  @ManyToOne(() => Task, { onDelete: 'RESTRICT', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'parent_id', foreignKeyConstraintName: 'fk_tasks_parent' })
  parent?: Task;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T17:00:00.000Z',
  })
  @Column({ type: 'timestamptz', nullable: true })
  due_date: Date | null;

  @ApiProperty({
    type: [String],
    example: ['python'],
    description:
      'What a worker needs to take this task: claim-next offers it only to callers with all of them.',
  })
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  required_capabilities: string[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description:
      'Server-owned. While in progress under a lease: when it runs out unless the holder sends a heartbeat. After that the task can be claimed again.',
  })
  @Column({ type: 'timestamptz', nullable: true })
  lease_expires_at: Date | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer' },
    example: [12, 15],
    description:
      'Server-owned: ids of the tasks this one is blocked by (its dependencies), completed or not.',
  })
  @Column({ type: 'integer', array: true, default: () => "'{}'" })
  blocked_by: number[];

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    example: 3,
    description:
      'Server-owned: one more on every change. The `ETag` of a task answer is `"<id>-<version>"`; send it back in `If-Match` to write only if nobody changed the task meanwhile.',
  })
  @Column({ type: 'integer', default: 1 })
  version: number;

  @ApiProperty({
    type: [String],
    example: ['backend', 'release-1.4'],
    description: 'Labels to filter by (`tag`, `any_tag`): lowercase, at most 20.',
  })
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags: string[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T21:02:11.120Z',
    description: 'Server-owned: when the task first went in progress.',
  })
  @Column({ type: 'timestamptz', nullable: true })
  started_at: Date | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'Server-owned: when the task was completed; cleared when it is reopened.',
  })
  @Column({ type: 'timestamptz', nullable: true })
  completed_at: Date | null;

  @ApiProperty({
    description:
      'Server-owned: true while the holder waits for an answer to its question (`POST /api/tasks/{id}/ask`); a comment of kind `answer` from someone else clears it. Its lease does not run out meanwhile.',
    example: false,
  })
  @Column({ type: 'boolean', default: false })
  awaiting_input: boolean;

  @ApiProperty({
    type: [Artifact],
    maxItems: MAX_ARTIFACTS,
    description: `What the work produced (\`POST /api/tasks/{id}/artifacts\`), oldest first; at most ${MAX_ARTIFACTS}.`,
  })
  @Column({ type: 'jsonb', default: () => "'[]'" })
  artifacts: Artifact[];

  // Spelled out rather than a `$ref`: OpenAPI 3.0 lets `nullable` apply only beside a `type`,
  // and a `$ref` (or `allOf` of one) would make `null` invalid.
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: false,
    properties: {
      comment_id: { type: 'integer', example: 31 },
      author_id: { type: 'string', example: 'agent-claude-1' },
      body: {
        type: 'string',
        maxLength: COMMENT_MAX_LENGTH,
        example: 'Migrations done; the API part is left.',
      },
      created_at: { type: 'string', format: 'date-time', example: '2026-11-26T21:02:11.120Z' },
    },
    required: ['comment_id', 'author_id', 'body', 'created_at'],
    description:
      'Server-owned: the newest hand-off note (a `handoff` comment, e.g. the `note` of a release), or null.',
  })
  @Column({ type: 'jsonb', nullable: true })
  last_handoff: LastHandoff | null;

  @ApiProperty({ example: 'usr_7f3a', description: "Server-owned: the creator's `sub`." })
  @Column({ type: 'varchar', length: 255 })
  created_by: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 0,
    description:
      'Server-owned: failed attempts since the task was created or last retried (`fail`, an expired lease, a timed-out claim).',
  })
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 20,
    example: 3,
    description:
      'Attempts the task may fail before it is `failed` and waits for a person to `retry` it.',
  })
  @Column({ type: 'smallint', default: 3 })
  max_attempts: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 60,
    maximum: 604_800,
    example: null,
    description:
      'The longest a claim may run, in seconds, before it counts as a failed attempt (`timed out`), heartbeats or not; null: no limit. A change applies from the next claim.',
  })
  @Column({ type: 'integer', nullable: true })
  timeout_seconds: number | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description:
      'Server-owned: after a retryable failure, the task is not offered or started before this time (exponential backoff with full jitter).',
  })
  @Column({ type: 'timestamptz', nullable: true })
  not_before: Date | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 2000,
    example: null,
    description: 'Server-owned: the reason of the last failed attempt.',
  })
  @Column({ type: 'text', nullable: true })
  last_error: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description:
      'Server-owned: while in progress with a `timeout_seconds`, when the current claim times out.',
  })
  @Column({ type: 'timestamptz', nullable: true })
  timeout_at: Date | null;

  @ApiProperty({
    type: TaskUsage,
    description:
      'Server-owned: every usage report on the task (`POST …/usage`, or `usage` with a heartbeat or progress report), summed.',
  })
  @Column({
    type: 'jsonb',
    // In jsonb's own key order, as PostgreSQL reports the default back.
    default: () => `'{"by_model": {}, "cost_usd": "0", "input_tokens": 0, "output_tokens": 0}'`,
  })
  usage: TaskUsage;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    example: null,
    description:
      'Input plus output tokens the task may use: a usage report that leaves it over this blocks the task (`budget exceeded`). Null: no budget.',
  })
  @Column({ type: 'bigint', nullable: true })
  budget_tokens: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    pattern: USD_AMOUNT_PATTERN.source,
    example: '5.000000',
    description:
      'US dollars the task may cost, an exact decimal string: a usage report that leaves `usage.cost_usd` over it blocks the task (`budget exceeded`). Null: no budget.',
  })
  @Column({ type: 'numeric', precision: 14, scale: 6, nullable: true })
  budget_usd: string | null;
}
