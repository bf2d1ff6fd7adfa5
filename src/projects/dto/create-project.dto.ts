import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import {
  PROJECT_VISIBILITIES,
  ProjectVisibility,
  REVIEW_POLICIES,
  ReviewPolicy,
} from '../../access/project-access';
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

  @ApiPropertyOptional({
    enum: REVIEW_POLICIES,
    enumName: 'ReviewPolicy',
    default: 'other',
    description:
      '`other`: anyone but the assignee signs off work in review. `human`: work held by an agent is signed off by a person only, and the agent cannot complete it without review.',
  })
  @IsOptionalNotNull()
  @IsIn(REVIEW_POLICIES, { message: `review_policy must be one of ${REVIEW_POLICIES.join(', ')}` })
  review_policy?: ReviewPolicy;
}
