import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { version } from '../../package.json';
import type { TaskflowClient } from '../client/taskflow-client';
import { registerTaskflowTools } from './tools';

/** Sent at initialize: runtimes that surface server instructions give the model the workflow. */
const INSTRUCTIONS = [
  'TaskFlow is a task board shared by humans and AI agents; you act as your own worker (whoami).',
  "To work: list_tasks with status 'pending' → claim_task → update_progress as you go → complete_task (or request_review when a human should check).",
  'A 409 on claim_task means another worker claimed the task first: pick another one. If you cannot finish, release_task; if you are stuck on something outside your control, block_task with a reason.',
  'Tasks in a project are changed only by its members (list_projects); the shared board (no project) is open to all.',
  'Every change is recorded in the audit trail under your id (task_audit).',
].join('\n');

export interface TaskflowMcpOptions {
  api: TaskflowClient;
  /** For error messages only (where the API was expected). */
  baseUrl: string;
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
  const server = new McpServer(
    { name: 'taskflow', title: 'TaskFlow', version },
    { instructions: INSTRUCTIONS },
  );
  registerTaskflowTools(server, options);
  return server;
}
