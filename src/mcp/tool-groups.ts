import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerAdminTools } from './admin-tools';
import { registerCollabTools } from './collab-tools';
import type { ToolContext } from './tool-kit';
import { registerCoreTools } from './tools';

/**
 * Tool groups, so that an agent loads only what it uses: every tool definition a server lists
 * is context the model pays for on every turn (docs/mcp.md gives each group's size).
 */
export const TOOL_GROUPS = {
  /** The task work an agent does: find, claim, report, hand to review, finish, give back. */
  core: registerCoreTools,
  /** Talking to people on a task: comments, questions, results. */
  collab: registerCollabTools,
  /** The registry of workers and projects. */
  admin: registerAdminTools,
} as const;

export type ToolGroup = keyof typeof TOOL_GROUPS;

export const ALL_TOOL_GROUPS = Object.keys(TOOL_GROUPS) as ToolGroup[];
export const DEFAULT_TOOL_GROUPS: readonly ToolGroup[] = ['core', 'collab'];

export function registerToolGroups(
  server: McpServer,
  ctx: ToolContext,
  groups: readonly ToolGroup[],
): void {
  for (const group of groups) TOOL_GROUPS[group](server, ctx);
}
