import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
// zod/v3, not zod: see tool-kit.ts.
import { z } from 'zod/v3';
import { enums, parameterLimits, schemaLimits } from '../client/contract';
import { unwrap, unwrapPage } from '../client/taskflow-client';
import { claimHint } from './hints';
import { STATE_MACHINE } from './lifecycle';
import {
  artifactList,
  capability,
  DEFAULT_PAGE_SIZE,
  handoffNote,
  idempotencyKey,
  integer,
  keyHeader,
  leaseSeconds,
  MOVE,
  pagination,
  READ,
  register,
  taskId,
  text,
  type ToolContext,
  waitProgress,
} from './tool-kit';
import { MAX_WAIT_SECONDS, waitFor } from './wait-for-task';

const CREATE = schemaLimits.CreateTaskDto;
const LIST = parameterLimits.Tasks_list.query;

/** The API's own date shapes (see ToUtcDate): a date, or a date-time with an optional offset. */
const ISO_DATE =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** A tag; its exact form (lowercase, `-_.`) is the API's to check, and its 422 says it. */
const tag = () => z.string().min(1).max(50);
const tagList = (what: string) => z.array(tag()).max(CREATE.tags.maxItems).describe(what);

/** Create and update take the same fields; update makes every one optional. */
const taskFields = {
  title: text(CREATE.title)
    .regex(/\S/, 'title must not be blank')
    .describe(
      `Short summary of the work, ${CREATE.title.minLength}–${CREATE.title.maxLength} characters, not blank`,
    ),
  description: text(CREATE.description)
    .nullable()
    .describe(
      `Details, what done means, links; up to ${CREATE.description.maxLength} characters; null clears it`,
    ),
  priority: z.enum(enums.TaskPriority).describe('low, medium (the default), high or critical'),
  assigned_to: text(CREATE.assigned_to)
    .nullable()
    .describe('Worker id (JWT sub) to assign it to; null or "" leaves it unassigned'),
  project_slug: text(CREATE.project_slug)
    .nullable()
    .describe(
      `Project it belongs to, e.g. "website"; up to ${CREATE.project_slug.maxLength} characters; null for none`,
    ),
  // 0 is still accepted by the API as "no parent".
  parent_id: integer({ ...CREATE.parent_id, minimum: 0 }, 'parent_id')
    .nullable()
    .describe(
      'Id of an existing parent task, making this a subtask (never itself or its own descendant); null or 0 for a top-level task',
    ),
  due_date: z
    .string()
    .regex(ISO_DATE, 'due_date must be ISO 8601, e.g. 2026-12-01T17:00:00Z')
    .nullable()
    .describe(
      'Deadline, ISO 8601 (2026-12-01T17:00:00Z; any offset, stored as UTC; without an offset, UTC); null for none',
    ),
  progress_percent: integer(CREATE.progress_percent, 'progress_percent').describe(
    `Progress, integer ${CREATE.progress_percent.minimum}–${CREATE.progress_percent.maximum}`,
  ),
  tags: tagList(
    `Labels: lowercase letters, digits and -_. (e.g. "backend"), at most ${CREATE.tags.maxItems}; replaces the task's tags`,
  ),
};

const PROGRESS = schemaLimits.ProgressBody;

/**
 * The core group: the task work an agent does, from finding and claiming a task to finishing
 * or giving it back. Every call goes through the typed client, so they follow openapi.json.
 */
