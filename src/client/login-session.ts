import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BetterAuthError, fetchJwt } from './better-auth';
import { type Credentials, CredentialError, renewalDue, staticToken } from './credentials';

/**
 * The login session that `taskflow login` stores (a Better Auth session cookie next to the JWT),
 * and how the CLI and the MCP server both renew from it: the same code, so a long-running agent
 * keeps its identity exactly as the CLI does, instead of dying with 401s a quarter of an hour in.
 */

export const DEFAULT_API_URL = 'http://localhost:8000';

/** What `taskflow login` writes. Holds secrets: always written with mode 0600. */
export interface StoredConfig {
  /** The TaskFlow API base URL. */
  url?: string;
  token?: string;
  /** The Better Auth server and its session cookie, to fetch a new JWT when `token` expires. */
  auth_url?: string;
  session?: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.TASKFLOW_CONFIG) return env.TASKFLOW_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'taskflow', 'config.json');
}

export function readConfig(path: string): StoredConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CredentialError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed;
    }
  } catch {
    // Reported below, with the path.
  }
  throw new CredentialError(`${path} is not a JSON object: fix it or run \`taskflow login\` again`);
}

/**
 * Written to a temporary file first and renamed, so a crash never leaves half a config (and a
 * process reading it meanwhile sees the old file or the new one); the explicit chmod covers a
 * file that already existed with looser permissions.
 */
export function writeConfig(path: string, config: StoredConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/**
 * The login session in a config file written by `taskflow login`. Renewals are written back to
 * the file, and the file is read again before each renewal: processes sharing it (the CLI, other
 * agent sessions) reuse each other's fresh tokens, and a `taskflow login` run after the session
 * expired is picked up without restarting anything. Concurrent requests share one renewal.
 */
export class LoginSession implements Credentials {
  private current: string | undefined;
  private renewal: Promise<string> | undefined;

  constructor(
    readonly path: string,
    initial: StoredConfig = readConfig(path),
  ) {
    this.current = initial.token;
  }

  get source(): string {
    return `login session ${this.path}`;
  }

  async token(): Promise<string> {
    if (this.current && !renewalDue(this.current)) return this.current;
    return this.renew();
  }

  async renewAfterRejection(rejected: string): Promise<string | undefined> {
    // Another request renewed while this one was out: retry with that token.
    if (this.current !== rejected) return this.current ?? this.renew();
    return this.renew();
  }

  private renew(): Promise<string> {
    this.renewal ??= this.fetchFresh().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  private async fetchFresh(): Promise<string> {
    const config = readConfig(this.path);
    const { token, auth_url: authUrl, session } = config;
    if (token && token !== this.current && !renewalDue(token)) {
      this.current = token;
      return token;
    }
    if (!authUrl || !session) {
      // A file without a session (written by hand, or by an older CLI) gives what it has.
      if (token) return (this.current = token);
      throw new CredentialError(
        `${this.path} holds no login session: run \`taskflow login --email <email>\` (TASKFLOW_CONFIG names the file)`,
        401,
      );
    }
    let fresh: string;
    try {
      fresh = await fetchJwt(authUrl, session);
    } catch (error) {
      if (!(error instanceof BetterAuthError)) throw error;
      if (error.status === 401) {
        throw new CredentialError(
          `the login session in ${this.path} has expired or was signed out: run \`taskflow login --email <email>\` again with TASKFLOW_CONFIG=${this.path}`,
          401,
        );
      }
      throw new CredentialError(`cannot renew the token: ${error.message}`, error.status);
    }
    writeConfig(this.path, { ...config, token: fresh });
    this.current = fresh;
    return fresh;
  }
}

export interface Connection {
  baseUrl: string;
  /** `undefined`: nothing to authenticate with (not logged in, no TASKFLOW_TOKEN). */
  credentials: Credentials | undefined;
  /** The config file that was (or would have been) read. */
  configPath: string;
}

/**
 * TASKFLOW_URL, TASKFLOW_API_KEY and TASKFLOW_TOKEN win over the config file (TASKFLOW_CONFIG,
 * by default `~/.config/taskflow/config.json`), whose login session is renewable. An API key,
 * when set, replaces any login: it is the agent's own long-lived credential.
 */
export function resolveConnection(env: NodeJS.ProcessEnv): Connection {
  const path = configPath(env);
  const apiKey = env.TASKFLOW_API_KEY?.trim();
  const token = env.TASKFLOW_TOKEN?.trim();
  const config = env.TASKFLOW_URL && (apiKey || token) ? {} : readConfig(path);
  return {
    baseUrl: env.TASKFLOW_URL?.trim() || config.url || DEFAULT_API_URL,
    credentials: apiKey
      ? staticToken(apiKey, 'TASKFLOW_API_KEY')
      : token
        ? staticToken(token)
        : config.token || config.session
          ? new LoginSession(path, config)
          : undefined,
    configPath: path,
  };
}
