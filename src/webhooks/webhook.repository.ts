import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { AuditAction } from '../audit/audit-actions';
import type { AuditEntry } from '../audit/audit-entry.entity';
import { LOG_HORIZON } from '../audit/audit-entry.repository';
import type { LogPosition, PositionedEntry } from '../audit/log-position';
import type { Page } from '../common/pagination/pagination.query';
import { TableRepository } from '../database/table-repository';
import { Webhook, WebhookStatus } from './webhook.entity';

export interface NewWebhook {
  id: string;
  url: string;
  events: AuditAction[];
  project: string | null;
  secret: string;
  status: WebhookStatus;
  createdBy: string;
}

export type WebhookChanges = Partial<
  Pick<Webhook, 'url' | 'events' | 'project' | 'secret' | 'status'>
>;

/** What the delivery worker records of one attempt. */
export interface Attempt {
  deliveryId: string;
  auditEntryId: number;
  event: AuditAction;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
  maxFailures: number;
}

type WebhookRow = Omit<Webhook, 'cursor' | 'cursor_tx'> & { cursor: string; cursor_tx: string };
const toWebhook = (row: WebhookRow): Webhook => ({
  ...row,
  cursor: Number(row.cursor),
  cursor_tx: Number(row.cursor_tx),
});

type AuditRow = Omit<AuditEntry, 'id' | 'tx_id'> & { id: string; tx_id: string };

/**
 * The final entries of the audit log a webhook wants ($3 actions, empty for all; $4 project or
 * null) after its cursor's position ($1 tx_id, $2 id), in the log's delivery order. Read here
 * rather than in AuditEntryRepository because the filter is the webhook's own; the statement
 * only reads the log.
 */
const WANTED = `(a.tx_id, a.id) > ($1::bigint, $2::bigint) AND a.tx_id < ${LOG_HORIZON}
  AND (cardinality($3::varchar[]) = 0 OR a.action = ANY($3::varchar[]))
  AND ($4::varchar IS NULL OR a.project_slug = $4::varchar)`;

/** The last final entry of the log: where a webhook with nothing left to deliver stands. */
const SETTLED_END = `SELECT e.tx_id, e.id FROM audit_entries e WHERE e.tx_id < ${LOG_HORIZON}
  ORDER BY e.tx_id DESC, e.id DESC LIMIT 1`;

/** Moves the cursor to the position ($tx, $id) if that lies after it, never back. */
const advanceCursor = (tx: string, id: string) => `
  cursor_tx = CASE WHEN (${tx}::bigint, ${id}::bigint) > (cursor_tx, cursor) THEN ${tx} ELSE cursor_tx END,
  cursor = CASE WHEN (${tx}::bigint, ${id}::bigint) > (cursor_tx, cursor) THEN ${id} ELSE cursor END`;

/**
 * The `webhooks` table: the admins' settings, and each webhook's place in the audit log. The
 * delivery worker's bookkeeping (claims, attempts, the cursor) is no change to the board and is
 * not audited (an entry per delivery would itself be an event to deliver, without end): its
 * statements run in short transactions of their own, never inside a unit of work.
 */
