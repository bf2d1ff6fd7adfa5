import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { MAX_INT32 } from '../limits';
import { IsOptionalNotNull, IsText, ToInteger } from '../validation/decorators';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/**
 * A list that pages by cursor counts its matches exactly up to this many; beyond, the count is
 * the planner's estimate (flagged), unless `count=exact` asks for the full count.
 */
export const EXACT_COUNT_UP_TO = 1000;

/** `limit` 1–100 (default 50) and `offset` ≥ 0, shared by every list route. */
export class PaginationQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
  })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_INT32,
    default: 0,
    description:
      'How many matches to skip. The server still reads every skipped row, so deep pages get slower as the offset grows; a list that answers a `Link` header pages faster by following its `next` cursor.',
  })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  offset?: number;
}

export const COUNT_MODES = ['exact'] as const;

/** A list paged by cursor: `cursor` from the `Link` header, and `count`. */
export class CursorPaginationQuery extends PaginationQuery {
  @ApiPropertyOptional({
    description:
      'Where the page starts: the `cursor` of the previous page\'s `Link: <…>; rel="next"`, with the same filters and sort (422 `cursor_mismatch` otherwise, `invalid_cursor` for one this API did not give). Cannot be combined with `offset`.',
    maxLength: 1000,
  })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 1000 })
  cursor?: string;

  @ApiPropertyOptional({
    enum: COUNT_MODES,
    description: `\`exact\`: \`X-Total-Count\` counts every match, however many (slow on big lists). Without it the count is exact up to ${EXACT_COUNT_UP_TO} matches and an estimate beyond, flagged by \`X-Total-Count-Estimated: true\`.`,
  })
  @IsOptionalNotNull()
  @IsIn(COUNT_MODES, { message: 'count must be exact' })
  count?: (typeof COUNT_MODES)[number];
}

/** One page of a list, and how many items match in all (the `X-Total-Count` header). */
export interface Page<T> {
  items: T[];
  total: number;
  /** The total is the planner's estimate, not a count (`X-Total-Count-Estimated: true`). */
  totalEstimated?: boolean;
  /** The cursor of the next page (`Link: <…>; rel="next"`); absent on the last page. */
  next?: string;
}
