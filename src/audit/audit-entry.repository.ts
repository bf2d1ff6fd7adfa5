import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import type { ActorType } from '../common/worker-types';
import { allowedProjectsOf, type Viewer } from '../access/project-access';
import { readableProject } from '../access/project.repository';
import { Conditions } from '../database/conditions';
import { TableRepository } from '../database/table-repository';
import type { AuditAction } from './audit-actions';
import { AuditEntry } from './audit-entry.entity';
import type { LogPosition, PositionedEntry } from './log-position';

/** An entry to append; the database fills in the id, timestamp, actor type and hash chain. */
export interface NewAuditEntry {
  action: AuditAction;
  actorId: string;
  taskId?: number | null;
  projectSlug?: string | null;
  context?: Record<string, unknown> | null;
  /** The client program that made the change (`X-TaskFlow-Client`), if it said. */
  client?: string | null;
  /** The API key the change was made with, if any (never the key itself). */
  keyId?: string | null;
  /** `system` for the API's own work (the sweeper); else the registry says (`human` if absent). */
  actorType?: 'system' | null;
}

export interface AuditFilters {
  taskId?: number;
  actorId?: string;
  actorType?: ActorType;
  action?: AuditAction;
  project?: string;
  since?: Date;
  until?: Date;
}

/** Why `verify` found a chain broken. */
export const BROKEN_REASONS = [
  'content_changed',
  'entries_missing',
  'prev_hash_mismatch',
  'comment_changed',
] as const;
export type BrokenReason = (typeof BROKEN_REASONS)[number];

export interface ChainCheck {
  checked: number;
  firstBroken: { id: number; taskId: number | null; reason: BrokenReason } | null;
}

export interface ChainHead {
  chain: string;
  task_id: number | null;
  worker_id: string | null;
  chain_seq: number;
  hash: string;
  entry_id: number;
  timestamp: Date;
}

/** The channel a committed append announces itself on (see `APPEND_AUDIT_SQL`). */
export const EVENTS_CHANNEL = 'taskflow_events';

/**
 * Appends one entry, with the actor's type read from the worker registry by the same statement
 * (`human` when the `sub` is not registered), so recording costs one round trip. The chain
 * columns are filled in by the insert trigger (AuditHashChain migration), which locks the
 * entry's chain (its task's or worker's row, else a lock named after the chain) and nothing
 * else: writers of different chains never wait for each other. `tx_id` defaults to the writing
 * transaction's id, which gives readers the log's order (see `SETTLED`). Exported for the
 * benchmark's baseline, which runs the same statement.
 *
 * NOTIFY is part of the transaction too: PostgreSQL delivers it only on commit, and never for a
 * rolled-back append. It only wakes the readers, which read the table.
 */
/** The name `APPEND_AUDIT_SQL` is prepared under on each connection (`TableRepository.prepared`). */
export const APPEND_AUDIT_STATEMENT = 'audit-append';

export const APPEND_AUDIT_SQL = `
WITH appended AS (
  INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context, client,
                             key_id)
  VALUES ($1::integer, $2::varchar, $3::varchar,
          COALESCE($8::worker_type, (SELECT type FROM workers WHERE id = $3::varchar), 'human'),
          $4::varchar, $5::jsonb, $6::varchar, $7::uuid)
  RETURNING id
)
SELECT pg_notify('${EVENTS_CHANNEL}', id::text) FROM appended`;

/**
 * The horizon: the oldest transaction still running when the statement's snapshot was taken.
 * Every transaction below it has finished, so the entries with a smaller `tx_id` are final
 * (committed, or never to be seen), and every entry still to come has a `tx_id` at or above it.
 * A reader that delivers only these, in (tx_id, id) order, never skips an entry that commits
 * late. The outbox-ordering technique of transactional outboxes on PostgreSQL.
 */
export const LOG_HORIZON = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;

/**
 * Recomputes every chain touched by the filters ($1 task id, $2 since) and returns how many
 * entries were checked and the first broken one. The hash is the database's `audit_entry_hash()`,
 * the same function the insert trigger uses, so verifier and writer cannot disagree about the
 * canonical form. The window runs over whole chains before `since` is applied, so the first
 * entry after `since` is still checked against its predecessor. A `commented` entry also checks
 * its comment: still there, on the same task, by the same author, of the same kind, and with the
 * text whose SHA-256 the entry holds (comments are append-only, but their table is not chained).
 */
