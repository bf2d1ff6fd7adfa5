import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
} from 'class-validator';
import {
  EmptyStringToNull,
  IsOptionalNotNull,
  IsText,
  IsUsdAmount,
  IsValidDate,
  ToUtcDate,
} from '../../common/validation/decorators';
import {
  MAX_INT32,
  MAX_TOKENS,
  TASK_DESCRIPTION_MAX_LENGTH,
  TASK_TITLE_MAX_LENGTH,
  USD_AMOUNT_PATTERN,
} from '../../common/limits';
import { MAX_TAGS, TAG_PATTERN, TASK_PRIORITIES, TaskPriority, TaskStatus } from '../task.enums';

/** The statuses a task may be created in. */
export const INITIAL_STATUSES = ['pending', 'blocked'] as const satisfies readonly TaskStatus[];

export class CreateTaskDto {
  @ApiProperty({
    minLength: 1,
    maxLength: TASK_TITLE_MAX_LENGTH,
    example: 'Write the release notes',
  })
  @IsText({ min: 1, max: TASK_TITLE_MAX_LENGTH, nonBlank: true })
  title: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: TASK_DESCRIPTION_MAX_LENGTH,
    example: 'Cover the API changes.',
  })
  @EmptyStringToNull()
  @IsOptional()
  @IsText({ max: TASK_DESCRIPTION_MAX_LENGTH })
  description?: string | null;

  @ApiPropertyOptional({
    enum: INITIAL_STATUSES,
    default: 'pending',
    description: 'A new task waits (`pending`) or is `blocked`; work starts with a move.',
  })
  @IsOptionalNotNull()
  @IsIn(INITIAL_STATUSES, {
    message: `status must be one of ${INITIAL_STATUSES.join(', ')} when creating a task`,
  })
  status?: TaskStatus;

  @ApiPropertyOptional({ enum: TASK_PRIORITIES, enumName: 'TaskPriority', default: 'medium' })
  @IsOptionalNotNull()
  @IsIn(TASK_PRIORITIES, { message: `priority must be one of ${TASK_PRIORITIES.join(', ')}` })
  priority?: TaskPriority;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 100, default: 0 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100)
  progress_percent?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 255,
    example: 'usr_7f3a',
    description: 'A worker id (JWT `sub`); `null` clears it.',
  })
  @EmptyStringToNull()
  @IsOptional()
  @IsText({ min: 1, max: 255 })
  assigned_to?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'website' })
  @EmptyStringToNull()
  @IsOptional()
  @IsText({ min: 1, max: 100 })
  project_slug?: string | null;

  // Older clients (and Swagger UI's prefilled forms) send 0 for "no parent": still accepted as
  // null, but left out of the schema so that generated types say what a new client should send.
  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 1,
    maximum: MAX_INT32,
    example: 7,
    description: 'An existing task, never this task or one of its descendants; `null` clears it.',
  })
  @Transform(({ value }: { value: unknown }) => (value === 0 ? null : value))
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT32)
  parent_id?: number | null;

  // `""` (an empty form field) is still accepted as null for older clients, but left out of the
  // schema: a `oneOf` with it made generated types `string | null | ''`.
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T17:00:00+01:00',
    description:
      'Any offset is accepted; stored and returned in UTC. Without an offset, UTC. `null` clears it.',
  })
  @EmptyStringToNull()
  @ToUtcDate()
  @IsOptional()
  @IsValidDate()
  due_date?: Date | null;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 20,
    example: ['python'],
    description:
      'What a worker needs to take it: claim-next offers it only to workers with all of them.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(20)
  @IsText({ min: 1, max: 100, nonBlank: true }, { each: true })
  required_capabilities?: string[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: TAG_PATTERN.source, maxLength: 50 },
    maxItems: MAX_TAGS,
    example: ['backend', 'release-1.4'],
    description: 'Labels to filter by: lowercase letters, digits and `-_.`, at most 20.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @ArrayUnique({ message: 'tags must not repeat a tag' })
  @Matches(TAG_PATTERN, {
    each: true,
    message:
      'each tag must be 1 to 50 lowercase letters, digits or -_. and start with a letter or digit',
  })
  tags?: string[];

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 20,
    default: 3,
    description:
      'How many failed attempts (`fail`, an expired lease, a timed-out claim) the task may have before it is `failed` and waits for a person to `retry` it.',
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(20)
  max_attempts?: number;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 60,
    maximum: 604_800,
    example: 3600,
    description:
      'The longest a claim may run, in seconds, before it counts as a failed attempt (`timed out`), heartbeats or not; `null`: no limit.',
  })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(604_800)
  timeout_seconds?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_TOKENS,
    example: 2_000_000,
    description:
      'Input plus output tokens the task may use: a usage report that leaves it over this blocks the task. `null`: no budget.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  budget_tokens?: number | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    pattern: USD_AMOUNT_PATTERN.source,
    example: '5.00',
    description:
      'US dollars the task may cost, an exact decimal string (a JSON number is read as the text it prints): a usage report that leaves it over this blocks the task. `null`: no budget.',
  })
  @IsOptional()
  @IsUsdAmount()
  budget_usd?: string | null;
}
