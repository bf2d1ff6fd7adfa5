import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { AnalyticsRepository, type SummaryRow } from './analytics.repository';
import {
  AnalyticsGroup,
  AnalyticsSummary,
  AnalyticsSummaryQuery,
} from './dto/analytics-summary.dto';

const DAY_MS = 86_400_000;
/** A summary without `since` covers the 30 days before `until`. */
export const DEFAULT_WINDOW_DAYS = 30;
/** The longest window: it bounds how much of the log one summary reads. */
export const MAX_WINDOW_DAYS = 366;

const toGroup = (row: SummaryRow): AnalyticsGroup => ({
  key: row.group_key,
  actor_type: row.actor_type,
  completed: row.completed,
  cycle_time_p50_seconds: row.cycle_time_p50_seconds,
  cycle_time_p90_seconds: row.cycle_time_p90_seconds,
  review_rejections: row.review_rejections,
  failures: row.failures,
  attempts_per_completion:
    row.completed === 0 ? null : (row.failures + row.completed) / row.completed,
  input_tokens: Number(row.input_tokens),
  output_tokens: Number(row.output_tokens),
  cost_usd: row.cost_usd,
});

/** Comparisons of people's and agents' work, from the audit log (docs/analytics.md). */
@Injectable()
export class AnalyticsService {
  constructor(private readonly analytics: AnalyticsRepository) {}

  async summary(query: AnalyticsSummaryQuery, viewer: AuthUser): Promise<AnalyticsSummary> {
    const until = query.until ?? new Date();
    const since = query.since ?? new Date(until.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
    if (since >= until) throw ValidationFailedError.field('since', 'since must be before until');
    if (until.getTime() - since.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
      throw ValidationFailedError.field(
        'since',
        `the window from since to until may span at most ${MAX_WINDOW_DAYS} days`,
      );
    }
    const groupBy = query.group_by ?? 'actor_type';
    const project = query.project ?? null;
    const rows = await this.analytics.summary(viewer, { since, until, project }, groupBy);
    return { since, until, group_by: groupBy, project, groups: rows.map(toGroup) };
  }
}
