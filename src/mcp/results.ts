import { STATUS_CODES } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ApiError } from '../client/taskflow-client';

/** What a tool hands back: always a JSON object, because `structuredContent` must be one. */
export type ToolPayload = Record<string, unknown>;

/**
 * The API's JSON twice: as pretty text for models and runtimes that only read `content`, and as
 * `structuredContent` for those that read structured results.
 */
export function ok(payload: ToolPayload): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(payload, null, 2) }],
    structuredContent: payload,
  };
}

/**
 * An API failure as a tool error (not a protocol error), so the model sees it and can react:
 * `409 Conflict: Task 7 is 'in_progress'; start needs it to be 'pending'`. The status line comes
 * first because it is what an agent decides on (retry, pick another task, give up).
 */
export function apiFailure(error: ApiError, hint?: string): CallToolResult {
  const text =
    error.status === 0
      ? error.message
      : `${error.status} ${STATUS_CODES[error.status] ?? 'Error'}: ${error.message}`;
  return {
    content: [{ type: 'text', text: hint ? `${text} — ${hint}` : text }],
    structuredContent: { ...error.body, status_code: error.status },
    isError: true,
  };
}

/** Anything that is not an ApiError is a bug here, not the API's answer; say so plainly. */
export function unexpectedFailure(error: unknown): CallToolResult {
  const message = error instanceof Error ? error.message : String(error);
  return { content: [{ type: 'text', text: `taskflow-mcp failed: ${message}` }], isError: true };
}
