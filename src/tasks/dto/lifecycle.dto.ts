import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { IsOptionalNotNull, IsText, ToInteger } from '../../common/validation/decorators';

/**
 * `progress` and `block` take their fields as query parameters (as the seed did, handy from a
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
