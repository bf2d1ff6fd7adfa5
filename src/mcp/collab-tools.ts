import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from './tool-kit';

/**
 * The collab group: what an agent says to the people (and agents) it works with on a task.
 */
export function registerCollabTools(server: McpServer, ctx: ToolContext): void {
  void server;
  void ctx;
}
