import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
// zod/v3, not zod: see tool-kit.ts.
import { z } from 'zod/v3';
import { enums, schemaLimits } from '../client/contract';
import { unwrap, unwrapPage } from '../client/taskflow-client';
import {
  capability,
  DEFAULT_PAGE_SIZE,
  MOVE,
  pagination,
  READ,
  register,
  text,
  type ToolContext,
} from './tool-kit';

const WORKER = schemaLimits.CreateWorkerDto;
const PROJECT = schemaLimits.CreateProjectDto;

const workerId = (what: string) =>
  text({ minLength: 1, maxLength: WORKER.id.maxLength }).describe(what);
const slug = () =>
  z
    .string()
    .regex(new RegExp(PROJECT.slug.pattern), 'slug must be 1–100 of a-z, 0-9 and -')
    .describe('Project slug, e.g. "website"');
const capabilities = (what: string) =>
  z.array(capability()).max(WORKER.capabilities.maxItems).describe(what);

/**
 * The admin group: the registry of workers and projects, for an agent that sets up work for
 * others. Not loaded unless asked for (TASKFLOW_MCP_TOOLS): an agent that only works tasks
 * should not pay for these definitions, nor be tempted by them. API keys and webhooks are left
 * to the CLI: each answers a secret once, which does not belong in a model's context.
 */
export function registerAdminTools(server: McpServer, ctx: ToolContext): void {
  const { api } = ctx;

  register(
    server,
    ctx,
    'list_workers',
    {
      title: 'List workers',
      description:
        'The registered workers (humans and agents): id, name, type and capabilities, the ids tasks are assigned to.',
      input: {
        type: z.enum(enums.WorkerType).optional().describe('Only humans or only agents'),
        ...pagination('workers'),
      },
      annotations: READ,
    },
    async (query) => {
      const { items: workers, total } = await unwrapPage(
        api.GET('/api/workers', { params: { query } }),
      );
      return { total, limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0, workers };
    },
  );

  register(
    server,
    ctx,
    'register_worker',
    {
      title: 'Register a worker',
      description:
        'Register a worker by id (its JWT sub). Only an admin may register another worker or an agent.',
      input: {
        id: workerId('The worker id (JWT sub); default: your own'),
        name: text({ minLength: 1, maxLength: WORKER.name.maxLength }).describe(
          `Display name, up to ${WORKER.name.maxLength} characters`,
        ),
        type: z.enum(enums.WorkerType).optional().describe('human (the default) or agent'),
        capabilities: capabilities('What it can do; tasks requiring these go to it').optional(),
      },
      annotations: MOVE,
    },
    async (body) => (await unwrap(api.POST('/api/workers', { body }))).data,
  );

  register(
    server,
    ctx,
    'update_worker',
    {
      title: 'Update a worker',
      description:
        "Rename a worker or replace its capabilities (what claim_next_task matches against tasks' required_capabilities). Only an admin may change another worker.",
      input: {
        id: workerId('The worker id'),
        name: text({ minLength: 1, maxLength: WORKER.name.maxLength })
          .optional()
          .describe('New display name'),
        capabilities: capabilities("Replaces the worker's capabilities").optional(),
      },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ id, ...body }) =>
      (await unwrap(api.PATCH('/api/workers/{id}', { params: { path: { id } }, body }))).data,
  );

  register(
    server,
    ctx,
    'create_project',
    {
      title: 'Create a project',
      description:
        'Create a project with you as its owner. internal: everyone reads, members write; private: only members read and write.',
      input: {
        slug: slug(),
        name: text({ minLength: 1, maxLength: PROJECT.name.maxLength }).describe(
          `Display name, up to ${PROJECT.name.maxLength} characters`,
        ),
        description: text(PROJECT.description)
          .optional()
          .describe(`Up to ${PROJECT.description.maxLength} characters`),
        visibility: z
          .enum(enums.ProjectVisibility)
          .optional()
          .describe('internal (the default) or private'),
        review_policy: z
          .enum(enums.ReviewPolicy)
          .optional()
          .describe(
            "Who signs off an agent's work: other (the default: anyone but its assignee) or human (a person only)",
          ),
      },
      annotations: MOVE,
    },
    async (body) => (await unwrap(api.POST('/api/projects', { body }))).data,
  );

  register(
    server,
    ctx,
    'set_project_member',
    {
      title: 'Add a project member',
      description:
        'Add a worker to a project you own, or change its role: owner manages it, member works on its tasks, viewer reads.',
      input: {
        slug: slug(),
        worker_id: workerId('The worker id to add'),
        role: z.enum(enums.ProjectRole).describe('owner, member or viewer'),
      },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ slug, ...body }) =>
      (await unwrap(api.POST('/api/projects/{slug}/members', { params: { path: { slug } }, body })))
        .data,
  );

  register(
    server,
    ctx,
    'remove_project_member',
    {
      title: 'Remove a project member',
      description: 'Take a worker out of a project you own (its last owner cannot be removed).',
      input: { slug: slug(), worker_id: workerId('The worker id to remove') },
      annotations: { ...MOVE, destructiveHint: true, idempotentHint: true },
    },
    async ({ slug, worker_id }) => {
      await unwrap(
        api.DELETE('/api/projects/{slug}/members/{worker_id}', {
          params: { path: { slug, worker_id } },
        }),
      );
      return { slug, removed_member: worker_id };
    },
  );
}
