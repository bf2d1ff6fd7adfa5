import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { version } from '../../package.json';
import type { TaskflowClient } from '../client/taskflow-client';
import { DEFAULT_TOOL_GROUPS, registerToolGroups, type ToolGroup } from './tool-groups';

/**
 * Sent at initialize: runtimes that surface server instructions give the model the workflow.
 * Only the lines about loaded groups, so that they never name a tool the model cannot call.
 */
const INSTRUCTIONS: Record<ToolGroup, string[]> = {
  core: [
    "To work: list_tasks with status 'pending' → claim_task → update_progress as you go → complete_task (or request_review when a human should check).",
    'A 409 on claim_task means another worker claimed the task first: pick another one. If you cannot finish, release_task; if you are stuck on something outside your control, block_task with a reason.',
    'Tasks in a project are changed only by its members (list_projects); the shared board (no project) is open to all.',
    'Every change is recorded in the audit trail under your id (task_audit).',
    "request_review, complete_task, release_task and block_task take a hand-off note for whoever comes next; a task's last_handoff is the latest one: read it when you claim a task.",
  ],
  collab: [
    'On a task: comment_task leaves a note or a decision, list_comments reads the thread, add_artifact records what the work produced (a pull request, commit, log).',
    'When only a person can decide, ask_human with wait_seconds: the task waits (its lease held) and the answer comes back; do not guess.',
  ],
  admin: [
    'Admin tools (list_workers, register_worker, update_worker, create_project, set_project_member) change who works where: use them only when asked to.',
  ],
};

function instructions(groups: readonly ToolGroup[]): string {
  return [
    'TaskFlow is a task board shared by humans and AI agents; you act as your own worker.',
    ...groups.flatMap((group) => INSTRUCTIONS[group]),
  ].join('\n');
}

export interface TaskflowMcpOptions {
  api: TaskflowClient;
  /** For error messages only (where the API was expected). */
  baseUrl: string;
  /** The tool groups to list; default `core,collab`. */
  tools?: readonly ToolGroup[];
  /** How often `wait_for_task` and `ask_human` report progress, in ms (default `PROGRESS_MS`). */
  progressMs?: number;
}

/**
 * What the audit log records as this server's client (`X-TaskFlow-Client`): its own name and
 * version, and the agent runtime's name from its `initialize` request once it has sent one
 * (`taskflow-mcp/1.0.0 (claude-code)`). The runtime's name is reduced to the header's printable
 * ASCII and bounded, since the runtime chooses it.
 */
export function mcpClientName(server: McpServer | undefined): string {
  const runtime = server?.server.getClientVersion()?.name;
  const name = runtime
    ?.replace(/[^\x20-\x7e]/g, '')
    .replace(/[()]/g, '')
    .trim()
    .slice(0, 100);
  return name ? `taskflow-mcp/${version} (${name})` : `taskflow-mcp/${version}`;
}

/**
 * The MCP server with its tools, not yet connected: `main.ts` attaches it to stdio, and a test or
 * another transport can attach it to anything else.
 */
export function createTaskflowMcpServer(options: TaskflowMcpOptions): McpServer {
  const { tools = DEFAULT_TOOL_GROUPS, ...ctx } = options;
  const server = new McpServer(
    { name: 'taskflow', title: 'TaskFlow', version },
    { instructions: instructions(tools) },
  );
  registerToolGroups(server, ctx, tools);
  return server;
}
