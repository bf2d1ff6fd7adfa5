import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_TOKENS, USD_AMOUNT_PATTERN } from '../../common/limits';
import { ValidationFailedError } from '../../common/errors/domain-errors';
import {
  IsOptionalNotNull,
  IsText,
  IsUsdAmount,
  ToInteger,
  ToStringList,
} from '../../common/validation/decorators';
import { TASK_PRIORITIES, TaskPriority } from '../task.enums';
import { HandoffBody } from './collaboration.dto';

/**
 * The inputs of the lifecycle routes. The JSON body is the documented form (these `…Body`
 * classes, in openapi.json). The query form (`?percent=60`) is still accepted for the seed's
 * clients, handy from a shell, but left out of the schema so that generated clients offer one
 * way only; `bodyOrQuery` merges the two. The `…Query` classes validate the same fields with
 * text turned into numbers, and carry no schema.
 */

/** One input from a lifecycle route's body and query: both may say a field, never differently. */
export function bodyOrQuery<T extends object>(body: T | undefined, query: T): T {
  const merged = { ...query } as Record<string, unknown>;
  for (const [field, value] of Object.entries(body ?? {})) {
    if (value === undefined) continue;
    const other = merged[field];
    if (other !== undefined && JSON.stringify(other) !== JSON.stringify(value)) {
      throw ValidationFailedError.field(
        field,
        `${field} is in both the JSON body and the query, with different values; send it once`,
      );
    }
    merged[field] = value;
  }
  return merged as T;
}

const Tokens = () => applyDecorators(IsInt(), Min(0), Max(MAX_TOKENS));

/** One usage report: `POST …/usage`, or `usage` with a heartbeat or a progress report. */
export class UsageBody {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'claude-sonnet-4' })
  @IsText({ min: 1, max: 100, nonBlank: true })
  model: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_TOKENS, example: 12_000 })
  @Tokens()
  input_tokens: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_TOKENS, example: 800 })
  @Tokens()
  output_tokens: number;

  @ApiPropertyOptional({
    type: String,
    pattern: USD_AMOUNT_PATTERN.source,
    example: '0.0480',
    description:
      'US dollars, exact: a decimal string (a JSON number is read as the text it prints, and refused in exponent form). Absent: not known.',
  })
  @IsOptionalNotNull()
  @IsUsdAmount()
  cost_usd?: string;
}

const Usage = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: UsageBody,
      description:
        'A usage report to record with this one (as `POST …/usage` would, after it): a report that leaves the task over a budget blocks it.',
    }),
    IsOptionalNotNull(),
    ValidateNested(),
    Type(() => UsageBody),
  );

const Percent = () => applyDecorators(IsOptionalNotNull(), IsInt(), Min(0), Max(100));
const Note = () => applyDecorators(IsOptionalNotNull(), IsText({ max: 1000 }));

export class ProgressBody {
  // Required by the schema. The validator lets it be missing only so that the query may carry
  // it; the controller refuses a request that has it in neither.
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100, example: 60 })
  @Percent()
  percent?: number;

  @ApiPropertyOptional({ maxLength: 1000, example: 'tests pass' })
  @Note()
  note?: string;

  @Usage()
  usage?: UsageBody;
}

export class ProgressQuery {
  @Percent()
  @ToInteger()
  percent?: number;

  @Note()
  note?: string;
}

const Reason = () => applyDecorators(IsOptionalNotNull(), IsText({ max: 1000 }));

export class BlockBody extends HandoffBody {
  @ApiPropertyOptional({ maxLength: 1000, example: 'waiting for the API key' })
  @Reason()
  reason?: string;
}

export class BlockQuery {
  @Reason()
  reason?: string;
}

const RejectReason = () =>
  applyDecorators(IsOptionalNotNull(), IsText({ min: 1, max: 1000, nonBlank: true }));

export class RejectBody {
  // Required by the schema; the validator lets it be missing only so that the query may carry
  // it, and the controller refuses a request that has it in neither.
  @ApiProperty({
    maxLength: 1000,
    example: 'the tests do not cover the empty list',
    description: 'What the assignee should change.',
  })
  @RejectReason()
  reason?: string;
}

export class RejectQuery {
  @RejectReason()
  reason?: string;
}

const LEASE = { minimum: 1, maximum: 86_400 };
const LeaseSeconds = () =>
  applyDecorators(IsOptionalNotNull(), IsInt(), Min(LEASE.minimum), Max(LEASE.maximum));

const ApiLeaseSeconds = () =>
  ApiPropertyOptional({
    type: 'integer',
    ...LEASE,
    example: 300,
    description:
      'Hold the task for this long; a heartbeat extends it. Once it runs out, anyone may claim the task again.',
  });

/** `lease_seconds` for start and heartbeat, 1 to 86 400. */
export class LeaseBody {
  @ApiLeaseSeconds()
  @LeaseSeconds()
  lease_seconds?: number;
}

/** `heartbeat`'s body: a lease, and a usage report to record with it. */
export class HeartbeatBody extends LeaseBody {
  @Usage()
  usage?: UsageBody;
}

export class LeaseQuery {
  @LeaseSeconds()
  @ToInteger()
  lease_seconds?: number;
}

const Project = () => applyDecorators(IsOptionalNotNull(), IsText({ min: 1, max: 100 }));
const MinPriority = () =>
  applyDecorators(
    IsOptionalNotNull(),
    IsIn(TASK_PRIORITIES, {
      message: `min_priority must be one of ${TASK_PRIORITIES.join(', ')}`,
    }),
  );
const Capabilities = () =>
  applyDecorators(
    IsOptionalNotNull(),
    IsArray(),
    ArrayMaxSize(50),
    IsText({ min: 1, max: 100, nonBlank: true }, { each: true }),
  );

/** claim-next's filters. */
export class ClaimNextBody {
  @ApiPropertyOptional({ description: 'Only tasks of this project.', example: 'website' })
  @Project()
  project?: string;

  @ApiPropertyOptional({
    enum: TASK_PRIORITIES,
    enumName: 'TaskPriority',
    description: 'Only tasks of at least this priority.',
  })
  @MinPriority()
  min_priority?: TaskPriority;

  @ApiPropertyOptional({
    type: [String],
    example: ['python', 'sql'],
    description:
      "Only tasks whose required capabilities are all among these and among the caller's registered ones: it narrows the registered set, never widens it. Default: the registered set.",
  })
  @Capabilities()
  capabilities?: string[];

  @ApiLeaseSeconds()
  @LeaseSeconds()
  lease_seconds?: number;
}

/**
 * The same filters in the query. `capabilities` is a list there too: repeat the key
 * (`?capabilities=python&capabilities=sql`) or separate with commas (`?capabilities=python,sql`).
 */
export class ClaimNextQuery {
  @Project()
  project?: string;

  @MinPriority()
  min_priority?: TaskPriority;

  @ToStringList()
  @Capabilities()
  capabilities?: string[];

  @LeaseSeconds()
  @ToInteger()
  lease_seconds?: number;
}

/** `fail`'s body. */
export class FailBody {
  @ApiProperty({
    minLength: 1,
    maxLength: 2000,
    example: 'the test suite timed out against the staging database',
    description: "What went wrong; kept as the task's `last_error`.",
  })
  @IsText({ min: 1, max: 2000, nonBlank: true })
  reason: string;

  @ApiPropertyOptional({
    default: true,
    description:
      'Whether another attempt may succeed. `false` fails the task for good (`failed`), attempts left or not.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  retryable?: boolean;
}
