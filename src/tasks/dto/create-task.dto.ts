import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  EmptyStringToNull,
  IsOptionalNotNull,
  IsText,
  IsValidDate,
  ToUtcDate,
} from '../../common/validation/decorators';
import { TASK_PRIORITIES, TaskPriority, TaskStatus } from '../task.enums';

/** The statuses a task may be created in. */
export const INITIAL_STATUSES = ['pending', 'blocked'] as const satisfies readonly TaskStatus[];

export const MAX_INT32 = 2_147_483_647;

export class CreateTaskDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Write the release notes' })
  @IsText({ min: 1, max: 200, nonBlank: true })
  title: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 10_000,
    example: 'Cover the API changes.',
  })
  @EmptyStringToNull()
  @IsOptional()
  @IsText({ max: 10_000 })
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

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 0 })
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
    description: 'A worker id (JWT `sub`). `""` means null.',
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

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: null,
    description: 'An existing task, never this task or one of its descendants. `0` means null.',
  })
  @Transform(({ value }) => (value === 0 ? null : value))
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT32)
  parent_id?: number | null;

  @ApiPropertyOptional({
    // `""` (an empty form field) is accepted as null: documented, so that clients may rely on it.
    oneOf: [
      { type: 'string', format: 'date-time', nullable: true },
      { type: 'string', enum: [''] },
    ],
    example: '2026-12-01T17:00:00+01:00',
    description:
      'Any offset is accepted; stored and returned in UTC. Without an offset, UTC. `""` means null.',
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
}
