import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, Max, Min } from 'class-validator';
import { IsOptionalNotNull, IsText, ToInteger } from '../../common/validation/decorators';
import { TASK_PRIORITIES, TaskPriority } from '../task.enums';

/**
 * `progress`, `block` and `reject` take their fields as query parameters (as the seed did, handy from a
 * shell or Swagger) or in a JSON body (handy for typed clients); the controller merges the two.
 * The query spelling differs only in turning the text "60" into a number.
 */
export class ProgressBody {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    example: 60,
    description: 'Required, here or in the query.',
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100)
  percent?: number;

  @ApiPropertyOptional({ maxLength: 1000, example: 'tests pass' })
  @IsOptionalNotNull()
  @IsText({ max: 1000 })
  note?: string;
}

export class ProgressQuery extends ProgressBody {
  @ToInteger()
  override percent?: number = undefined;
}

export class BlockBody {
  @ApiPropertyOptional({ maxLength: 1000, example: 'waiting for the API key' })
  @IsOptionalNotNull()
  @IsText({ max: 1000 })
  reason?: string;
}

export class BlockQuery extends BlockBody {}

export class RejectBody {
  @ApiPropertyOptional({
    maxLength: 1000,
    example: 'the tests do not cover the empty list',
    description: 'Required, here or in the query: what the assignee should change.',
  })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 1000, nonBlank: true })
  reason?: string;
}

export class RejectQuery extends RejectBody {}

const LEASE = { minimum: 1, maximum: 86_400 };

/** `lease_seconds`, 1 to 86 400. */
const LeaseSeconds = () =>
  applyDecorators(
    ApiPropertyOptional({
      ...LEASE,
      example: 300,
      description:
        'Hold the task for this long; a heartbeat extends it. Once it runs out, anyone may claim the task again.',
    }),
    IsOptionalNotNull(),
    IsInt(),
    Min(LEASE.minimum),
    Max(LEASE.maximum),
  );

/** `lease_seconds` for start and heartbeat, in a JSON body… */
export class LeaseBody {
  @LeaseSeconds()
  lease_seconds?: number;
}

/** …or in the query. */
export class LeaseQuery {
  @LeaseSeconds()
  @ToInteger()
  lease_seconds?: number;
}

const CAPABILITIES_DESCRIPTION =
  "Only tasks whose required capabilities are all among these and among the caller's registered ones: it narrows the registered set, never widens it. Default: the registered set.";

/** The filters of claim-next common to both spellings. */
class ClaimFilters {
  @ApiPropertyOptional({ description: 'Only tasks of this project.', example: 'website' })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 100 })
  project?: string;

  @ApiPropertyOptional({
    enum: TASK_PRIORITIES,
    enumName: 'TaskPriority',
    description: 'Only tasks of at least this priority.',
  })
  @IsOptionalNotNull()
  @IsIn(TASK_PRIORITIES, { message: `min_priority must be one of ${TASK_PRIORITIES.join(', ')}` })
  min_priority?: TaskPriority;
}

const Capabilities = () =>
  applyDecorators(
    IsOptionalNotNull(),
    IsArray(),
    ArrayMaxSize(50),
    IsText({ min: 1, max: 100, nonBlank: true }, { each: true }),
  );

/** claim-next's filters in a JSON body. */
export class ClaimNextBody extends ClaimFilters {
  @ApiPropertyOptional({
    type: [String],
    example: ['python', 'sql'],
    description: CAPABILITIES_DESCRIPTION,
  })
  @Capabilities()
  capabilities?: string[];

  @LeaseSeconds()
  lease_seconds?: number;
}

/** claim-next's filters in the query: `capabilities` comma-separated, numbers as text. */
export class ClaimNextQuery extends ClaimFilters {
  @ApiPropertyOptional({
    type: String,
    example: 'python,sql',
    description: `Comma-separated. ${CAPABILITIES_DESCRIPTION}`,
  })
  @Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean)
      : value,
  )
  @Capabilities()
  capabilities?: string[];

  @LeaseSeconds()
  @ToInteger()
  lease_seconds?: number;
}
