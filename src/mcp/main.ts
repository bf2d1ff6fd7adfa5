#!/usr/bin/env node
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { LoginSession } from '../client/login-session';
import { createTaskflowClient } from '../client/taskflow-client';
import { loadMcpConfig, McpConfigError } from './config';
import { createTaskflowMcpServer, mcpClientName } from './server';

/**
 * `taskflow-mcp`: the TaskFlow tools for an AI agent, over MCP on stdio. stdout carries the
 * protocol and nothing else (one stray line breaks the client's framing), so every human-readable
 * line goes to stderr, which agent runtimes keep as the server's log.
 */
const log = (line: string) => process.stderr.write(`taskflow-mcp: ${line}\n`);

async function main(): Promise<void> {
  let config;
  try {
    config = loadMcpConfig(process.env);
  } catch (error) {
    if (!(error instanceof McpConfigError)) throw error;
    log(error.message);
    process.exit(1);
  }

  // The client name is asked on each request: the runtime's name arrives with `initialize`.
  let server: McpServer | undefined = undefined;
  const { baseUrl, credentials, tools } = config;
  const api = createTaskflowClient({
    baseUrl,
    credentials,
    client: () => mcpClientName(server),
  });
  server = createTaskflowMcpServer({ api, baseUrl, tools });
  const transport = new StdioServerTransport();

  // The runtime ends a stdio server by closing its stdin; idle keep-alive sockets to the API
  // would otherwise keep the process alive after the client has gone.
  const shutdown = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  await server.connect(transport);
  const renewable = credentials instanceof LoginSession;
  log(
    `ready (stdio), API ${baseUrl}${renewable ? `, ${credentials.source}` : ''}, tools ${tools.join(',')}`,
  );
  // A session the auth server refuses is told now, where the runtime keeps the log; the server
  // stays up (a runtime would only restart it into the same refusal), its tools answer with the
  // same message, and the next `taskflow login` into that file mends it.
  if (renewable) credentials.token().catch((error: Error) => log(error.message));
}

main().catch((error: unknown) => {
  log(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
