import { Command } from 'commander';
import { Client } from 'pg';
import { authDatabaseUrl } from '../auth-server/database-url';
import {
  BetterAuthError,
  DEFAULT_AUTH_SERVER_URL,
  DEFAULT_PASSWORD,
  decodeJwtClaims,
  fetchJwt,
  signIn,
  signUpOrIn,
} from '../src/client/better-auth';

/**
 * `npm run token -- --email qa@example.com [--admin] [--password …] [--name …] [--url …]`
 *
 * Prints a JWT from the Better Auth dev server (auth-server/, `npm run auth-server`) on stdout and
 * nothing else, so `TOKEN=$(npm run -s token -- --email …)` works; messages go to stderr. The
 * account is signed up when new, signed in otherwise. `--admin` sets its role to `admin` straight
 * in the auth database (the admin plugin cannot promote the first admin through its API) and
 * signs in again so the JWT carries `role: "admin"`.
 *
 * The HTTP flow itself is src/client/better-auth.ts (shared with `taskflow login`); only the admin
 * promotion, which needs the auth database, lives here. `obtainToken` is exported for
 * test/support/auth-server.ts.
 */

/** A failure of this script's own (the auth database), worth one line on stderr (exit code 1). */
export class TokenError extends Error {}

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
    const reason: unknown = error instanceof AggregateError ? error.errors[0] : error;
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
  const signedIn = await signUpOrIn(url, email, password, request.name);
  let current = signedIn.session;
  log(
    `${signedIn.created ? 'signed up' : 'signed in'} ${current.user.email} (user ${current.user.id})`,
  );
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
  const claims = decodeJwtClaims(token);
  if (!claims) return 'JWT (payload not decodable)';
  const expires = claims.exp ? new Date(claims.exp * 1000).toISOString() : 'never';
  return `JWT for role ${claims.role ?? '(none)'}, expires ${expires}`;
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
      `token: ${error instanceof TokenError || error instanceof BetterAuthError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
