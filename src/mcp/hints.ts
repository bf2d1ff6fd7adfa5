import type { ApiError, ErrorBody } from '../client/taskflow-client';

type Code = ErrorBody['code'];

export const FIND_ANOTHER = "pick another task (list_tasks with status 'pending')";

/**
 * What an agent should do about a refusal, chosen by the API's machine `code` alone: no extra
 * request to find out why (the code already says which rule refused it). A tool may say more
 * for its own case (`claim_task`); codes not listed here need no advice beyond the message.
 */
const HINTS: Partial<Record<Code, (baseUrl: string) => string>> = {
  unreachable: (baseUrl) => `is the API running at ${baseUrl}? (TASKFLOW_URL)`,
  unauthenticated: () =>
    "the agent's token was refused: a pasted TASKFLOW_TOKEN expires and is never renewed (give the server a login session instead: TASKFLOW_CONFIG, see docs/mcp.md); a token from another auth server than the API trusts is refused too",
  rate_limited: () => 'rate limited; wait a minute before retrying',
  database_unavailable: () => "the API's database is unavailable; retry later",
  task_claimed: () => `another worker holds it; ${FIND_ANOTHER}`,
  dependency_unfinished: () =>
    `it waits for a task that is not completed yet; ${FIND_ANOTHER}, or finish that one first`,
  not_assignee: () => 'it is assigned to another worker: only they (or an admin) may do that',
  capability_missing: () =>
    `you (or the worker it would go to) have not registered a capability it requires; only an admin grants them (whoami shows yours); ${FIND_ANOTHER}`,
  reviewer_is_assignee: () =>
    'you are its assignee: another worker or an admin has to approve or reject it',
  human_review_required: () =>
    "this project's review policy is human: an agent's work is approved or rejected by a person only",
  review_required: () =>
    "this project's review policy is human: request_review (with a note) instead, and a person approves it",
  too_many_artifacts: () => 'the task already holds 50 artifacts: replace one by its url instead',
  admin_required: () => 'only an admin may do that',
  not_project_member: () =>
    `the task belongs to a project you are not a member (or only a viewer) of: ask one of its owners to add you (list_projects shows the projects you can see); ${FIND_ANOTHER}`,
  precondition_failed: () => 'the task changed since you read it: get_task, then decide again',
  retry_later: () =>
    `its last attempt failed and it is backing off (get_task shows not_before); ${FIND_ANOTHER}, or come back then`,
  task_failed: () =>
    `its last attempt ran out (the lease of its holder expired) and it is now failed, waiting for a person to retry it; ${FIND_ANOTHER}`,
};

export function hintFor(error: ApiError, baseUrl: string): string | undefined {
  return HINTS[error.body.code]?.(baseUrl);
}

/**
 * claim_task's own reading: a lost race must read as one, so that the agent moves on instead
 * of retrying or reporting a bug.
 */
export function claimHint(error: ApiError, baseUrl: string): string | undefined {
  switch (error.body.code) {
    case 'task_claimed':
      return `another worker claimed it first (or you already hold it: get_task tells); ${FIND_ANOTHER}`;
    case 'invalid_transition':
      return `it is no longer pending; ${FIND_ANOTHER}`;
    default:
      return hintFor(error, baseUrl);
  }
}
