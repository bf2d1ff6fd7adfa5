import { Command } from 'commander';
import {
  DEFAULT_AUTH_SERVER_URL,
  DEFAULT_PASSWORD,
  decodeJwtClaims,
  fetchJwt,
  signUpOrIn,
} from '../../client/better-auth';
import {
  configPath,
  DEFAULT_API_URL,
  readConfig,
  StoredConfig,
  writeConfig,
} from '../../client/login-session';
import { action, CliContext } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { details, time } from '../output';
import { meDetails } from '../views';

interface LoginOptions {
  email: string;
  password?: string;
  authUrl?: string;
  url?: string;
}

interface LoginResult {
  user: { id: string; email: string; name: string };
  url: string;
  auth_url: string;
  config: string;
  expires_at: string | null;
}

function requireHttpUrl(option: string, value: string): void {
  if (!/^https?:\/\/[^/]/.test(value)) {
    throw new CliError(`${option} must be an http(s) URL, got "${value}"`, ExitCode.Usage);
  }
}

function existingConfig(path: string): StoredConfig {
  try {
    return readConfig(path);
  } catch {
    return {};
  }
}

/**
 * Signs in (or up) with Better Auth and stores the API URL, the JWT and the session cookie, so
 * that later commands can fetch a new JWT when this one expires, without asking again.
 */
async function login(cli: CliContext, o: LoginOptions): Promise<void> {
  const path = configPath(cli.env);
  // A broken config file must not stand in the way of the login that rewrites it.
  const previous = existingConfig(path);
  const url = o.url || cli.env.TASKFLOW_URL || previous.url || DEFAULT_API_URL;
  const authUrl =
    o.authUrl || cli.env.AUTH_SERVER_URL || previous.auth_url || DEFAULT_AUTH_SERVER_URL;
  requireHttpUrl('--url', url);
  requireHttpUrl('--auth-url', authUrl);
  const password = o.password ?? cli.env.TASKFLOW_PASSWORD ?? DEFAULT_PASSWORD;
  const { session } = await signUpOrIn(authUrl, o.email, password);
  const token = await fetchJwt(authUrl, session.cookie);
  writeConfig(path, { url, token, auth_url: authUrl, session: session.cookie });

  const exp = decodeJwtClaims(token)?.exp;
  const { id, email, name } = session.user;
  const result: LoginResult = {
    user: { id, email, name },
    url,
    auth_url: authUrl,
    config: path,
    expires_at: exp ? new Date(exp * 1000).toISOString() : null,
  };
  cli.emit(result, (r) =>
    details([
      ['Logged in as', `${r.user.email} (${r.user.id})`],
      ['API', r.url],
      ['Auth server', r.auth_url],
      ['Token expires', `${time(r.expires_at)} (renewed automatically)`],
      ['Config', r.config],
    ]),
  );
}

export function registerAccountCommands(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('login')
    .description(
      'sign in to the Better Auth server (signing up if the account is new) and save the API URL and token',
    )
    .requiredOption('--email <email>', 'account email')
    .option(
      '--password <password>',
      `account password (env TASKFLOW_PASSWORD; default: the development password "${DEFAULT_PASSWORD}")`,
    )
    .option(
      '--auth-url <url>',
      `Better Auth server (env AUTH_SERVER_URL; default ${DEFAULT_AUTH_SERVER_URL})`,
    )
    .option('--url <url>', `TaskFlow API (env TASKFLOW_URL; default ${DEFAULT_API_URL})`)
    .action(action(env, login));

  program
    .command('whoami')
    .description('who the API thinks you are: id, email, role, worker type')
    .action(action(env, (cli) => cli.show((api) => api.GET('/api/me'), meDetails)));
}