export function registerCoreTools(server: McpServer, ctx: ToolContext): void {
  const { api } = ctx;
  const path = (id: number) => ({ params: { path: { id } } });

  register(
    server,
    ctx,
    'list_tasks',
    {
      title: 'List tasks',
      description:
        "List tasks, filtered and paged (default 50 by id). For the next page call again with the same filters and cursor set to next_cursor, until next_cursor is null. `total` counts the matches (an estimate when total_estimated is true). For work to pick up: status 'pending'.",
      input: {
        status: z.enum(enums.TaskStatus).optional().describe('Only tasks in this status'),
        priority: z.enum(enums.TaskPriority).optional().describe('Only tasks of this priority'),
        assigned_to: text({ ...CREATE.assigned_to, minLength: 1 })
          .optional()
          .describe('Only tasks assigned to this worker id (your own id: whoami)'),
        project: text({ ...CREATE.project_slug, minLength: 1 })
          .optional()
          .describe('Only tasks of this project slug'),
        parent_id: integer(LIST.parent_id, 'parent_id')
          .optional()
          .describe('Only the direct subtasks of this task id'),
        q: text({ ...LIST.q, minLength: 1 })
          .optional()
          .describe(
            `Text to find in title or description, case-insensitive, 1–${LIST.q.maxLength} characters`,
          ),
        tag: tagList('Only tasks carrying every one of these tags').optional(),
        any_tag: tagList('Only tasks carrying at least one of these tags').optional(),
        completed_since: z
          .string()
          .regex(ISO_DATE, 'ISO 8601, e.g. 2026-12-01T00:00:00Z')
          .optional()
          .describe('Only tasks completed at or after this instant (ISO 8601)'),
        completed_until: z
          .string()
          .regex(ISO_DATE, 'ISO 8601, e.g. 2026-12-01T00:00:00Z')
          .optional()
          .describe('Only tasks completed before this instant (ISO 8601)'),
        sort: z
          .enum(LIST.sort.enum)
          .optional()
          .describe('Sort field, "-" prefix for descending (e.g. "-priority"); default "id"'),
        cursor: z
          .string()
          .min(1)
          .max(LIST.cursor.maxLength)
          .optional()
          .describe('next_cursor of the previous page (same filters and sort); not with offset'),
        ...pagination('matches'),
      },
      annotations: READ,
    },
    async (query) => {
      const page = await unwrapPage(api.GET('/api/tasks', { params: { query } }));
      return {
        total: page.total,
        total_estimated: page.totalEstimated,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        ...(query.cursor === undefined && { offset: query.offset ?? 0 }),
        next_cursor: page.next,
        tasks: page.items,
      };
    },
  );

  register(
    server,
    ctx,
    'list_projects',
    {
      title: 'List projects',
      description:
        "The projects you can see, by slug: a task's project_slug names one. You change tasks only in projects where you are an owner or member (and on the shared board, project_slug null); claim_next_task offers only those.",
      input: { ...pagination('projects') },
      annotations: READ,
    },
    async (query) => {
      const { items: projects, total } = await unwrapPage(
        api.GET('/api/projects', { params: { query } }),
      );
      return {
        total,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        offset: query.offset ?? 0,
        projects,
      };
    },
  );

  register(
    server,
    ctx,
    'get_task',
    {
      title: 'Get a task',
      description: 'Get one task by id: title, description, status, priority, assignee, progress.',
      input: { id: taskId() },
      annotations: READ,
    },
    async ({ id }) => (await unwrap(api.GET('/api/tasks/{id}', path(id)))).data,
  );

  register(
    server,
    ctx,
    'create_task',
    {
      title: 'Create a task',
      description:
        'Create a task with you as its creator; it starts pending and unassigned unless you say otherwise (to work on it yourself, claim_task it next).',
      input: {
        ...taskFields,
        description: taskFields.description.optional(),
        priority: taskFields.priority.optional(),
        assigned_to: taskFields.assigned_to.optional(),
        project_slug: taskFields.project_slug.optional(),
        parent_id: taskFields.parent_id.optional(),
        due_date: taskFields.due_date.optional(),
        tags: taskFields.tags.optional(),
        status: z
          .enum(CREATE.status.enum)
          .optional()
          .describe(
            'Initial status: pending (the default) or blocked; to work on it, claim_task it next',
          ),
        progress_percent: taskFields.progress_percent
          .optional()
          .describe(
            `Initial progress, ${CREATE.progress_percent.minimum}–${CREATE.progress_percent.maximum}, default 0`,
          ),
        required_capabilities: z
          .array(capability())
          .max(CREATE.required_capabilities.maxItems)
          .optional()
          .describe(
            'What a worker needs to take it; claim_next_task offers it only to those who have them all',
          ),
        idempotency_key: idempotencyKey(),
      },
      annotations: MOVE,
    },
    async ({ idempotency_key, ...body }) =>
      (
        await unwrap(
          api.POST('/api/tasks', { params: { header: keyHeader(idempotency_key) }, body }),
        )
      ).data,
  );

  register(
    server,
    ctx,
    'update_task',
    {
      title: 'Update a task',
      description:
        'Change only the fields you send (title, description, priority, assignee, project, parent, due date); for status prefer the lifecycle tools (claim_task, complete_task…).',
      input: {
        id: taskId(),
        title: taskFields.title.optional(),
        description: taskFields.description.optional(),
        status: z
          .enum(enums.TaskStatus)
          .optional()
          .describe(
            `New status: the lifecycle move that reaches it, with the same rules (${STATE_MACHINE}), else a 409`,
          ),
        priority: taskFields.priority.optional(),
        progress_percent: taskFields.progress_percent.optional(),
        assigned_to: taskFields.assigned_to.optional(),
        project_slug: taskFields.project_slug.optional(),
        parent_id: taskFields.parent_id.optional(),
        due_date: taskFields.due_date.optional(),
        tags: taskFields.tags.optional(),
        if_version: integer(schemaLimits.Task.version, 'if_version')
          .optional()
          .describe(
            "The task's `version` as you last read it: the change applies only if nobody changed the task since (else a 412 and nothing changes)",
          ),
      },
      annotations: { ...MOVE, destructiveHint: true, idempotentHint: true },
    },
    async ({ id, if_version, ...patch }) => {
      const header = if_version === undefined ? {} : { 'If-Match': `"${id}-${if_version}"` };
      const params = { path: { id }, header };
      return (await unwrap(api.PATCH('/api/tasks/{id}', { params, body: patch }))).data;
    },
  );

  register(
    server,
    ctx,
    'claim_task',
    {
      title: 'Claim a task',
      description:
        'Claim a pending task and start it (pending → in_progress, assigned to you); atomic, so a 409 means another worker got it first: pick another task, do not retry.',
      input: { id: taskId(), lease_seconds: leaseSeconds(), idempotency_key: idempotencyKey() },
      annotations: MOVE,
      hint: claimHint,
    },
    async ({ id, lease_seconds, idempotency_key }) =>
      (
        await unwrap(
          api.POST('/api/tasks/{id}/start', {
            params: { path: { id }, header: keyHeader(idempotency_key) },
            body: { lease_seconds },
          }),
        )
      ).data,
  );

  register(
    server,
    ctx,
    'claim_next_task',
    {
      title: 'Claim the next task',
      description:
        'Claim the best task available to you in one step (highest priority, then earliest due date; only tasks whose dependencies are done and whose required capabilities you have). Never a conflict: concurrent agents each get a different task. Returns {task: null} when there is nothing to do.',
      input: {
        project: text({ ...CREATE.project_slug, minLength: 1 })
          .optional()
          .describe('Only tasks of this project'),
        min_priority: z
          .enum(enums.TaskPriority)
          .optional()
          .describe('Only tasks of at least this priority'),
        // A subset of the caller's registered capabilities, so at most as many.
        capabilities: z
          .array(capability())
          .max(schemaLimits.CreateWorkerDto.capabilities.maxItems)
          .optional()
          .describe(
            'Narrow the search to tasks needing at most these of your registered capabilities (it cannot add any); default: all of them',
          ),
        lease_seconds: leaseSeconds(),
        idempotency_key: idempotencyKey(),
      },
      annotations: MOVE,
    },
    async ({ idempotency_key, ...body }) => {
      const { data } = await unwrap(
        api.POST('/api/tasks/claim-next', { params: { header: keyHeader(idempotency_key) }, body }),
      );
      return { task: data ?? null };
    },
  );

  register(
    server,
    ctx,
    'wait_for_task',
    {
      title: 'Wait for a task, then claim it',
      description:
        'Like claim_next_task, but when nothing is available it waits (up to timeout_seconds, ≤ 300) on the live event stream for a change that can make a task claimable (created, released, reopened, unblocked, a dependency done or removed…) and claims it then. Returns {task} once claimed, or {task: null, message} when nothing could be claimed in time: call it again to keep waiting. Use it instead of polling claim_next_task.',
      input: {
        project: text({ ...CREATE.project_slug, minLength: 1 })
          .optional()
          .describe('Only tasks of this project'),
        min_priority: z
          .enum(enums.TaskPriority)
          .optional()
          .describe('Only tasks of at least this priority'),
        timeout_seconds: z
          .number()
          .int('timeout_seconds must be an integer')
          .min(1, 'timeout_seconds must be 1–300')
          .max(MAX_WAIT_SECONDS, 'timeout_seconds must be 1–300')
          .optional()
          .describe(`How long to wait at most, 1–${MAX_WAIT_SECONDS} seconds (default 60)`),
        lease_seconds: leaseSeconds(),
      },
      annotations: MOVE,
    },
    async ({ timeout_seconds = 60, ...body }, call) => {
      const claim = async () =>
        (await unwrap(api.POST('/api/tasks/claim-next', { body }))).data ?? null;
      const task = await waitFor(api, claim, timeout_seconds * 1000, {
        progress: waitProgress(ctx, call, 'waiting for a claimable task'),
      });
      return task
        ? { task }
        : { task: null, message: `nothing to claim within ${timeout_seconds} s` };
    },
  );

  register(
    server,
    ctx,
    'heartbeat_task',
    {
      title: 'Keep your lease',
      description:
        'Extend your lease on a task you hold (claimed with lease_seconds): call it before lease_expires_at, or the task can be claimed by another worker.',
      input: { id: taskId(), lease_seconds: leaseSeconds('From now; default 300') },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ id, lease_seconds }) =>
      (
        await unwrap(
          api.POST('/api/tasks/{id}/heartbeat', { ...path(id), body: { lease_seconds } }),
        )
      ).data,
  );

  register(
    server,
    ctx,
    'add_dependency',
    {
      title: 'Make a task wait for another',
      description:
        'Task id cannot be started or claimed until task depends_on is completed (refused if it would make a cycle). Returns the task with blocked_by.',
      input: { id: taskId(), depends_on: taskId().describe('The task it must wait for') },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ id, depends_on }) =>
      (
        await unwrap(
          api.POST('/api/tasks/{id}/dependencies/{other_id}', {
            params: { path: { id, other_id: depends_on } },
          }),
        )
      ).data,
  );

  register(
    server,
    ctx,
    'remove_dependency',
    {
      title: 'Stop a task waiting for another',
      description: 'Remove the dependency of task id on task depends_on.',
      input: { id: taskId(), depends_on: taskId().describe('The task it waits for') },
      annotations: { ...MOVE, destructiveHint: true, idempotentHint: true },
    },
    async ({ id, depends_on }) => {
      await unwrap(
        api.DELETE('/api/tasks/{id}/dependencies/{other_id}', {
          params: { path: { id, other_id: depends_on } },
        }),
      );
      return { id, removed_dependency: depends_on };
    },
  );

  register(
    server,
    ctx,
    'update_progress',
    {
      title: 'Report progress',
      description:
        'Report progress on a task you hold (in_progress only): percent 0–100 and an optional note of what is done, recorded in the audit trail.',
      input: {
        id: taskId(),
        percent: integer(PROGRESS.percent, 'percent').describe(
          `How far along the task is, integer ${PROGRESS.percent.minimum}–${PROGRESS.percent.maximum}`,
        ),
        note: text(PROGRESS.note)
          .optional()
          .describe(`What was done or what is next, up to ${PROGRESS.note.maxLength} characters`),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/progress', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'request_review',
    {
      title: 'Request review',
      description:
        'Hand a task you hold to review when the work is done but needs checking (in_progress → review).',
      input: {
        id: taskId(),
        note: handoffNote('the reviewer'),
        artifacts: artifactList(),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/review', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'complete_task',
    {
      title: 'Complete a task',
      description:
        'Mark a task you hold completed (in_progress → completed, progress 100). A task in review is completed by someone else with approve_task.',
      input: {
        id: taskId(),
        note: handoffNote('whoever reads the result'),
        artifacts: artifactList(),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/complete', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'approve_task',
    {
      title: 'Approve a task in review',
      description:
        "Sign off someone else's work (review → completed, progress 100). The assignee cannot approve their own task; another worker (human or agent) or an admin can.",
      input: { id: taskId() },
      annotations: MOVE,
    },
    async ({ id }) => (await unwrap(api.POST('/api/tasks/{id}/approve', path(id)))).data,
  );

  register(
    server,
    ctx,
    'reject_task',
    {
      title: 'Send a task in review back',
      description:
        "Send someone else's work back to its assignee (review → in_progress), saying what to fix. The assignee cannot reject their own task.",
      input: {
        id: taskId(),
        reason: text({ ...schemaLimits.RejectBody.reason, minLength: 1 }).describe(
          `What must change before it can be approved, up to ${schemaLimits.RejectBody.reason.maxLength} characters`,
        ),
      },
      annotations: MOVE,
    },
    async ({ id, reason }) =>
      (await unwrap(api.POST('/api/tasks/{id}/reject', { ...path(id), body: { reason } }))).data,
  );

  register(
    server,
    ctx,
    'reopen_task',
    {
      title: 'Reopen a completed task',
      description:
        'Put a completed task you held back in progress (completed → in_progress), e.g. when its result turned out wrong. Refused while a dependency is not completed.',
      input: { id: taskId() },
      annotations: MOVE,
    },
    async ({ id }) => (await unwrap(api.POST('/api/tasks/{id}/reopen', path(id)))).data,
  );

  register(
    server,
    ctx,
    'assign_task',
    {
      title: 'Assign a task',
      description:
        'Give a task to a worker (or null to unassign a pending or blocked one). Anyone may pre-assign an unassigned pending task; otherwise only its assignee (a hand-off) or an admin. The new holder must have registered the capabilities it requires.',
      input: {
        id: taskId(),
        worker: taskFields.assigned_to.describe('The worker id to give it to, or null'),
      },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ id, worker }) =>
      (await unwrap(api.PATCH('/api/tasks/{id}', { ...path(id), body: { assigned_to: worker } })))
        .data,
  );

  register(
    server,
    ctx,
    'block_task',
    {
      title: 'Block a task',
      description:
        'Mark a task blocked when it cannot go on (pending, in_progress or review → blocked), saying why so a human can unblock it.',
      input: {
        id: taskId(),
        reason: text(schemaLimits.BlockBody.reason)
          .optional()
          .describe(
            `What it is waiting for, up to ${schemaLimits.BlockBody.reason.maxLength} characters (e.g. "waiting for the API key")`,
          ),
        note: handoffNote('whoever unblocks it'),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/block', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'release_task',
    {
      title: 'Release a task',
      description:
        'Give back a task you hold without finishing it (in_progress → pending, unassigned) so another worker can claim it.',
      input: { id: taskId(), note: handoffNote('the next worker to claim it') },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/release', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'fail_task',
    {
      title: 'Report a failed attempt',
      description:
        'Say that your attempt at a task you hold failed, and why. While attempts remain and the failure is retryable, the task goes back to pending with nobody holding it and is not offered again before its backoff (not_before); otherwise it becomes failed and waits for a person to retry it. Prefer this to release_task when the work failed: it counts, so a task that keeps failing reaches a person instead of looping.',
      input: {
        id: taskId(),
        reason: text(schemaLimits.FailBody.reason).describe(
          `What went wrong, up to ${schemaLimits.FailBody.reason.maxLength} characters`,
        ),
        retryable: z
          .boolean()
          .optional()
          .describe('false when another attempt would fail the same way (default true)'),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/fail', { ...path(id), body }))).data,
  );

  const USAGE = schemaLimits.UsageBody;
  register(
    server,
    ctx,
    'report_usage',
    {
      title: 'Report what the work cost',
      description:
        "Add the tokens (and, if known, the dollars) one model spent on a task you hold to the task's usage. If it leaves the task over its budget, the report is kept and the task becomes blocked until a person raises the budget: stop working on it then.",
      input: {
        id: taskId(),
        model: text(USAGE.model).describe('The model that did the work, e.g. claude-sonnet-4'),
        input_tokens: integer(USAGE.input_tokens, 'input_tokens').describe('Input tokens'),
        output_tokens: integer(USAGE.output_tokens, 'output_tokens').describe('Output tokens'),
        cost_usd: z
          .string()
          .regex(new RegExp(USAGE.cost_usd.pattern), 'cost_usd must be a decimal like "0.0123"')
          .optional()
          .describe('US dollars as a decimal string, e.g. "0.0123" (kept exact)'),
      },
      annotations: MOVE,
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/usage', { ...path(id), body }))).data,
  );

  register(
    server,
    ctx,
    'task_audit',
    {
      title: "A task's audit trail",
      description:
        "A task's audit trail, oldest first: each action (created, started, progressed, completed…) with actor_id, actor_type (human or agent), context and timestamp.",
      input: {
        id: taskId(),
        ...pagination('entries'),
      },
      annotations: READ,
    },
    async ({ id, ...query }) => {
      const { items: entries, total } = await unwrapPage(
        api.GET('/api/tasks/{id}/audit', { params: { path: { id }, query } }),
      );
      return { task_id: id, total, entries };
    },
  );

  register(
    server,
    ctx,
    'whoami',
    {
      title: 'Who am I',
      description:
        'Who this server acts as: your worker id (use it with list_tasks assigned_to), email, role, is_admin and worker_type (agent or human).',
      input: {},
      annotations: READ,
    },
    async () => (await unwrap(api.GET('/api/me'))).data,
  );
}
