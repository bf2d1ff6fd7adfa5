import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_INT32 } from '../limits';
import { IsOptionalNotNull, ToInteger } from '../validation/decorators';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

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

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_INT32, default: 0 })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_INT32)
  offset?: number;
}

/** One page of a list, and how many items match in all (the `X-Total-Count` header). */
export interface Page<T> {
  items: T[];
  total: number;
}
