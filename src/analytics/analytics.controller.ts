import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/openapi/api-errors.decorator';
import { AnalyticsService, DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from './analytics.service';
import { AnalyticsSummary, AnalyticsSummaryQuery } from './dto/analytics-summary.dto';

/** `/api/analytics`: figures comparing people's and agents' work, read from the audit log. */
@ApiTags('analytics')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('summary')
  @ApiOperation({
    summary: 'Completions, cycle times, rejections, failures and cost per group',
    description: `Over the window [since, until): \`until\` defaults to now, \`since\` to ${DEFAULT_WINDOW_DAYS} days before it, and the window spans at most ${MAX_WINDOW_DAYS} days. Counts only tasks the caller may read. Definitions: docs/analytics.md.`,
  })
  @ApiOkResponse({
    type: AnalyticsSummary,
    description: 'The window, the grouping and one entry per group',
  })
  @ApiErrors(422)
  summary(
    @Query() query: AnalyticsSummaryQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<AnalyticsSummary> {
    return this.analytics.summary(query, user);
  }
}