@Injectable()
export class WebhookRepository extends TableRepository<Webhook> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Webhook);
  }

  /** A new webhook, placed at the end of the audit log as it is now: it gets what follows. */
  async insert(webhook: NewWebhook): Promise<Webhook> {
    const [row] = await this.write<WebhookRow>(
      `INSERT INTO webhooks (id, url, events, project, secret, status, created_by, cursor_tx, cursor)
       SELECT $1, $2, $3, $4, $5, $6, $7, COALESCE(last.tx_id, 0), COALESCE(last.id, 0)
         FROM (SELECT 1) one LEFT JOIN LATERAL (
           SELECT e.tx_id, e.id FROM audit_entries e ORDER BY e.tx_id DESC, e.id DESC LIMIT 1
         ) last ON true
       RETURNING *`,
      [
        webhook.id,
        webhook.url,
        webhook.events,
        webhook.project,
        webhook.secret,
        webhook.status,
        webhook.createdBy,
      ],
    );
    return toWebhook(row);
  }

  async find(id: string): Promise<Webhook | undefined> {
    const [row] = await this.select<WebhookRow>(`SELECT * FROM webhooks WHERE id = $1`, [id]);
    return row && toWebhook(row);
  }

  /** `find`, locked until the transaction ends (for a read-modify-write). */
  async lock(id: string): Promise<Webhook | undefined> {
    const [row] = await this.write<WebhookRow>(
      `SELECT * FROM webhooks WHERE id = $1 FOR NO KEY UPDATE`,
      [id],
    );
    return row && toWebhook(row);
  }

  async page(limit: number, offset: number): Promise<Page<Webhook>> {
    const rows = await this.select<WebhookRow>(
      `SELECT * FROM webhooks ORDER BY created_at ASC, id ASC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM webhooks`,
    );
    return { items: rows.map(toWebhook), total };
  }

  /**
   * Applies `changes`; a webhook made `active` again (resumed) starts over with no failures and
   * is due at once, from its cursor.
   */
  async update(id: string, changes: WebhookChanges): Promise<Webhook> {
    const [row] = await this.write<WebhookRow>(
      `UPDATE webhooks SET url = COALESCE($2, url), events = COALESCE($3, events),
              project = CASE WHEN $4::boolean THEN $5 ELSE project END,
              secret = COALESCE($6, secret), status = COALESCE($7, status),
              failure_count = CASE WHEN $7 = 'active' THEN 0 ELSE failure_count END,
              next_attempt_at = CASE WHEN $7 = 'active' THEN now() ELSE next_attempt_at END,
              updated_at = now()
        WHERE id = $1 RETURNING *`,
      [
        id,
        changes.url ?? null,
        changes.events ?? null,
        changes.project !== undefined,
        changes.project ?? null,
        changes.secret ?? null,
        changes.status ?? null,
      ],
    );
    return toWebhook(row);
  }

  /** Deletes a webhook and its attempts; undefined when there was none. */
  async delete(id: string): Promise<Webhook | undefined> {
    const [row] = await this.write<WebhookRow>(`DELETE FROM webhooks WHERE id = $1 RETURNING *`, [
      id,
    ]);
    return row && toWebhook(row);
  }

  /**
   * Claims one active webhook that is due and has an event waiting, for `leaseMs`, under a new
   * `token`. SKIP LOCKED lets replicas claim side by side without waiting on each other, and the
   * lease (not the row lock) is what keeps a second replica away while this one delivers; a
   * replica that dies holding one only delays its webhook until the lease expires.
   */
  async claim(token: string, leaseMs: number): Promise<Webhook | undefined> {
    const [row] = await this.bookkeeping<WebhookRow>(
      `UPDATE webhooks w SET lease_token = $1,
              lease_expires_at = now() + $2 * interval '1 millisecond'
        WHERE w.id = (
          SELECT h.id FROM webhooks h
           WHERE h.status = 'active' AND h.next_attempt_at <= now()
             AND (h.lease_expires_at IS NULL OR h.lease_expires_at < now())
             AND EXISTS (SELECT 1 FROM audit_entries a
                          WHERE (a.tx_id, a.id) > (h.cursor_tx, h.cursor)
                            AND a.tx_id < ${LOG_HORIZON}
                            AND (cardinality(h.events) = 0 OR a.action = ANY(h.events))
                            AND (h.project IS NULL OR a.project_slug = h.project))
           ORDER BY h.next_attempt_at
           LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING w.*`,
      [token, leaseMs],
    );
    return row && toWebhook(row);
  }

  /**
   * The next `limit` final entries the webhook wants, in the log's order, and where the final
   * part of the log ended in the same snapshot: when fewer than `limit` come back, nothing else
   * it wants lies before that position.
   */
  async pendingEvents(
    webhook: Webhook,
    limit: number,
  ): Promise<{ entries: PositionedEntry[]; head: LogPosition }> {
    const rows = await this.select<AuditRow & { head_tx: string | null; head_id: string | null }>(
      `SELECT a.*, head.tx_id AS head_tx, head.id AS head_id
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (${SETTLED_END}) head ON true
         LEFT JOIN LATERAL (SELECT * FROM audit_entries a WHERE ${WANTED}
                             ORDER BY a.tx_id, a.id LIMIT $5) a ON true`,
      [webhook.cursor_tx, webhook.cursor, webhook.events, webhook.project, limit],
    );
    const [first] = rows;
    const head = { tx: Number(first.head_tx ?? 0), id: Number(first.head_id ?? 0) };
    const entries = rows
      .filter((row) => row.id !== null)
      .map(({ head_tx: _tx, head_id: _id, tx_id, ...row }) => ({
        entry: { ...row, id: Number(row.id) },
        position: { tx: Number(tx_id), id: Number(row.id) },
      }));
    return { entries, head };
  }

  /**
   * A delivered event: the attempt, the cursor moved past it, the failures forgotten and the
   * lease renewed, in one statement, and only while `token` still holds the lease. False when it
   * does not (the webhook was deleted, or the lease was lost): the caller must stop.
   */
  async delivered(
    id: string,
    token: string,
    attempt: Attempt,
    position: LogPosition,
    leaseMs: number,
  ): Promise<boolean> {
    const rows = await this.bookkeeping(
      `WITH hook AS (
         UPDATE webhooks SET ${advanceCursor('$3', '$4')}, failure_count = 0,
                lease_expires_at = now() + $5 * interval '1 millisecond'
          WHERE id = $1 AND lease_token = $2 RETURNING id)
       ${recordAttempt(6)}`,
      [id, token, position.tx, position.id, leaseMs, ...attemptParams(attempt)],
    );
    return rows.length === 1;
  }

  /**
   * A failed attempt: recorded, the failure counted, the next attempt put off by full-jitter
   * exponential backoff, or the webhook marked `failing` at the limit; the lease is released.
   */
  async failed(id: string, token: string, attempt: Attempt, backoff: Backoff): Promise<boolean> {
    const rows = await this.bookkeeping(
      `WITH hook AS (
         UPDATE webhooks SET failure_count = failure_count + 1,
                status = CASE WHEN failure_count + 1 >= $3 AND status = 'active'
                              THEN 'failing'::webhook_status ELSE status END,
                next_attempt_at = now() + random()
                  * LEAST($5::float8, $4::float8 * power(2::float8, LEAST(failure_count, 60)))
                  * interval '1 millisecond',
                lease_token = NULL, lease_expires_at = NULL
          WHERE id = $1 AND lease_token = $2 RETURNING id)
       ${recordAttempt(6)}`,
      [id, token, backoff.maxFailures, backoff.baseMs, backoff.maxMs, ...attemptParams(attempt)],
    );
    return rows.length === 1;
  }

  /** Gives the lease back, having dealt with everything up to `cursor` (never moving back). */
  async release(id: string, token: string, cursor: LogPosition): Promise<void> {
    await this.bookkeeping(
      `UPDATE webhooks SET ${advanceCursor('$3', '$4')}, lease_token = NULL,
              lease_expires_at = NULL
        WHERE id = $1 AND lease_token = $2`,
      [id, token, cursor.tx, cursor.id],
    );
  }

  /**
   * The delivery worker's bookkeeping (leases, attempts, cursors) changes nothing on the board,
   * so it is not a unit of work and has no audit entry: each statement is a transaction of its
   * own, joining the caller's if it has one.
   */
  private bookkeeping<T>(text: string, params: unknown[]): Promise<T[]> {
    return this.txHost.withTransaction(() => this.write<T>(text, params));
  }
}

/**
 * Appends the attempt for the `hook` CTE's webhook, from the parameters numbered `first` on (in
 * the order of `attemptParams`); nothing when `hook` is empty.
 */
const recordAttempt = (first: number): string => {
  const [delivery, entry, event, status, error, latency] = [0, 1, 2, 3, 4, 5].map(
    (i) => `$${first + i}`,
  );
  return `
  INSERT INTO webhook_deliveries
         (webhook_id, delivery_id, audit_entry_id, event, attempt, status_code, error, latency_ms)
  SELECT hook.id, ${delivery}::uuid, ${entry}, ${event},
         COALESCE((SELECT max(attempt) FROM webhook_deliveries
                    WHERE delivery_id = ${delivery}::uuid), 0) + 1,
         ${status}, ${error}, ${latency}
    FROM hook RETURNING id`;
};

const attemptParams = (a: Attempt): unknown[] => [
  a.deliveryId,
  a.auditEntryId,
  a.event,
  a.statusCode,
  a.error?.slice(0, 500) ?? null,
  a.latencyMs,
];
