import { SYSTEM_SWEEPER_ID } from '../worker-types';

/**
 * What a worker id (a JWT `sub`, and so every `actor_id` and `created_by`) may be: 1 to 255
 * characters without control characters (C0, DEL, C1) or bidirectional-text controls. The ids are
 * printed in terminals, logs and the audit log: an ESC could rewrite a terminal, a newline forge a
 * log line, and a right-to-left override make `evil` read as `live`. Written once: the token
 * check, the worker registry's body and its path parameter all use it.
 */
export const WORKER_ID_MAX_LENGTH = 255;

export const WORKER_ID_PATTERN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;

export const WORKER_ID_RULE = `1 to ${WORKER_ID_MAX_LENGTH} characters without control or bidirectional-override characters`;

export function isValidWorkerId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    [...value].length <= WORKER_ID_MAX_LENGTH &&
    WORKER_ID_PATTERN.test(value)
  );
}

/**
 * An id only the API itself acts as (`SYSTEM_SWEEPER_ID`): no token or key may name it and no
 * worker be registered as it, so that its audit entries are the API's own and no one else's.
 */
export const isReservedWorkerId = (value: string): boolean => value === SYSTEM_SWEEPER_ID;

export const RESERVED_WORKER_ID_RULE = `${SYSTEM_SWEEPER_ID} is reserved for the API's own sweeper`;
