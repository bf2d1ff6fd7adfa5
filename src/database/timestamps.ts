import { types } from 'pg';
import type { CustomTypesConfig } from 'pg';

const TIMESTAMPTZ_OID = 1184;
const parseWithPostgresDate = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (
  text: string,
) => Date;

const digit = (text: string, at: number): number => {
  const d = text.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};
const two = (text: string, at: number): number => digit(text, at) * 10 + digit(text, at + 1);

/**
 * A `timestamptz` as PostgreSQL writes it in text (DateStyle ISO, the driver's default):
 * `2026-11-29 09:56:07.563031+00`, the offset `+HH`, `+HH:MM` or `+HH:MM:SS`. Read by position,
 * not by regular expression: a page of 50 tasks holds 250 of them, and pg's own parser
 * (postgres-date) was the largest single cost of a list. Anything else (infinity, BC, a year
 * outside 100–9999) goes to that parser, and so does anything this one cannot read. Fractions
 * are truncated to the millisecond, as there.
 */
export function parseTimestamptz(text: string): Date {
  const n = text.length;
  if (
    n >= 22 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 32 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58
  ) {
    const year = two(text, 0) * 100 + two(text, 2);
    let at = 19;
    let ms = 0;
    if (text.charCodeAt(at) === 46) {
      at += 1;
      let digits = 0;
      while (at < n && digit(text, at) >= 0) {
        if (digits < 3) ms = ms * 10 + digit(text, at);
        digits += 1;
        at += 1;
      }
      if (digits === 0) return parseWithPostgresDate(text);
      for (; digits < 3; digits += 1) ms *= 10;
    }
    const sign = text.charCodeAt(at) === 43 ? 1 : text.charCodeAt(at) === 45 ? -1 : 0;
    let offset = two(text, at + 1) * 3600;
    at += 3;
    if (at < n && text.charCodeAt(at) === 58) {
      offset += two(text, at + 1) * 60;
      at += 3;
      if (at < n && text.charCodeAt(at) === 58) {
        offset += two(text, at + 1);
        at += 3;
      }
    }
    const utc =
      Date.UTC(
        year,
        two(text, 5) - 1,
        two(text, 8),
        two(text, 11),
        two(text, 14),
        two(text, 17),
        ms,
      ) -
      sign * offset * 1000;
    if (sign !== 0 && at === n && year >= 100 && Number.isFinite(utc)) return new Date(utc);
  }
  return parseWithPostgresDate(text);
}

/** The driver's types, with `parseTimestamptz` for `timestamptz` (the pool's `types` option). */
export const PG_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
    oid === TIMESTAMPTZ_OID && format !== 'binary'
      ? parseTimestamptz
      : (types.getTypeParser(oid, format ?? 'text') as (
          value: string,
        ) => unknown)) as CustomTypesConfig['getTypeParser'],
};
