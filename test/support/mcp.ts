import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';

/**
 * The MCP server as an agent runtime starts it: `src/mcp/main.ts` in a child process over stdio,
 * from source (ts-node without type checking starts in well under a second), against a
 * listening API with the agent's token.
 */
export async function startMcpClient(
  url: string,
  token: string,
  name = 'taskflow-e2e',
  credentialVariable: 'TASKFLOW_TOKEN' | 'TASKFLOW_API_KEY' = 'TASKFLOW_TOKEN',
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'],
    cwd: join(__dirname, '..', '..'),
    env: { TASKFLOW_URL: url, [credentialVariable]: token },
    stderr: 'pipe',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
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
