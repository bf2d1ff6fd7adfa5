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
