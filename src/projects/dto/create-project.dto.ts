import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { PROJECT_VISIBILITIES, ProjectVisibility } from '../../access/project-access';
import { EmptyStringToNull, IsOptionalNotNull, IsText } from '../../common/validation/decorators';
import { PROJECT_SLUG_PATTERN, PROJECT_SLUG_RULE } from '../project-slug';

export class CreateProjectDto {
  @ApiProperty({
    pattern: PROJECT_SLUG_PATTERN.source,
    maxLength: 100,
    example: 'website',
    description: "The project's permanent name in URLs and in tasks' `project_slug`.",
  })
  @Matches(PROJECT_SLUG_PATTERN, { message: `slug must be ${PROJECT_SLUG_RULE}` })
  slug: string;

  @ApiProperty({ maxLength: 200, example: 'Website relaunch' })
  @IsText({ min: 1, max: 200, nonBlank: true })
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 10000, example: null })
  @EmptyStringToNull()
  @IsOptional()
  @IsText({ max: 10000 })
  description?: string | null;

  @ApiPropertyOptional({
    enum: PROJECT_VISIBILITIES,
    enumName: 'ProjectVisibility',
    default: 'internal',
    description:
      '`internal`: every authenticated user reads, members write; `private`: only members read and write.',
  })
  @IsOptionalNotNull()
  @IsIn(PROJECT_VISIBILITIES, {
    message: `visibility must be one of ${PROJECT_VISIBILITIES.join(', ')}`,
  })
  visibility?: ProjectVisibility;
}
