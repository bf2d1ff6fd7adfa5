import { Command } from 'commander';
import { Client } from 'pg';
import { authDatabaseUrl } from '../auth-server/database-url';

/**
 * `npm run token -- --email qa@example.com [--admin] [--password …] [--name …] [--url …]`
 *
 * Prints a JWT from the Better Auth dev server (auth-server/, `npm run auth-server`) on stdout and
 * nothing else, so `TOKEN=$(npm run -s token -- --email …)` works; messages go to stderr. The
 * account is signed up when new, signed in otherwise. `--admin` sets its role to `admin` straight
 * in the auth database (the admin plugin cannot promote the first admin through its API) and
 * signs in again so the JWT carries `role: "admin"`.
 *
 * The functions are exported for test/support/auth-server.ts, which runs the same HTTP flow.
 */

export const DEFAULT_AUTH_SERVER_URL = 'http://localhost:3001';
export const DEFAULT_PASSWORD = 'taskflow-dev-password';
const REQUEST_TIMEOUT_MS = 10_000;

/** A failure worth one line on stderr (exit code 1), no stack. */
export class TokenError extends Error {}

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role?: string | null;
}

/** A signed-in account: the user as the auth server returned it and its session cookie. */
export interface AuthSession {
  user: AuthUser;
  /** Value for a `Cookie` request header. */
  cookie: string;
}

export interface TokenRequest {
  /** Auth server base URL, e.g. http://localhost:3001 */
  url: string;
  email: string;
  password?: string;
  /** Display name for a new account (default: the part of the email before `@`). */
  name?: string;
  admin?: boolean;
  /** The auth server's database, needed only with `admin`. */
  databaseUrl?: string;
  /** Progress messages (the CLI sends them to stderr). */
  log?: (message: string) => void;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  cookie: string;
}

async function call(baseUrl: string, path: string, init: RequestInit = {}): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new TokenError(
        `the auth server at ${baseUrl} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
      );
    }
    throw new TokenError(
      `cannot reach the auth server at ${baseUrl}; start it with \`npm run auth-server\``,
    );
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: the status says enough.
  }
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(';')[0].trim())
    .filter((pair) => pair.includes('=') && !pair.endsWith('='))
    .join('; ');
  return { status: response.status, body, cookie };
}

function failure(what: string, answer: Answer, baseUrl: string): TokenError {
  const detail = typeof answer.body.message === 'string' ? `: ${answer.body.message}` : '';
  const hint =
    answer.status === 404
      ? ` (is ${baseUrl} the auth server?)`
      : String(answer.body.code).includes('ORIGIN')
        ? ` (add ${new URL(baseUrl).origin} to the server's AUTH_TRUSTED_ORIGINS)`
        : '';
  return new TokenError(`${what} failed with HTTP ${answer.status}${detail}${hint}`);
}

function session(what: string, answer: Answer, baseUrl: string): AuthSession {
  const user = answer.body.user as AuthUser | undefined;
  if (!user?.id || !answer.cookie) {
    throw new TokenError(`${what}: the auth server at ${baseUrl} returned no user or no cookie`);
  }
  return { user, cookie: answer.cookie };
}

/**
 * A JSON POST. Node's fetch always sends `Sec-Fetch-Mode: cors`, which makes Better Auth demand a
 * trusted Origin even without cookies; the auth server trusts its own origin, so send that.
 */
const post = (baseUrl: string, body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', origin: new URL(baseUrl).origin },
  body: JSON.stringify(body),
});

/** Signs up a new account (Better Auth signs it in at once). `null` if the email is taken. */
export async function signUp(
  baseUrl: string,
  email: string,
  password = DEFAULT_PASSWORD,
  name = email.split('@')[0] || email,
): Promise<AuthSession | null> {
  const answer = await call(
    baseUrl,
    '/api/auth/sign-up/email',
    post(baseUrl, { email, password, name }),
  );
  if (answer.status === 422 && String(answer.body.code).startsWith('USER_ALREADY_EXISTS')) {
    return null;
  }
  if (answer.status !== 200) throw failure(`sign-up of ${email}`, answer, baseUrl);
  return session(`sign-up of ${email}`, answer, baseUrl);
}

export async function signIn(
  baseUrl: string,
  email: string,
  password = DEFAULT_PASSWORD,
): Promise<AuthSession> {
  const answer = await call(baseUrl, '/api/auth/sign-in/email', post(baseUrl, { email, password }));
  if (answer.status === 401) {
    throw new TokenError(
      `sign-in of ${email} failed: wrong password for this existing account (see --password)`,
    );
  }
  if (answer.status !== 200) throw failure(`sign-in of ${email}`, answer, baseUrl);
  return session(`sign-in of ${email}`, answer, baseUrl);
}

