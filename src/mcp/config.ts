export const DEFAULT_TASKFLOW_URL = 'http://localhost:8000';

export interface McpConfig {
  /** The TaskFlow API, without a trailing slash. */
  baseUrl: string;
  /** The agent's own JWT: the API records every change under the identity it carries. */
  token: string;
}

/** A configuration mistake, worded as the one line the process prints before exiting 1. */
export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpConfigError';
  }
}

/**
 * `TASKFLOW_URL` and `TASKFLOW_TOKEN`, checked at start-up: an agent runtime only shows a server
 * that died, so the reason has to be in its first stderr line rather than in every tool call.
 */
export function loadMcpConfig(env: NodeJS.ProcessEnv): McpConfig {
  const rawUrl = env.TASKFLOW_URL?.trim() || DEFAULT_TASKFLOW_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new McpConfigError(`TASKFLOW_URL must be an http(s) URL, got '${rawUrl}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new McpConfigError(`TASKFLOW_URL must be an http(s) URL, got '${rawUrl}'`);
  }

  const token = env.TASKFLOW_TOKEN?.trim();
  if (!token) {
    throw new McpConfigError(
      "TASKFLOW_TOKEN is required: the agent's own JWT (npm run token -- --email <agent email>), so the audit log shows the agent as itself",
    );
  }
  return { baseUrl: rawUrl.replace(/\/+$/, ''), token };
}
