import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTaskflowClient } from '../../src/client/taskflow-client';
import { createTaskflowMcpServer, type TaskflowMcpOptions } from '../../src/mcp/server';

/**
 * The MCP server as an agent runtime starts it: `src/mcp/main.ts` in a child process over stdio,
 * from source (ts-node without type checking starts in well under a second), against a
 * listening API with the agent's token; `env` adds to its environment (TASKFLOW_MCP_TOOLS…).
 */
export async function startMcpClient(
  url: string,
  token: string,
  name = 'taskflow-e2e',
  credentialVariable: 'TASKFLOW_TOKEN' | 'TASKFLOW_API_KEY' = 'TASKFLOW_TOKEN',
  env: Record<string, string> = {},
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'],
    cwd: join(__dirname, '..', '..'),
    env: { TASKFLOW_URL: url, [credentialVariable]: token, ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * The same server in this process, on an in-memory transport: for what the stdio process cannot
 * be given, such as a shorter progress interval (`progressMs`).
 */
export async function connectInProcess(
  url: string,
  token: string,
  options: Pick<TaskflowMcpOptions, 'progressMs'> = {},
): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = createTaskflowMcpServer({
    api: createTaskflowClient({ baseUrl: url, token }),
    baseUrl: url,
    ...options,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'in-process', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return { client, close: () => client.close().then(() => server.close()) };
}

/**
 * The server started with exactly `env` (no credentials or config of the developer's), run to
 * its exit: for start-up refusals, which must be one stderr line and an exit code.
 */
export async function runMcpToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'],
    {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** One tool call, whatever it answers; long enough a timeout for `wait_for_task`. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 120_000,
  })) as CallToolResult;
}

/**
 * The progress notifications of one waiting call, as its `onprogress` got them: at least two,
 * each for the whole wait (`total`, in seconds) with the tool's message, each further along.
 */
export function expectWaitProgress(progress: Progress[], total: number, message: string): void {
  expect(progress.length).toBeGreaterThanOrEqual(2);
  for (const report of progress) {
    expect(report).toEqual({ progress: expect.any(Number), total, message });
  }
  const waited = progress.map((report) => report.progress);
  expect(waited[0]).toBeGreaterThan(0);
  for (let i = 1; i < waited.length; i++) expect(waited[i]).toBeGreaterThan(waited[i - 1]);
}

/** The tools of each group (TASKFLOW_MCP_TOOLS), as a server lists them, by name. */
export const CORE_TOOLS = [
  'add_dependency',
  'approve_task',
  'assign_task',
  'block_task',
  'claim_next_task',
  'claim_task',
  'complete_task',
  'create_task',
  'fail_task',
  'get_task',
  'heartbeat_task',
  'list_projects',
  'list_tasks',
  'reject_task',
  'release_task',
  'remove_dependency',
  'reopen_task',
  'report_usage',
  'request_review',
  'task_audit',
  'update_progress',
  'update_task',
  'wait_for_task',
  'whoami',
];
export const COLLAB_TOOLS = ['add_artifact', 'ask_human', 'comment_task', 'list_comments'];
export const ADMIN_TOOLS = [
  'create_project',
  'list_workers',
  'register_worker',
  'remove_project_member',
  'set_project_member',
  'update_worker',
];
