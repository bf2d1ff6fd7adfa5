import { types } from 'pg';
import { parseTimestamptz } from './timestamps';

const postgresDate = types.getTypeParser(1184, 'text') as (text: string) => Date;

/** A seeded generator, so a failure names an input that can be replayed. */
function* samples(count: number): Generator<string> {
  let seed = 20261129;
  const next = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  const pad = (v: number, width: number) => String(v).padStart(width, '0');
  const offsets = ['+00', '-08', '+05:30', '-03:30', '+14', '-12', '+05:53:28', '-00:25:21'];
  for (let i = 0; i < count; i++) {
    const fraction = next(7); // 0..6 digits
    const date =
      `${pad(100 + next(9900), 4)}-${pad(1 + next(12), 2)}-${pad(1 + next(28), 2)} ` +
      `${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)}`;
    const frac = fraction ? `.${pad(next(10 ** fraction), fraction)}` : '';
    yield `${date}${frac}${offsets[next(offsets.length)]}`;
  }
}

describe('parseTimestamptz', () => {
  it('reads every ISO timestamptz as pg’s own parser does (20,000 seeded samples)', () => {
    for (const text of samples(20_000)) {
      expect([text, parseTimestamptz(text).getTime()]).toEqual([
        text,
        postgresDate(text).getTime(),
      ]);
    }
  });

  it('hands what it does not read by position to pg’s parser', () => {
    for (const text of [
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '0099-12-31 23:59:59.999+00',
      '12026-01-01 00:00:00+00',
      '2026-11-29 09:56:07.+00',
    ]) {
      const mine = parseTimestamptz(text);
      const theirs = postgresDate(text) as Date | number;
      expect(mine instanceof Date ? mine.getTime() : mine).toEqual(
        theirs instanceof Date ? theirs.getTime() : theirs,
      );
    }
  });
});