/** `GET /api/auth/token` with the session cookie: a JWT signed with the current JWKS key. */
export async function fetchJwt(baseUrl: string, cookie: string): Promise<string> {
  const answer = await call(baseUrl, '/api/auth/token', { headers: { cookie } });
  if (answer.status !== 200 || typeof answer.body.token !== 'string') {
    throw failure('GET /api/auth/token', answer, baseUrl);
  }
  return answer.body.token;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an invalid URL';
  }
}

/**
 * Sets `user.role = 'admin'` in the auth database. Deliberately outside Better Auth: its admin
 * API only lets an admin change roles, so the first admin has to be made here.
 */
export async function promoteToAdmin(databaseUrl: string, userId: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof AggregateError ? error.errors[0] : error;
    throw new TokenError(
      `cannot reach the auth database at ${redact(databaseUrl)} (${reason instanceof Error ? reason.message : String(reason)}); set AUTH_DATABASE_URL`,
    );
  }
  try {
    const result = await client.query(
      `UPDATE "user" SET role = 'admin', "updatedAt" = now() WHERE id = $1`,
      [userId],
    );
    if (result.rowCount !== 1) {
      throw new TokenError(
        `user ${userId} is not in the auth database ${redact(databaseUrl)}: does AUTH_DATABASE_URL match the server's?`,
      );
    }
  } catch (error) {
    if (error instanceof TokenError) throw error;
    throw new TokenError(
      `cannot update the user in ${redact(databaseUrl)}: ${error instanceof Error ? error.message : String(error)} (is it the auth server's database? see AUTH_DATABASE_URL)`,
    );
  } finally {
    await client.end();
  }
}

/** Sign up (or in), optionally make the account an admin, and return a fresh JWT. */
export async function obtainToken(request: TokenRequest): Promise<string> {
  const { url, email, password = DEFAULT_PASSWORD, log = () => undefined } = request;
  let current = await signUp(url, email, password, request.name);
  if (current) {
    log(`signed up ${current.user.email} (user ${current.user.id})`);
  } else {
    current = await signIn(url, email, password);
    log(`signed in ${current.user.email} (user ${current.user.id})`);
  }
  if (request.admin && current.user.role !== 'admin') {
    if (!request.databaseUrl) throw new TokenError('making an admin needs the auth database URL');
    await promoteToAdmin(request.databaseUrl, current.user.id);
    // A new session, so nothing cached from the old one can carry the old role.
    current = await signIn(url, email, password);
    log(`made ${current.user.email} an admin`);
  }
  return fetchJwt(url, current.cookie);
}

function describe(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
      role?: string;
      exp?: number;
    };
    const expires = claims.exp ? new Date(claims.exp * 1000).toISOString() : 'never';
    return `JWT for role ${claims.role ?? '(none)'}, expires ${expires}`;
  } catch {
    return 'JWT (payload not decodable)';
  }
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('npm run token --')
    .description('Print a JWT from the Better Auth dev server; messages go to stderr.')
    .requiredOption('--email <email>', 'account email: signed up if new, signed in otherwise')
    .option('--password <password>', 'account password', DEFAULT_PASSWORD)
    .option('--name <name>', 'display name of a new account (default: the part before @)')
    .option('--admin', 'make the account an admin (sets user.role in the auth database)', false)
    .option(
      '--url <url>',
      'auth server base URL (env AUTH_SERVER_URL)',
      process.env.AUTH_SERVER_URL || DEFAULT_AUTH_SERVER_URL,
    )
    .parse(argv);
  const options = program.opts<{
    email: string;
    password: string;
    name?: string;
    admin: boolean;
    url: string;
  }>();

  if (!/^https?:\/\/[^/]/.test(options.url)) {
    throw new TokenError(`--url must be an http(s) URL, got "${options.url}"`);
  }
  let databaseUrl: string | undefined;
  if (options.admin) {
    try {
      databaseUrl = authDatabaseUrl(process.env);
    } catch {
      throw new TokenError('AUTH_DATABASE_URL or DATABASE_URL is not a valid URL');
    }
  }

  const token = await obtainToken({
    ...options,
    databaseUrl,
    log: (message) => console.error(`token: ${message}`),
  });
  console.error(`token: ${describe(token)}`);
  process.stdout.write(`${token}\n`);
}

if (require.main === module) {
  main(process.argv).catch((error: unknown) => {
    console.error(
      `token: ${error instanceof TokenError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
