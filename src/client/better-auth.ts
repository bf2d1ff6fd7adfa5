/**
 * The Better Auth HTTP flow, once: sign-up, sign-in and `GET /api/auth/token` against the bundled
 * auth server (auth-server/). `npm run token`, the `taskflow login` command and the test helpers
 * all get their JWTs through here. Plain fetch, no better-auth import: better-auth is ESM-only and
 * this code runs as CommonJS (and in Jest).
 */

export const DEFAULT_AUTH_SERVER_URL = 'http://localhost:3001';
export const DEFAULT_PASSWORD = 'taskflow-dev-password';
const REQUEST_TIMEOUT_MS = 10_000;

/** A failure worth one line, no stack. `status` is the auth server's HTTP status, if it answered. */
export class BetterAuthError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BetterAuthError';
  }
}

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
      throw new BetterAuthError(
        `the auth server at ${baseUrl} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
      );
    }
    throw new BetterAuthError(
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

function failure(what: string, answer: Answer, baseUrl: string): BetterAuthError {
  const detail = typeof answer.body.message === 'string' ? `: ${answer.body.message}` : '';
  const hint =
    answer.status === 404
      ? ` (is ${baseUrl} the auth server?)`
      : String(answer.body.code).includes('ORIGIN')
        ? ` (add ${new URL(baseUrl).origin} to the server's AUTH_TRUSTED_ORIGINS)`
        : '';
  return new BetterAuthError(
    `${what} failed with HTTP ${answer.status}${detail}${hint}`,
    answer.status,
  );
}

function session(what: string, answer: Answer, baseUrl: string): AuthSession {
  const user = answer.body.user as AuthUser | undefined;
  if (!user?.id || !answer.cookie) {
    throw new BetterAuthError(
      `${what}: the auth server at ${baseUrl} returned no user or no cookie`,
      answer.status,
    );
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
    throw new BetterAuthError(
      `sign-in of ${email} failed: wrong password for this existing account (see --password)`,
      401,
    );
  }
  if (answer.status !== 200) throw failure(`sign-in of ${email}`, answer, baseUrl);
  return session(`sign-in of ${email}`, answer, baseUrl);
}

/** Signs up when the account is new, signs in otherwise. */
export async function signUpOrIn(
  baseUrl: string,
  email: string,
  password = DEFAULT_PASSWORD,
  name?: string,
): Promise<{ session: AuthSession; created: boolean }> {
  const created = await signUp(baseUrl, email, password, name);
  if (created) return { session: created, created: true };
  return { session: await signIn(baseUrl, email, password), created: false };
}

/** `GET /api/auth/token` with the session cookie: a JWT signed with the current JWKS key. */
export async function fetchJwt(baseUrl: string, cookie: string): Promise<string> {
  const answer = await call(baseUrl, '/api/auth/token', { headers: { cookie } });
  if (answer.status !== 200 || typeof answer.body.token !== 'string') {
    throw failure('GET /api/auth/token', answer, baseUrl);
  }
  return answer.body.token;
}

export interface JwtClaims {
  sub?: string;
  email?: string;
  role?: string;
  /** Seconds since the epoch. */
  exp?: number;
  /** Seconds since the epoch: when it was issued. */
  iat?: number;
}

/**
 * The payload of a JWT, decoded but NOT verified: only for showing it and for knowing when to
 * fetch a new one. `null` when it is not a decodable JWT.
 */
export function decodeJwtClaims(token: string): JwtClaims | null {
  try {
    const claims: unknown = JSON.parse(
      Buffer.from(token.split('.')[1], 'base64url').toString('utf8'),
    );
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}
