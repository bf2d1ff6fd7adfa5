import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { allowedProjectsOf, type Viewer } from '../access/project-access';
import { projectVisibilityJoins, readableJoined } from '../access/project.repository';
import type { ActorType } from '../common/worker-types';
import { TableRepository } from '../database/table-repository';
import { AnalyticsFact } from './analytics-fact.entity';

export type SummaryGrouping = 'actor_type' | 'worker';

/** One group's figures, as the database computes them (docs/analytics.md). */
export interface SummaryRow {
  group_key: string;
  actor_type: ActorType;
  completed: number;
  cycle_time_p50_seconds: number | null;
  cycle_time_p90_seconds: number | null;
  review_rejections: number;
  failures: number;
  input_tokens: string;
  output_tokens: string;
  cost_usd: string;
}

/**
 * The summary (docs/analytics.md): $1 since, $2 until, $3 project or null, $4 grouping, and
 * the viewer ($5 id, $6 admin, $7 allowed projects). It reads only the window's rows of
 * `analytics_facts` (`idx_analytics_facts_at`): each already attributed to whose work it was, with
 * the start of that work, and filed under the task's current project, so visibility is the audit
 * log's rule (an admin reads all; see `readableAuditEntry`) checked by joining each row's project
 * and the viewer's membership, and one sort gives both percentiles.
 */
export const SUMMARY_SQL = `
SELECT group_key, actor_type, completed, cycles[1]::float8 AS cycle_time_p50_seconds,
       cycles[2]::float8 AS cycle_time_p90_seconds, review_rejections, failures,
       input_tokens, output_tokens, cost_usd
  FROM (
    SELECT CASE WHEN $4::text = 'worker' THEN f.worker_id ELSE f.worker_type::text END AS group_key,
           min(f.worker_type::text) AS actor_type,
           count(*) FILTER (WHERE f.action IN ('completed', 'approved'))::integer AS completed,
           percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - f.started_at))
             FILTER (WHERE f.action IN ('completed', 'approved')) AS cycles,
           count(*) FILTER (WHERE f.action = 'rejected')::integer AS review_rejections,
           count(*) FILTER (WHERE f.action = 'failed')::integer AS failures,
           COALESCE(sum(f.input_tokens), 0)::text AS input_tokens,
           COALESCE(sum(f.output_tokens), 0)::text AS output_tokens,
           COALESCE(sum(f.cost_usd), 0)::text AS cost_usd
      FROM analytics_facts f${projectVisibilityJoins('f.project_slug', '$5')}
     WHERE f.at >= $1::timestamptz AND f.at < $2::timestamptz
       AND ($3::varchar IS NULL OR f.project_slug = $3::varchar)
       AND ($6::boolean OR ${readableJoined('$6', '$7', 'f.project_slug')})
     GROUP BY 1
  ) AS groups
 ORDER BY group_key`;

/** Figures over `analytics_facts`, which the database keeps from the audit log (read only). */
@Injectable()
export class AnalyticsRepository extends TableRepository<AnalyticsFact> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, AnalyticsFact);
  }

  summary(
    viewer: Viewer,
    window: { since: Date; until: Date; project: string | null },
    grouping: SummaryGrouping,
  ): Promise<SummaryRow[]> {
    return this.select<SummaryRow>(SUMMARY_SQL, [
      window.since,
      window.until,
      window.project,
      grouping,
      viewer.id,
      viewer.isAdmin,
      allowedProjectsOf(viewer),
    ]);
  }
}
