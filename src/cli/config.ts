import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BetterAuthError, decodeJwtClaims, fetchJwt } from '../client/better-auth';
import { CliError, ExitCode } from './exit-codes';

export const DEFAULT_API_URL = 'http://localhost:8000';
/** Fetch a new JWT this long before the stored one expires, so a request never races the expiry. */
const REFRESH_MARGIN_SECONDS = 60;

/** What `taskflow login` writes. Holds secrets: always written with mode 0600. */
export interface StoredConfig {
  /** The TaskFlow API base URL. */
  url?: string;
  token?: string;
  /** The Better Auth server and its session cookie, to fetch a new JWT when `token` expires. */
  auth_url?: string;
  session?: string;
}

export interface Connection {
  baseUrl: string;
  token?: string;
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
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, ExitCode.Failure);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed;
    }
  } catch {
    // Reported below, with the path.
  }
  throw new CliError(
    `${path} is not a JSON object: fix it or run \`taskflow login\` again`,
    ExitCode.Failure,
  );
}

/**
 * Written to a temporary file first and renamed, so a crash never leaves half a config; the
 * explicit chmod covers a file that already existed with looser permissions.
 */
export function writeConfig(path: string, config: StoredConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

function expiresSoon(token: string): boolean {
  const exp = decodeJwtClaims(token)?.exp;
  return exp !== undefined && exp - REFRESH_MARGIN_SECONDS <= Date.now() / 1000;
}

/** The stored JWT, replaced by a new one from the login session when it is about to expire. */
async function storedToken(path: string, config: StoredConfig): Promise<string | undefined> {
  const { token, auth_url: authUrl, session } = config;
  if (!token || !authUrl || !session || !expiresSoon(token)) return token;
  let fresh: string;
  try {
    fresh = await fetchJwt(authUrl, session);
  } catch (error) {
    if (error instanceof BetterAuthError && error.status === 401) {
      throw new CliError('the login session has expired: run `taskflow login`', ExitCode.Auth);
    }
    throw error;
  }
  writeConfig(path, { ...config, token: fresh });
  return fresh;
}

/** TASKFLOW_URL and TASKFLOW_TOKEN win over the config file. */
export async function resolveConnection(env: NodeJS.ProcessEnv): Promise<Connection> {
  const path = configPath(env);
  const config = env.TASKFLOW_URL && env.TASKFLOW_TOKEN ? {} : readConfig(path);
  return {
    baseUrl: env.TASKFLOW_URL || config.url || DEFAULT_API_URL,
    token: env.TASKFLOW_TOKEN || (await storedToken(path, config)),
  };
}
