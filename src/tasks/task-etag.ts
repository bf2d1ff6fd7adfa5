import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CheckBeforeWrite, WritePrecondition } from '../audit/write-precondition';
import { PreconditionFailedError } from '../common/errors/domain-errors';
import { TaskRepository } from './task.repository';
import type { AuthUser } from '../auth/auth-user';

/**
 * Conditional requests on tasks (RFC 9110 §13). A task's strong `ETag` is `"<id>-<version>"`;
 * the database adds one to `version` on every write of the row (trigger `trg_tasks_version`).
 */
export const etagOf = (task: { id: number; version: number }): string =>
  `"${task.id}-${task.version}"`;

/** `*`, or the entity tags listed in an `If-Match` / `If-None-Match` header. */
export function entityTags(header: string | string[] | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

/** A valid task id as `ParseIdPipe` would take it; anything else is left to the pipe's 422. */
function taskIdOf(request: FastifyRequest): number | undefined {
  const raw = (request.params as { id?: unknown } | undefined)?.id;
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw)) return undefined;
  const id = Number(raw);
  return id <= 2_147_483_647 ? id : undefined;
}

/**
 * `If-Match` on a write to `/api/tasks/{id}…`: 412 unless the task is still at a listed version,
 * and nothing changes. Checked in the write's transaction before anything else runs (a stale
 * request is a 412 even where the move itself would be refused), then armed for the transaction
 * so that the trigger refuses the write if another request committed in between: no lock is
 * held from here to the write, so no lock order is imposed on the handler. A task that does not
 * exist is left to the handler's 404. Weak tags never match (strong comparison).
 */
@Injectable()
export class TaskIfMatch implements WritePrecondition {
  constructor(private readonly tasks: TaskRepository) {}

  async check(request: FastifyRequest): Promise<void> {
    const tags = entityTags(request.headers['if-match']);
    const id = taskIdOf(request);
    if (!tags || id === undefined) return;
    const version = await this.tasks.versionOf(
      id,
      (request as FastifyRequest & { user: AuthUser }).user,
    );
    if (version === undefined || tags.includes('*')) return;
    const current = etagOf({ id, version });
    if (!tags.includes(current)) {
      throw new PreconditionFailedError(
        `Task ${id} is now at ${current}, not ${tags.join(', ')}; read it again and retry`,
      );
    }
    await this.tasks.expectVersion(id, version);
  }
}

const isVersionedTask = (body: unknown): body is { id: number; version: number } =>
  typeof body === 'object' &&
  body !== null &&
  !Array.isArray(body) &&
  typeof (body as { id?: unknown }).id === 'number' &&
  typeof (body as { version?: unknown }).version === 'number';

/**
 * A Fastify `preSerialization` hook: sends the `ETag` of every answer that is one task, and
 * answers a `GET` whose `If-None-Match` names it with 304 and no body (cheap polling: the row
 * is read, nothing is serialised or sent). A hook on the answer rather than a Nest interceptor,
 * so that reads, the board's hot path, still run through no interceptor at all.
 */
export function sendTaskETag(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: Error | null, payload?: unknown) => void,
): void {
  if (!isVersionedTask(payload)) {
    done(null, payload);
    return;
  }
  const etag = etagOf(payload);
  void reply.header('ETag', etag);
  const unchanged = entityTags(request.headers['if-none-match']);
  // If-None-Match compares weakly: W/"1-2" names the same version as "1-2".
  if (
    request.method === 'GET' &&
    unchanged?.some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag)
  ) {
    void reply.code(304).removeHeader('content-type');
    done(null, null);
    return;
  }
  done(null, payload);
}

/** On a tasks controller: `If-Match` on its writes (its answers get their ETag from `sendTaskETag`). */
export const TaskConditionalRequests = () => CheckBeforeWrite(TaskIfMatch);

const TASK_SCHEMA = '#/components/schemas/Task';

/**
 * The same rules in `openapi.json`: `ETag` on every answer that is a task, `If-Match` (and its
 * 412) on every write under `/api/tasks/{id}`, `If-None-Match` (and its 304) on reading one.
 */
export function documentConditionalRequests(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(item)) {
      const op = value as OperationObject;
      if (!op?.responses) continue;
      for (const response of Object.values(op.responses) as ResponseObject[]) {
        const schema = response.content?.['application/json']?.schema as { $ref?: string };
        if (schema?.$ref !== TASK_SCHEMA) continue;
        response.headers = {
          ...response.headers,
          ETag: {
            description:
              'The task\'s version, `"<id>-<version>"`: send it back in `If-Match` or `If-None-Match`.',
            schema: { type: 'string', example: '"42-3"' },
            required: true,
          },
        };
      }
      if (!path.startsWith('/api/tasks/{id}')) continue;
      if (method === 'get' && path === '/api/tasks/{id}') {
        op.parameters = [...(op.parameters ?? []), CONDITION_HEADERS.ifNoneMatch];
        op.responses['304'] = {
          description: 'Not modified: the task is still at the version named in `If-None-Match`.',
        };
      } else if (method !== 'get') {
        op.parameters = [...(op.parameters ?? []), CONDITION_HEADERS.ifMatch];
        op.responses['412'] = {
          description: 'The task changed since the version in `If-Match`; nothing was changed',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/ErrorResponse' },
              example: {
                error: 'Task 42 is now at "42-4", not "42-3"; read it again and retry',
                status_code: 412,
                code: 'precondition_failed',
              },
            },
          },
        };
      }
    }
  }
}

const CONDITION_HEADERS = {
  ifMatch: {
    name: 'If-Match',
    in: 'header' as const,
    required: false,
    description:
      'Write only if the task is still at this version (its `ETag`); else 412 and nothing changes. `*` matches any version.',
    schema: { type: 'string', example: '"42-3"' },
  },
  ifNoneMatch: {
    name: 'If-None-Match',
    in: 'header' as const,
    required: false,
    description: 'The `ETag` you hold: 304 with no body while the task is still at that version.',
    schema: { type: 'string', example: '"42-3"' },
  },
};
