import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ListAuditQuery } from '../../audit/dto/list-audit.query';
import { IsOptionalNotNull } from '../../common/validation/decorators';
import { ACTOR_TYPES, ActorType } from '../../common/worker-types';

export const SUMMARY_GROUPINGS = ['actor_type', 'worker'] as const;
export type SummaryGroupingName = (typeof SUMMARY_GROUPINGS)[number];

/** `GET /api/analytics/summary`: the audit search's `project`, `since` and `until`, and a grouping. */
export class AnalyticsSummaryQuery extends PickType(ListAuditQuery, [
  'project',
  'since',
  'until',
] as const) {
  @ApiPropertyOptional({
    enum: SUMMARY_GROUPINGS,
    default: 'actor_type',
    description: 'One group per actor type (`human`, `agent`, `system`) or per worker.',
  })
  @IsOptionalNotNull()
  @IsIn(SUMMARY_GROUPINGS, { message: `group_by must be one of ${SUMMARY_GROUPINGS.join(', ')}` })
  group_by?: SummaryGroupingName;
}

export class AnalyticsGroup {
  @ApiProperty({
    example: 'agent',
    description: 'The actor type, or the worker id (JWT `sub`) when grouped by worker.',
  })
  key: string;

  @ApiProperty({ enum: ACTOR_TYPES, enumName: 'ActorType' })
  actor_type: ActorType;

  @ApiProperty({ type: 'integer', example: 12, description: 'Completions in the window.' })
  completed: number;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 5400,
    description: 'Median cycle time (nearest rank); null without completions.',
  })
  cycle_time_p50_seconds: number | null;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 86400,
    description: '90th percentile cycle time (nearest rank); null without completions.',
  })
  cycle_time_p90_seconds: number | null;

  @ApiProperty({
    type: 'integer',
    example: 1,
    description: "`rejected` reviews of the group's work.",
  })
  review_rejections: number;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: '`failed` attempts the group recorded.',
  })
  failures: number;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 1.17,
    description: '(failures + completed) / completed; null without completions.',
  })
  attempts_per_completion: number | null;

  @ApiProperty({ type: 'integer', format: 'int64', example: 120000 })
  input_tokens: number;

  @ApiProperty({ type: 'integer', format: 'int64', example: 8000 })
  output_tokens: number;

  @ApiProperty({
    example: '1.234500',
    pattern: '^[0-9]+(\\.[0-9]+)?$',
    description: 'Exact decimal sum of the reported costs, in US dollars.',
  })
  cost_usd: string;
}

export class AnalyticsSummary {
  @ApiProperty({ type: String, format: 'date-time', description: 'Window start (included).' })
  since: Date;

  @ApiProperty({ type: String, format: 'date-time', description: 'Window end (excluded).' })
  until: Date;

  @ApiProperty({ enum: SUMMARY_GROUPINGS })
  group_by: SummaryGroupingName;

  @ApiProperty({ type: String, nullable: true, example: 'backend' })
  project: string | null;

  @ApiProperty({ type: [AnalyticsGroup], description: 'One entry per group with any activity.' })
  groups: AnalyticsGroup[];
}
