import type { AuditEntry } from './audit-entry.entity';

/**
 * Where an entry stands in the order the log is delivered in (the event stream, webhooks,
 * resuming): by the id of the transaction that wrote it, then by its own id. Ids are drawn when
 * an entry is inserted, but transactions commit in any order, so id order is not the order in
 * which entries become visible; a reader that delivers only entries whose transactions are all
 * finished (below the horizon, `AuditEntryRepository`) in this order never has one appear
 * behind it. docs/events.md, "Order".
 *
 * `tx` is PostgreSQL's 64-bit transaction id (epoch and xid); a JavaScript number holds it
 * exactly until the epoch passes 2^21, some thousand years of wraparounds away.
 */
export interface LogPosition {
  tx: number;
  id: number;
}

/** Before every entry. */
export const LOG_START: LogPosition = { tx: 0, id: 0 };

/** An entry, with its place in the log. */
export interface PositionedEntry {
  entry: AuditEntry;
  position: LogPosition;
}

export const comparePositions = (a: LogPosition, b: LogPosition): number =>
  a.tx !== b.tx ? a.tx - b.tx : a.id - b.id;

export const isAfter = (a: LogPosition, b: LogPosition): boolean => comparePositions(a, b) > 0;