const VERIFY_CHAINS_SQL = `
WITH chained AS (
  SELECT e.*,
         lag(chain_seq) OVER chain AS previous_seq,
         lag(hash) OVER chain AS previous_hash
    FROM audit_entries e
   WHERE ($1::integer IS NULL OR task_id = $1::integer)
  WINDOW chain AS (PARTITION BY audit_chain_key(task_id, context, actor_id) ORDER BY chain_seq, id)
), checked AS (
  SELECT id, task_id,
         CASE
           WHEN hash IS DISTINCT FROM audit_entry_hash(id, chain_seq, task_id, project_slug,
                  actor_id, actor_type, action, context, "timestamp", prev_hash, client, key_id)
             THEN 'content_changed'
           WHEN chain_seq IS DISTINCT FROM COALESCE(previous_seq, 0) + 1 THEN 'entries_missing'
           WHEN prev_hash IS DISTINCT FROM previous_hash THEN 'prev_hash_mismatch'
           WHEN action = 'commented' AND NOT EXISTS (
                  SELECT 1 FROM task_comments c
                   WHERE c.id = (context ->> 'comment_id')::bigint AND c.task_id = chained.task_id
                     AND c.author_id = chained.actor_id AND c.kind::text = context ->> 'kind'
                     AND encode(sha256(convert_to(c.body, 'UTF8')), 'hex') = context ->> 'body_sha256')
             THEN 'comment_changed'
         END AS reason
    FROM chained
   WHERE ($2::timestamptz IS NULL OR "timestamp" >= $2::timestamptz)
)
SELECT (SELECT count(*) FROM checked)::integer AS checked, broken.id, broken.task_id, broken.reason
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
    SELECT id, task_id, reason FROM checked WHERE reason IS NOT NULL ORDER BY id LIMIT 1
  ) AS broken ON true`;

/** The newest entry of each chain ($1 task id or null), one page ($2 limit, $3 offset). */
const CHAIN_HEADS_SQL = `
SELECT DISTINCT ON (chain) chain, task_id,
       CASE WHEN task_id IS NULL THEN COALESCE(context ->> 'worker_id', actor_id) END AS worker_id,
       chain_seq, hash, id AS entry_id, "timestamp"
  FROM (SELECT audit_chain_key(task_id, context, actor_id) AS chain, * FROM audit_entries
         WHERE $1::integer IS NULL OR task_id = $1::integer) AS e
 ORDER BY chain, chain_seq DESC
 LIMIT $2 OFFSET $3`;

const COUNT_CHAINS_SQL = `
SELECT count(DISTINCT audit_chain_key(task_id, context, actor_id))::integer AS total
  FROM audit_entries WHERE $1::integer IS NULL OR task_id = $1::integer`;

/**
 * The audit log, each entry with the project that decides who reads it (`scope.slug`). An entry
 * about no task is read by the rule of its own project. An entry about a task is read by the
 * rule of the project the task is in now, or, for a deleted task, the one it was deleted from
 * (the last entry of its chain): a task's trail is read whole or not at all, so moving a task
 * into a private project takes its earlier entries out of sight too, and none of its entries
 * can show a reader where it went.
 */
export const SCOPED_AUDIT_ENTRIES = `audit_entries e CROSS JOIN LATERAL (
  SELECT CASE WHEN e.task_id IS NULL THEN e.project_slug
              WHEN task.found THEN task.project_slug
              ELSE (SELECT d.project_slug FROM audit_entries d
                     WHERE d.task_id = e.task_id ORDER BY d.chain_seq DESC LIMIT 1)
         END AS slug
    FROM (SELECT count(*) > 0 AS found, max(t.project_slug) AS project_slug
            FROM tasks t WHERE t.id = e.task_id) AS task
) AS scope`;

