/**
 * What a frontend writes against clients generated from the committed openapi.json: a client
 * by @hey-api/openapi-ts (`./hey-api`) and zod schemas by orval (`./orval/taskflow.zod`).
 * test/consumers.e2e-spec.ts generates both into a temporary folder beside a copy of this file
 * and type-checks it with `tsc --strict`: when the document stops giving a frontend exact
 * types, this stops compiling. The `@ts-expect-error` lines are mistakes that must not compile.
 */
import { createClient } from './hey-api/client';
import {
  auditForTask,
  taskLifecycleComplete,
  taskLifecycleProgress,
  taskLifecycleStart,
  tasksCreate,
  tasksFindOne,
  tasksList,
  tasksUpdate,
} from './hey-api';
import type { AuditEntry, ErrorCode, ErrorResponse, Task, TaskPriority } from './hey-api';
import { tasksUpdateBody } from './orval/taskflow.zod';

export const api = (token: string) =>
  createClient({ baseUrl: 'http://localhost:8000', auth: token });
type Api = ReturnType<typeof api>;

/** Every filter of the list, and the total from `X-Total-Count`. */
export async function board(client: Api): Promise<{ tasks: Task[]; total: number }> {
  const { data, response } = await tasksList({
    client,
    query: {
      status: 'pending',
      priority: 'high',
      assigned_to: 'usr_7f3a',
      project: 'website',
      parent_id: 7,
      q: 'release notes',
      ready: true,
      sort: '-due_date',
      limit: 20,
      offset: 40,
    },
  });
  const total: number = Number(response.headers.get('X-Total-Count'));
  return { tasks: data ?? [], total };
}

/** A task's ETag, as every answer that is a task sends it. */
const etagOf = (response: Response): string => response.headers.get('ETag') ?? '*';

/** Create, then start → progress → complete, each step conditional on the version just read. */
export async function createAndFinish(client: Api, title: string): Promise<Task | ErrorResponse> {
  const created = await tasksCreate({ client, body: { title, priority: 'high', due_date: null } });
  if (!created.data) return created.error;
  const id: number = created.data.id;
  const version: number = created.data.version;
  const blockedBy: number[] = created.data.blocked_by;
  void version;
  void blockedBy;

  const started = await taskLifecycleStart({
    client,
    path: { id },
    headers: { 'If-Match': etagOf(created.response) },
  });
  if (!started.data) return started.error;
  const progressed = await taskLifecycleProgress({
    client,
    path: { id },
    body: { percent: 50, note: 'half way' },
    headers: { 'If-Match': etagOf(started.response) },
  });
  if (!progressed.data) return progressed.error;
  // @ts-expect-error percent is required: a call without it must not compile (it would be a 422)
  await taskLifecycleProgress({ client, path: { id }, body: { note: 'no percent' } });

  const completed = await taskLifecycleComplete({
    client,
    path: { id },
    headers: { 'If-Match': etagOf(progressed.response) },
  });
  return completed.data ?? completed.error;
}

/** An edit that clears a field with null, and refuses to overwrite someone else's change. */
export async function rename(client: Api, task: Task, title: string): Promise<string> {
  const result = await tasksUpdate({
    client,
    path: { id: task.id },
    body: { title, due_date: null, parent_id: null, assigned_to: null },
    headers: { 'If-Match': `"${task.id}-${task.version}"` },
  });
  if (result.data) return `renamed to ${result.data.title}`;
  return explain(result.error);
}

/** Polling: 304 while the task is unchanged. */
export async function poll(client: Api, task: Task): Promise<boolean> {
  const { response } = await tasksFindOne({
    client,
    path: { id: task.id },
    headers: { 'If-None-Match': `"${task.id}-${task.version}"` },
  });
  return response.status === 304;
}

/** Audit entries, each with the context of its action. */
export function describeEntry(entry: AuditEntry): string {
  switch (entry.action) {
    case 'progressed':
      return `${entry.actor_id} reported ${entry.context.percent}% (${entry.context.note ?? 'no note'})`;
    case 'blocked':
      return `blocked: ${entry.context.reason ?? 'no reason given'}`;
    case 'updated': {
      const priority: { from: TaskPriority; to: TaskPriority } | undefined = entry.context.priority;
      return priority ? `priority ${priority.from} → ${priority.to}` : 'edited';
    }
    case 'created':
      return `created "${entry.context.title}"`;
    case 'dependency_added':
      return `now waits for task ${entry.context.depends_on}`;
    case 'started':
      return entry.context === null ? 'started' : 'unexpected context';
    default:
      return entry.action;
  }
}

export async function history(client: Api, id: number): Promise<string[]> {
  const { data } = await auditForTask({ client, path: { id }, query: { limit: 100 } });
  return (data ?? []).map(describeEntry);
}

/** Errors are told apart by `code`, never by their message. */
export function explain(error: ErrorResponse): string {
  const code: ErrorCode = error.code;
  switch (code) {
    case 'precondition_failed':
      return 'Someone else changed this task: reload it and try again.';
    case 'task_claimed':
      return 'Somebody claimed it first.';
    case 'dependency_unfinished':
      return 'It waits for another task.';
    case 'validation_failed':
      return (error.details ?? []).map((d) => `${d.field}: ${d.message}`).join('\n');
    default:
      return error.error;
  }
}

/** A form's values, checked with orval's zod schema before they are sent as a PATCH. */
export function patchFromForm(form: unknown) {
  const body = tasksUpdateBody.parse(form);
  const title: string | undefined = body.title;
  void title;
  return body;
}
