import { ValidationFailedError } from '../common/errors/domain-errors';

/** Names the program acting for the caller (CLI, MCP server, a frontend); kept in the audit log. */
export const CLIENT_HEADER = 'x-taskflow-client';
export const MAX_CLIENT_LENGTH = 200;
const CLIENT = new RegExp(
  `^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,${MAX_CLIENT_LENGTH - 2}}[\\x21-\\x7e])?$`,
);

/** The header's value, or null when absent; 422 when it is not bounded printable ASCII. */
export function clientOf(header: unknown): string | null {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !CLIENT.test(header)) {
    throw ValidationFailedError.field(
      'X-TaskFlow-Client',
      `X-TaskFlow-Client must be 1 to ${MAX_CLIENT_LENGTH} printable ASCII characters without surrounding spaces, e.g. "taskflow-cli/1.0.0"`,
    );
  }
  return header;
}
