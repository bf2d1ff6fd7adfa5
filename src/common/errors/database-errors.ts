/**
 * Recognises database failures by PostgreSQL SQLSTATE (or the socket's errno), never by the
 * server's message text, which changes with locale and version.
 *
 * The one exception is node-postgres's own client-side failures (pool wait timeout, a socket
 * closed under a query): the driver raises them without any code, so a short list of its fixed
 * messages is the only way to tell them from a programming error.
 */
export const PG = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  stringTooLong: '22001',
  numericOutOfRange: '22003',
  invalidDatetime: '22007',
  datetimeOutOfRange: '22008',
  invalidTextRepresentation: '22P02',
  untranslatableCharacter: '22P05',
  characterNotInRepertoire: '22021',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  queryCanceled: '57014',
  lockNotAvailable: '55P03',
  raiseException: 'P0001',
  duplicateObject: '42710',
  insufficientPrivilege: '42501',
  internalError: 'XX000',
  /** TaskFlow's own: trg_tasks_version refused a write armed with a stale If-Match. */
  versionMismatch: 'TF412',
} as const;

const UNAVAILABLE_SQLSTATE_PREFIXES = ['08', '53', '57P'];
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const NODE_POSTGRES_CLIENT_FAILURES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const direct = (error as { code?: unknown }).code;
  if (typeof direct === 'string') return direct;
  // TypeORM's QueryFailedError keeps the driver's error beside its own.
  const driver = (error as { driverError?: { code?: unknown } }).driverError;
  return typeof driver?.code === 'string' ? driver.code : undefined;
}

/** The PostgreSQL SQLSTATE of an error thrown by the driver or TypeORM, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = codeOf(error);
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The constraint a 23xxx error names, e.g. `fk_tasks_parent`. */
export function violatedConstraint(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const name = e.constraint ?? e.driverError?.constraint;
  return typeof name === 'string' ? name : undefined;
}

/**
 * True when a request waited DB_CONNECT_TIMEOUT_MS for one of the pool's connections, all busy:
 * the database may be fine and the API overloaded (or its connections stuck on a hung server).
 * node-postgres's pool raises this, codeless, from its wait queue.
 */
export function isPoolExhausted(error: unknown): boolean {
  return error instanceof Error && error.message === 'timeout exceeded when trying to connect';
}

/** True when the error means "the database cannot be reached or is refusing work right now". */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code) {
    if (UNAVAILABLE_ERRNOS.has(code)) return true;
    if (code === PG.queryCanceled) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) {
      return UNAVAILABLE_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix));
    }
  }
  if (error instanceof Error) {
    if (error.cause && isDatabaseUnavailable(error.cause)) return true;
    return NODE_POSTGRES_CLIENT_FAILURES.some((m) => error.message.startsWith(m));
  }
  return false;
}
