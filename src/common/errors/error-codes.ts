/**
 * The machine-readable `code` of every error body: a stable snake_case name a client can switch
 * on. One list, used by the code that throws, by the error filter, and as the `code` enum of the
 * `ErrorResponse` schema in `openapi.json`. Add a name here before throwing it; never rename one.
 */
export const ERROR_CODES = [
  // 400, 413, 415: the request itself
  'malformed_json',
  'bad_request',
  'headers_too_large',
  'request_timeout',
  'payload_too_large',
  'unsupported_media_type',
  // 401, 403
  'unauthenticated',
  'forbidden',
  'admin_required',
  'not_assignee',
  'reviewer_is_assignee',
  'capability_missing',
  'not_project_member',
  'project_owner_required',
  'insufficient_scope',
  'human_review_required',
  // 404, 405
  'not_found',
  'task_not_found',
  'worker_not_found',
  'dependency_not_found',
  'project_not_found',
  'member_not_found',
  'webhook_not_found',
  'api_key_not_found',
  'artifact_not_found',
  'route_not_found',
  'method_not_allowed',
  // 409, 412
  'conflict',
  'invalid_transition',
  'task_claimed',
  'dependency_unfinished',
  'retry_later',
  'task_failed',
  'dependency_cycle',
  'task_has_subtasks',
  'task_has_dependents',
  'worker_exists',
  'project_exists',
  'project_slug_retired',
  'project_has_tasks',
  'project_referenced',
  'last_owner',
  'idempotency_key_reused',
  'concurrent_change',
  'precondition_failed',
  'review_required',
  'too_many_artifacts',
  'not_awaiting_input',
  // 422, 429, 5xx
  'validation_failed',
  'invalid_cursor',
  'cursor_mismatch',
  'rate_limited',
  'database_unavailable',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
