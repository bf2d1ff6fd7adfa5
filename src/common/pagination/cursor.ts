import { createHash } from 'node:crypto';
import { ValidationFailedError } from '../errors/domain-errors';
import { MAX_INT32 } from '../limits';

/** Where a page ended: its last item's sort key (text; null for none) and id. */
export interface CursorPosition {
  key: string | null;
  id: number;
}

const canonical = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return (value as unknown[]).map(canonical).sort();
  return value;
};

/**
 * A fingerprint of what a list was asked for (its filters and sort, not its page size), kept in
 * its cursors: a cursor continues only the list it came from, since its position means nothing
 * in another order or set.
 */
export function listScope(request: Record<string, unknown>): string {
  const entries = Object.keys(request)
    .filter((name) => request[name] !== undefined)
    .sort()
    .map((name) => [name, canonical(request[name])]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 16);
}

/** The opaque `cursor` of the page after `position` in the list `scope`. */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ s: scope, k: position.key, i: position.id })).toString(
    'base64url',
  );
}

/**
 * The position a `cursor` holds, if it was made for the list `scope` and its key is one
 * `validKey` accepts; a 422 otherwise (`invalid_cursor`, `cursor_mismatch`), never a guess.
 */
export function decodeCursor(
  cursor: string,
  scope: string,
  validKey: (key: string | null) => boolean,
): CursorPosition {
  const invalid = () =>
    ValidationFailedError.field(
      'cursor',
      'cursor is not one this API gave: use the one in the Link header of the previous page',
      'invalid_cursor',
    );
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null) throw invalid();
  const { s, k, i } = value as Record<string, unknown>;
  if (typeof s !== 'string' || !(k === null || typeof k === 'string')) throw invalid();
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 1 || i > MAX_INT32) throw invalid();
  if (s !== scope) {
    throw ValidationFailedError.field(
      'cursor',
      'cursor belongs to a list with other filters or another sort: send them unchanged, or start again without a cursor',
      'cursor_mismatch',
    );
  }
  if (!validKey(k)) throw invalid();
  return { key: k, id: i };
}