/** SQL over `SCOPED_AUDIT_ENTRIES`: true when the viewer may read the entry. */
export const readableAuditEntry = (viewer: string, admin: string, allowed: string): string =>
  `(${admin}::boolean OR ${readableProject('scope.slug', viewer, admin, allowed)})`;

type AuditRow = Omit<AuditEntry, 'id' | 'tx_id'> & { id: string; tx_id?: string };

/**
 * pg returns bigint as a string; ids stay far below 2^53, so they are numbers in JSON. `tx_id`
 * is the log's bookkeeping, not part of an entry.
 */
const toEntry = ({ tx_id: _tx, ...row }: AuditRow): AuditEntry => ({ ...row, id: Number(row.id) });

const toPositioned = (row: AuditRow & { tx_id: string }): PositionedEntry => ({
  entry: toEntry(row),
  position: { tx: Number(row.tx_id), id: Number(row.id) },
});

/**
 * The audit log's table. Entries are only ever appended (the app's database role may not update
 * or delete them, and a trigger refuses both), so there is no update here.
 */
@Injectable()
export class AuditEntryRepository extends TableRepository<AuditEntry> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, AuditEntry);
  }

  async append(entry: NewAuditEntry): Promise<void> {
    await this.preparedWrite(APPEND_AUDIT_STATEMENT, APPEND_AUDIT_SQL, [
      entry.taskId ?? null,
      entry.projectSlug ?? null,
      entry.actorId,
      entry.action,
      entry.context === undefined || entry.context === null ? null : JSON.stringify(entry.context),
      entry.client ?? null,
      entry.keyId ?? null,
      entry.actorType ?? null,
    ]);
  }

  /**
   * One page of the entries the viewer may see (none about a private project it is not in),
   * oldest first, and how many match in all.
   */
  async page(
    viewer: Viewer,
    filters: AuditFilters,
    limit: number,
    offset: number,
  ): Promise<Page<AuditEntry>> {
    const where = this.visible(viewer, filters);
    const filterParams = [...where.params];
    const rows = await this.select<AuditRow>(
      `SELECT e.* FROM ${SCOPED_AUDIT_ENTRIES}${where.sql}
        ORDER BY id ASC LIMIT ${where.param(limit)} OFFSET ${where.param(offset)}`,
      where.params,
    );
    const items = rows.map(toEntry);
    if (items.length > 0 && items.length < limit) return { items, total: offset + items.length };
    if (items.length === 0 && offset === 0) return { items, total: 0 };
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM ${SCOPED_AUDIT_ENTRIES}${where.sql}`,
      filterParams,
    );
    return { items, total };
  }

  /**
   * The entries the viewer may see between `after` (excluded) and `through` (included) in the
   * log's order, at most `limit`: an event stream catching up from the table. `through` is a
   * position the feed has already read up to, so everything before it is final.
   */
  async pageAfter(
    viewer: Viewer,
    filters: AuditFilters,
    after: LogPosition,
    through: LogPosition,
    limit: number,
  ): Promise<PositionedEntry[]> {
    const where = this.visible(viewer, filters);
    where.raw(`(e.tx_id, e.id) > (${where.param(after.tx)}, ${where.param(after.id)})`);
    where.raw(`(e.tx_id, e.id) <= (${where.param(through.tx)}, ${where.param(through.id)})`);
    const rows = await this.select<AuditRow & { tx_id: string }>(
      `SELECT e.* FROM ${SCOPED_AUDIT_ENTRIES}${where.sql}
        ORDER BY e.tx_id, e.id LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map(toPositioned);
  }

  /**
   * Every final entry after `after` in the log's order, at most `limit`, whoever may see it: for
   * the event feed, which reads each new entry once per replica and applies the visibility rule
   * per subscriber (`ProjectRepository.readablePairs`) before anything leaves the process.
   * `pending`: entries after them are committed but not final yet (an older transaction is
   * still running), so the reader should look again shortly even if no NOTIFY comes.
   */
  async settledAfter(
    after: LogPosition,
    limit: number,
  ): Promise<{ entries: PositionedEntry[]; pending: boolean }> {
    const rows = await this.select<AuditRow & { tx_id: string; settled: boolean }>(
      `SELECT e.*, e.tx_id < h.horizon AS settled
         FROM audit_entries e, (SELECT ${LOG_HORIZON} AS horizon) h
        WHERE (e.tx_id, e.id) > ($1, $2) ORDER BY e.tx_id, e.id LIMIT $3`,
      [after.tx, after.id, limit],
    );
    const settled = rows.filter((row) => row.settled);
    return {
      entries: settled.map(({ settled: _settled, ...row }) => toPositioned(row)),
      pending: settled.length < rows.length,
    };
  }

  /**
   * The ids of the entries committed after `after` (final or not yet), at most `limit`: what a
   * new subscriber that asked only for new entries must not be sent as new.
   */
  async committedAfter(after: LogPosition, limit: number): Promise<number[]> {
    const rows = await this.select<{ id: string }>(
      `SELECT e.id FROM audit_entries e WHERE (e.tx_id, e.id) > ($1, $2)
        ORDER BY e.tx_id, e.id LIMIT $3`,
      [after.tx, after.id, limit],
    );
    return rows.map((row) => Number(row.id));
  }

  /**
   * Where the final part of the log ends now: the position of its last final entry (or the start).
   * A reader starting here gets every entry that becomes final later.
   */
  async settledEnd(): Promise<LogPosition> {
    const [row] = await this.select<{ tx_id: string; id: string }>(
      `SELECT e.tx_id, e.id FROM audit_entries e WHERE e.tx_id < ${LOG_HORIZON}
        ORDER BY e.tx_id DESC, e.id DESC LIMIT 1`,
    );
    return row ? { tx: Number(row.tx_id), id: Number(row.id) } : { tx: 0, id: 0 };
  }

  /**
   * The position of entry `id` (a `Last-Event-ID`); for an id that names no entry, the position
   * of the last entry below it, so a resume never goes back further than asked.
   */
  async positionOf(id: number): Promise<LogPosition> {
    const [row] = await this.select<{ tx_id: string; id: string }>(
      `SELECT e.tx_id, e.id FROM audit_entries e WHERE e.id <= $1 ORDER BY e.id DESC LIMIT 1`,
      [id],
    );
    return row ? { tx: Number(row.tx_id), id: Number(row.id) } : { tx: 0, id: 0 };
  }

  /** The visibility rule and the filters, as a WHERE clause over `SCOPED_AUDIT_ENTRIES`. */
  private visible(viewer: Viewer, filters: AuditFilters): Conditions {
    const where = new Conditions();
    where.raw(
      readableAuditEntry(
        where.param(viewer.id),
        where.param(viewer.isAdmin),
        where.param(allowedProjectsOf(viewer)),
      ),
    );
    return where
      .add((p) => `task_id = ${p}`, filters.taskId)
      .add((p) => `actor_id = ${p}`, filters.actorId)
      .add((p) => `actor_type = ${p}`, filters.actorType)
      .add((p) => `action = ${p}`, filters.action)
      .add((p) => `project_slug = ${p}`, filters.project)
      .add((p) => `"timestamp" >= ${p}`, filters.since)
      .add((p) => `"timestamp" < ${p}`, filters.until);
  }

  /** Recomputes the hash chains touched by the filters. */
  async verify(taskId: number | null, since: Date | null): Promise<ChainCheck> {
    const [row] = await this.select<{
      checked: number;
      id: string | null;
      task_id: number | null;
      reason: BrokenReason | null;
    }>(VERIFY_CHAINS_SQL, [taskId, since]);
    return {
      checked: row.checked,
      firstBroken:
        row.id === null || row.reason === null
          ? null
          : { id: Number(row.id), taskId: row.task_id, reason: row.reason },
    };
  }

  /** The newest entry of each chain, one page, and how many chains there are. */
  async heads(taskId: number | null, limit: number, offset: number): Promise<Page<ChainHead>> {
    const rows = await this.select<Omit<ChainHead, 'entry_id'> & { entry_id: string }>(
      CHAIN_HEADS_SQL,
      [taskId, limit, offset],
    );
    const [{ total }] = await this.select<{ total: number }>(COUNT_CHAINS_SQL, [taskId]);
    return { items: rows.map((r) => ({ ...r, entry_id: Number(r.entry_id) })), total };
  }
}
