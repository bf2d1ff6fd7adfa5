import { CredentialError, type Credentials } from '../client/credentials';
import { resolveConnection } from '../client/login-session';
import { ALL_TOOL_GROUPS, DEFAULT_TOOL_GROUPS, TOOL_GROUPS, type ToolGroup } from './tool-groups';

export interface McpConfig {
  /** The TaskFlow API, without a trailing slash. */
  baseUrl: string;
  /**
   * The agent's own identity: the API records every change under it. An API key
   * (TASKFLOW_API_KEY) needs no renewal; a login session renews its JWT; a pasted TASKFLOW_TOKEN
   * does not.
   */
  credentials: Credentials;
  /** The tool groups to list (TASKFLOW_MCP_TOOLS). */
  tools: ToolGroup[];
}

/** A configuration mistake, worded as the one line the process prints before exiting 1. */
export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpConfigError';
  }
}

const isToolGroup = (name: string): name is ToolGroup => Object.hasOwn(TOOL_GROUPS, name);

/**
 * `TASKFLOW_MCP_TOOLS`: comma-separated group names; unset or blank means the default. An
 * unknown name is refused rather than skipped: a misspelt group would otherwise start a server
 * without the tools its agent expects, and the agent would only see them missing.
 */
export function parseToolGroups(value: string | undefined): ToolGroup[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_TOOL_GROUPS];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isToolGroup(name));
  if (unknown.length) {
    const shown = unknown.map((name) => `'${name}'`).join(', ');
    throw new McpConfigError(
      `TASKFLOW_MCP_TOOLS: unknown tool group ${shown}; the groups are ${ALL_TOOL_GROUPS.join(', ')} (default ${DEFAULT_TOOL_GROUPS.join(',')})`,
    );
  }
  return ALL_TOOL_GROUPS.filter((group) => names.includes(group));
}

/**
 * The tool groups, the API URL and the agent's credentials, resolved as the CLI resolves them
 * (TASKFLOW_URL, TASKFLOW_TOKEN, else the login session in TASKFLOW_CONFIG) and checked at start-up: an agent
 * runtime only shows a server that died, so the reason has to be in its first stderr line rather
 * than in every tool call. A session the auth server refuses is not checked here: it is a tool
 * error, and a fresh `taskflow login` mends it without a restart.
 */
export function loadMcpConfig(env: NodeJS.ProcessEnv): McpConfig {
  const tools = parseToolGroups(env.TASKFLOW_MCP_TOOLS);
  let connection;
  try {
    connection = resolveConnection(env);
  } catch (error) {
    if (error instanceof CredentialError) throw new McpConfigError(error.message);
    throw error;
  }
  const rawUrl = connection.baseUrl;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new McpConfigError(`TASKFLOW_URL must be an http(s) URL, got '${rawUrl}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new McpConfigError(`TASKFLOW_URL must be an http(s) URL, got '${rawUrl}'`);
  }

  if (!connection.credentials) {
    throw new McpConfigError(
      `no credentials: set TASKFLOW_API_KEY to the agent's API key (taskflow keys create <agent> --name …), or sign in as the agent with \`TASKFLOW_CONFIG=${connection.configPath} taskflow login --email <agent email>\` (the server renews its token from that session), or set TASKFLOW_TOKEN to a JWT (never renewed)`,
    );
  }
  return { baseUrl: rawUrl.replace(/\/+$/, ''), credentials: connection.credentials, tools };
}
