import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { allowedProjectsOf, type Viewer } from '../access/project-access';
import { AuditEntry } from '../audit/audit-entry.entity';
import { SCOPED_AUDIT_ENTRIES, readableAuditEntry } from '../audit/audit-entry.repository';
import type { ActorType } from '../common/worker-types';
import { TableRepository } from '../database/table-repository';

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
 * the viewer ($5 id, $6 admin, $7 allowed projects). Only the window's entries of the five
 * actions are read, through `idx_audit_action_time`, never the whole log; each completion or
 * rejection then looks up its task's latest `started` before it (`idx_audit_task`), whose actor
 * held the work and whose time starts the cycle. Visibility is the audit log's own rule.
 */
export const SUMMARY_SQL = `
WITH events AS (
  SELECT e.id, e.task_id, e.action, e.actor_id, e.actor_type, e.context, e."timestamp"
    FROM ${SCOPED_AUDIT_ENTRIES}
   WHERE e.action IN ('completed', 'approved', 'rejected', 'failed', 'usage_reported')
     AND e."timestamp" >= $1::timestamptz AND e."timestamp" < $2::timestamptz
     AND ($3::varchar IS NULL OR scope.slug = $3::varchar)
     AND ${readableAuditEntry('$5::varchar', '$6', '$7::varchar[]')}
), attributed AS (
  SELECT ev.action, ev.context, COALESCE(s.actor_id, ev.actor_id) AS worker_id,
         COALESCE(s.actor_type, ev.actor_type) AS worker_type,
         extract(epoch FROM ev."timestamp" - s."timestamp") AS cycle_seconds
    FROM events ev
    LEFT JOIN LATERAL (
      SELECT d.actor_id, d.actor_type, d."timestamp" FROM audit_entries d
       WHERE ev.action IN ('completed', 'approved', 'rejected')
         AND d.task_id = ev.task_id AND d.action = 'started' AND d.id < ev.id
       ORDER BY d.id DESC LIMIT 1
    ) AS s ON true
)
SELECT CASE WHEN $4::text = 'worker' THEN worker_id ELSE worker_type::text END AS group_key,
       min(worker_type::text) AS actor_type,
       count(*) FILTER (WHERE action IN ('completed', 'approved'))::integer AS completed,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY cycle_seconds)
         FILTER (WHERE action IN ('completed', 'approved'))::float8 AS cycle_time_p50_seconds,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY cycle_seconds)
         FILTER (WHERE action IN ('completed', 'approved'))::float8 AS cycle_time_p90_seconds,
       count(*) FILTER (WHERE action = 'rejected')::integer AS review_rejections,
       count(*) FILTER (WHERE action = 'failed')::integer AS failures,
       COALESCE(sum((context ->> 'input_tokens')::bigint)
         FILTER (WHERE action = 'usage_reported'), 0)::text AS input_tokens,
       COALESCE(sum((context ->> 'output_tokens')::bigint)
         FILTER (WHERE action = 'usage_reported'), 0)::text AS output_tokens,
       COALESCE(sum((context ->> 'cost_usd')::numeric)
         FILTER (WHERE action = 'usage_reported'), 0)::text AS cost_usd
  FROM attributed
 GROUP BY 1
 ORDER BY 1`;

/** Figures over the audit log (the table is `AuditEntryRepository`'s; this only reads it). */
@Injectable()
export class AnalyticsRepository extends TableRepository<AuditEntry> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, AuditEntry);
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
