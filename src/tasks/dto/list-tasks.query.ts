import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import { MAX_INT32 } from '../../common/limits';
import { CursorPaginationQuery } from '../../common/pagination/pagination.query';
import {
  IsOptionalNotNull,
  IsText,
  IsValidDate,
  ToBoolean,
  ToInteger,
  ToStringList,
  ToUtcDate,
} from '../../common/validation/decorators';
import {
  MAX_TAGS,
  TAG_PATTERN,
  TASK_PRIORITIES,
  TASK_SORTS,
  TASK_STATUSES,
  TaskPriority,
  TaskStatus,
} from '../task.enums';

export class ListTasksQuery extends CursorPaginationQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES, enumName: 'TaskStatus' })
  @IsOptionalNotNull()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;

  @ApiPropertyOptional({ enum: TASK_PRIORITIES, enumName: 'TaskPriority' })
  @IsOptionalNotNull()
  @IsIn(TASK_PRIORITIES, { message: `priority must be one of ${TASK_PRIORITIES.join(', ')}` })
  priority?: TaskPriority;

  @ApiPropertyOptional({ description: 'Worker id (JWT `sub`) the task is assigned to.' })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 255 })
  assigned_to?: string;

  @ApiPropertyOptional({ description: 'Project slug.', example: 'website' })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 100 })
  project?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_INT32,
    description: 'Only the direct subtasks of this task.',
  })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_INT32)
  parent_id?: number;

  @ApiPropertyOptional({
    description: 'Text to find in the title or description (case-insensitive).',
    maxLength: 200,
  })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 200 })
  q?: string;

  @ApiPropertyOptional({
    enum: TASK_SORTS,
    default: 'id',
    description: 'Sort field; prefix with `-` for descending. Ties are broken by id.',
  })
  @IsOptionalNotNull()
  @IsIn(TASK_SORTS, { message: `sort must be one of ${TASK_SORTS.join(', ')}` })
  sort?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description:
      '`true`: only tasks whose dependencies are all completed; `false`: only tasks still blocked by one.',
  })
  @IsOptionalNotNull()
  @ToBoolean()
  @IsBoolean({ message: 'ready must be true or false' })
  ready?: boolean;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: TAG_PATTERN.source },
    maxItems: MAX_TAGS,
    description:
      'Only tasks carrying every one of these tags (repeat the key, or separate with commas).',
  })
  @IsOptionalNotNull()
  @ToStringList()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be a valid tag' })
  tag?: string[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: TAG_PATTERN.source },
    maxItems: MAX_TAGS,
    description: 'Only tasks carrying at least one of these tags.',
  })
  @IsOptionalNotNull()
  @ToStringList()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @Matches(TAG_PATTERN, { each: true, message: 'each any_tag must be a valid tag' })
  any_tag?: string[];

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Only tasks completed at or after this instant.',
  })
  @IsOptionalNotNull()
  @ToUtcDate()
  @IsValidDate()
  completed_since?: Date;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Only tasks completed before this instant.',
  })
  @IsOptionalNotNull()
  @ToUtcDate()
  @IsValidDate()
  completed_until?: Date;
}
