import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createTaskflowClient } from '../client/taskflow-client';
import { createTaskflowMcpServer } from './server';
import { ALL_TOOL_GROUPS, DEFAULT_TOOL_GROUPS, type ToolGroup } from './tool-groups';

/**
 * What a set of tool groups costs an agent's context: the `tools/list` answer its runtime gets
 * (name, title, description, input schema, annotations of each tool), measured as JSON.
 *
 * Tokens are estimated as characters / 4, rounded up: no tokenizer is installed here, and the
 * models' own differ. JSON schemas are punctuation-heavy, so a real tokenizer tends to count
 * somewhat more; the figures are for comparing groups, not for billing.
 */
export interface ToolSetSize {
  /** `core`, or several joined by `,` (`core,collab`). */
  groups: string;
  tools: number;
  characters: number;
  tokens: number;
}

export const CHARACTERS_PER_TOKEN = 4;

/** The tools a server with these groups lists, as a connected client receives them. */
export async function listedTools(groups: readonly ToolGroup[]): Promise<Tool[]> {
  // Listing tools sends no request to the API: the client is never used.
  const baseUrl = 'http://127.0.0.1:9';
  const api = createTaskflowClient({ baseUrl, token: 'unused' });
  const server = createTaskflowMcpServer({ api, baseUrl, tools: groups });
  const client = new Client({ name: 'tool-sizes', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    // A server without tools does not offer tools/list at all.
    if (!client.getServerCapabilities()?.tools) return [];
    return (await client.listTools()).tools;
  } finally {
    await client.close();
    await server.close();
  }
}

async function sizeOf(groups: readonly ToolGroup[]): Promise<ToolSetSize> {
  const tools = await listedTools(groups);
  const characters = tools.reduce((sum, tool) => sum + JSON.stringify(tool).length, 0);
  return {
    groups: groups.join(','),
    tools: tools.length,
    characters,
    tokens: Math.ceil(characters / CHARACTERS_PER_TOKEN),
  };
}

/** Each group alone, then the default set and every group together. */
export async function toolSetSizes(): Promise<ToolSetSize[]> {
  const sets: (readonly ToolGroup[])[] = [
    ...ALL_TOOL_GROUPS.map((group) => [group]),
    DEFAULT_TOOL_GROUPS,
    ALL_TOOL_GROUPS,
  ];
  const sizes: ToolSetSize[] = [];
  for (const set of sets) sizes.push(await sizeOf(set));
  return sizes;
}

export const SIZES_START = '<!-- tool-sizes:start (npm run mcp:sizes -- --write) -->';
export const SIZES_END = '<!-- tool-sizes:end -->';

export function sizeTable(sizes: readonly ToolSetSize[]): string {
  const rows = sizes.map((s) => `| \`${s.groups}\` | ${s.tools} | ${s.characters} | ${s.tokens} |`);
  return [
    '| `TASKFLOW_MCP_TOOLS` | tools | characters | ≈ tokens |',
    '| --- | --: | --: | --: |',
    ...rows,
  ].join('\n');
}

/** The rows of the table between the markers of `markdown`, or null without the markers. */
export function documentedSizes(markdown: string): ToolSetSize[] | null {
  const start = markdown.indexOf(SIZES_START);
  const end = markdown.indexOf(SIZES_END);
  if (start < 0 || end < start) return null;
  return markdown
    .slice(start + SIZES_START.length, end)
    .split('\n')
    .map((line) =>
      /^\|\s*`([a-z,]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|$/.exec(line.trim()),
    )
    .filter((match) => match !== null)
    .map(([, groups, tools, characters, tokens]) => ({
      groups,
      tools: Number(tools),
      characters: Number(characters),
      tokens: Number(tokens),
    }));
}

/** `markdown` with the table between its markers replaced (unformatted: prettier aligns it). */
export function withSizeTable(markdown: string, sizes: readonly ToolSetSize[]): string {
  const start = markdown.indexOf(SIZES_START);
  const end = markdown.indexOf(SIZES_END);
  if (start < 0 || end < start) {
    throw new Error(`docs/mcp.md has no ${SIZES_START} … ${SIZES_END} markers`);
  }
  return `${markdown.slice(0, start + SIZES_START.length)}\n\n${sizeTable(sizes)}\n\n${markdown.slice(end)}`;
}
