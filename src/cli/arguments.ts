/*
 * Argument parsers. They only turn text into the types the API client needs; ranges and formats
 * are the API's to check (its 422 messages are the reference), so they are not repeated here.
 */
import { InvalidArgumentError } from 'commander';

export function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('Not an integer.');
  return Number(value);
}

/** For fields an edit may clear: `--project ""` sends null. */
export function orNull<T>(parse: (value: string) => T): (value: string) => T | null {
  return (value) => (value === '' ? null : parse(value));
}

export const text = (value: string): string => value;

/**
 * `--expires`: a lifetime from now (`30d`, `12h`) or a timestamp, as the ISO text the API takes.
 * Whether it is too far or in the past is the API's to say.
 */
export function expiry(value: string): string {
  const lifetime = /^(\d+)([dh])$/.exec(value.trim());
  if (lifetime) {
    const hours = Number(lifetime[1]) * (lifetime[2] === 'd' ? 24 : 1);
    return new Date(Date.now() + hours * 3_600_000).toISOString();
  }
  if (Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('Not a lifetime (30d, 12h) or a timestamp.');
  }
  return value;
}

/** A repeatable option (`--project a --project b`): every value, in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];
