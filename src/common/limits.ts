/**
 * Limits the API validates, shared by the DTOs, pipes and OpenAPI decorators so the checks and
 * the published schema cannot disagree.
 */

/** Ids and offsets are PostgreSQL `integer` columns: anything larger would be a 500 from SQL. */
export const MAX_INT32 = 2_147_483_647;

export const TASK_TITLE_MAX_LENGTH = 200;
export const TASK_DESCRIPTION_MAX_LENGTH = 10_000;

/** `Idempotency-Key`: 1–255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A comment's body, a hand-off note, a question: 1 to this many characters. */
export const COMMENT_MAX_LENGTH = 10_000;

/** A task's artifacts: at most this many, each URL and title at most so long. */
export const MAX_ARTIFACTS = 50;
export const ARTIFACT_URL_MAX_LENGTH = 2048;
export const ARTIFACT_TITLE_MAX_LENGTH = 200;
/**
 * An amount of US dollars, exact: a decimal string of up to 8 digits before the point and 6
 * after (PostgreSQL `numeric(14,6)`), never a float.
 */
export const USD_AMOUNT_PATTERN = /^\d{1,8}(\.\d{1,6})?$/;

/**
 * Whether two amounts (`USD_AMOUNT_PATTERN`, or `numeric(14,6)` as PostgreSQL prints it) are the
 * same number: `5`, `05.0` and `5.000000` are. Compared as text once written alike, so exactly,
 * never through a float.
 */
export function sameUsdAmount(a: string, b: string): boolean {
  const canonical = (amount: string) => {
    const [whole, fraction = ''] = amount.split('.');
    return `${whole.replace(/^0+(?=\d)/, '')}.${fraction.padEnd(6, '0')}`;
  };
  return canonical(a) === canonical(b);
}

/** Token counts and budgets: JavaScript's safe integers, far beyond any real use. */
export const MAX_TOKENS = 1_000_000_000_000;
