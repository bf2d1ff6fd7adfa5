import { BetterAuthError } from '../client/better-auth';
import { CredentialError } from '../client/credentials';
import { ApiError, type ErrorBody } from '../client/taskflow-client';
import { CliError } from './exit-codes';

/**
 * Text other people typed (titles, notes, names) may hold escape sequences; printed raw they
 * could rewrite the terminal. C0/C1 controls become a space, or `\n` where newlines are kept.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const NEWLINES = /\r?\n/g;

export type Cell = string | number | boolean | null | undefined;

export function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(NEWLINES, ' ').replace(CONTROLS, ' ');
}

const width = (text: string): number => [...text].length;
const pad = (text: string, to: number): string => text + ' '.repeat(to - width(text));

/** Columns as wide as their widest cell, two spaces apart; the last one is not padded. */
export function table(headers: readonly string[], rows: readonly Cell[][]): string {
  const all = [headers, ...rows.map((row) => row.map((value) => cell(value)))];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => width(row[i] ?? ''))));
  return all
    .map((row) => row.map((value, i) => (i === row.length - 1 ? value : pad(value, widths[i]))))
    .map((row) => row.join('  ').trimEnd())
    .join('\n');
}

/** `Label  value` lines; a multi-line value continues under its first line. */
export function details(pairs: readonly [string, string | null | undefined][]): string {
  const labelWidth = Math.max(...pairs.map(([label]) => width(label)));
  const indent = ' '.repeat(labelWidth + 2);
  return pairs
    .map(([label, value]) => {
      const lines = (value ?? '').split(NEWLINES).map((line) => line.replace(CONTROLS, ' '));
      const first = lines[0] === '' && lines.length === 1 ? '-' : lines[0];
      return [`${pad(label, labelWidth)}  ${first}`, ...lines.slice(1).map((l) => indent + l)]
        .join('\n')
        .trimEnd();
    })
    .join('\n');
}

/** `2026-11-26T20:41:04.575Z` → `2026-11-26 20:41:04Z`: the same instant, easier to scan. */
export function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** What to do next, by the API's machine `code` (never by parsing its message). */
const HINTS: Partial<Record<ErrorBody['code'], string>> = {
  unauthenticated: 'run `taskflow login`, or set TASKFLOW_TOKEN to a valid JWT',
  precondition_failed:
    'someone changed the task meanwhile: `taskflow show` it, then edit again with its new --if-version',
  task_claimed: 'someone else holds it: `taskflow list --status pending` for another one',
  dependency_unfinished: 'it waits for another task: `taskflow show` it to see which (Blocked by)',
};

/** The API's own message (and a 422's field details) for stderr. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const details = (error.body.details ?? []).map((d) => `\n  ${d.field}: ${d.message}`);
    const hint = HINTS[error.body.code];
    return `${error.body.error}${details.join('')}${hint ? `\n  (${hint})` : ''}`;
  }
  if (
    error instanceof CliError ||
    error instanceof BetterAuthError ||
    error instanceof CredentialError
  ) {
    return error.message;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
