import createClient, { type Client } from 'openapi-fetch';
import { CredentialError, type Credentials, staticToken } from './credentials';
import type { components, paths } from './schema';

/**
 * The one typed client of the TaskFlow API, generated from the committed openapi.json
 * (`npm run openapi` regenerates ./schema.d.ts, and ./contract.ts with its enums and limits).
 * The CLI and the MCP server both call the API through it, and a frontend can use it the same way:
 *
 *   const api = createTaskflowClient({ baseUrl: 'http://localhost:8000', token });
 *   const task = await unwrap(api.POST('/api/tasks/{id}/start', { params: { path: { id: 7 } } }));
 */
export type TaskflowClient = Client<paths>;
export type Task = components['schemas']['Task'];
export type Worker = components['schemas']['Worker'];
export type Project = components['schemas']['Project'];
export type ProjectMember = components['schemas']['ProjectMember'];
export type AuditEntry = components['schemas']['AuditEntry'];
export type AuditVerification = components['schemas']['AuditVerifyResponse'];
export type AnalyticsSummary = components['schemas']['AnalyticsSummary'];
export type Me = components['schemas']['MeResponse'];
export type ApiKey = components['schemas']['ApiKeyView'];
export type CreatedApiKey = components['schemas']['CreatedApiKey'];
export type ErrorCode = components['schemas']['ErrorResponse']['code'];
export type TaskStatus = components['schemas']['TaskStatus'];
export type TaskPriority = components['schemas']['TaskPriority'];
export type WorkerType = components['schemas']['WorkerType'];
/** Who made an audited change: a worker's type, or `system` for the API's sweeper. */
export type ActorType = components['schemas']['ActorType'];
export type AuditAction = components['schemas']['AuditAction'];
export type Comment = components['schemas']['TaskComment'];
export type CommentKind = components['schemas']['CommentKind'];
export type Artifact = components['schemas']['Artifact'];
export type ArtifactKind = components['schemas']['ArtifactKind'];
export type InboxItem = components['schemas']['InboxItem'];
/**
 * The API's error envelope; `code` is `unreachable` when the API could not be reached at all,
 * `unexpected_response` when something other than the API (a proxy, say) answered, and
 * `credentials_unavailable` when no token could be had to ask it (a login session that expired,
 * an auth server that is down).
 */
export type ErrorBody = Omit<components['schemas']['ErrorResponse'], 'code'> & {
  code: ErrorCode | 'unreachable' | 'unexpected_response' | 'credentials_unavailable';
};

export interface ClientOptions {
  baseUrl: string;
  /** A JWT from the identity server; sent as `Authorization: Bearer …` on every request. */
  token?: string;
  /**
   * Instead of `token`, where to get it: asked before every request, so a renewable credential
   * (a login session) sends a fresh JWT; a request the API answers 401 goes once more with the
   * renewed one.
   */
  credentials?: Credentials;
  /**
   * Sent as `Idempotency-Key` on every POST made through this client: retrying the same call
   * then applies it once. Give each logical operation its own key.
   */
  idempotencyKey?: string;
  /**
   * Sent as `X-TaskFlow-Client` on every request: the program acting for the caller, which the
   * audit log records with each change (e.g. `taskflow-cli/1.0.0`). A function is asked on each
   * request, for a name learned after the client was made.
   */
  client?: string | (() => string | undefined);
  fetch?: typeof globalThis.fetch;
}

/**
 * `fetch` with the bearer token. A 401 is answered before the API acts on a request, so sending
 * the same request again with a renewed token is safe, POSTs included.
 */
function authorized(
  credentials: Credentials,
  send: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const token = await credentials.token();
    // Cloned before anything reads the body: the retry needs it whole.
    const retry = request.clone();
    request.headers.set('Authorization', `Bearer ${token}`);
    const response = await send(request);
    if (response.status !== 401) return response;
    const renewed = await credentials.renewAfterRejection(token);
    if (!renewed || renewed === token) return response;
    await response.body?.cancel();
    retry.headers.set('Authorization', `Bearer ${renewed}`);
    return send(retry);
  };
}

export function createTaskflowClient(options: ClientOptions): TaskflowClient {
  const credentials =
    options.credentials ?? (options.token ? staticToken(options.token) : undefined);
  // Looked up at each call, as openapi-fetch itself does, rather than captured now.
  const send = (request: Request) => (options.fetch ?? globalThis.fetch)(request);
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    fetch: credentials ? authorized(credentials, send) : options.fetch,
  });
  const { idempotencyKey } = options;
  client.use({
    onRequest({ request }) {
      const name = typeof options.client === 'function' ? options.client() : options.client;
      if (name) request.headers.set('X-TaskFlow-Client', name);
      if (idempotencyKey && request.method === 'POST') {
        request.headers.set('Idempotency-Key', idempotencyKey);
      }
      return request;
    },
  });
  return client;
}

/** A non-2xx answer, carrying the contract's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error);
    this.name = 'ApiError';
  }
}

/** What an openapi-fetch call resolves to. */
export interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The response's data, or an `ApiError` with the API's own message. Network failures (API not
 * running) surface as `ApiError` with status 0, and credentials that give no token as
 * `credentials_unavailable` (status 401 when the auth server refused the login session).
 */
export async function unwrap<T>(
  call: Promise<ApiResult<T>>,
): Promise<{ data: T; response: Response }> {
  let result: ApiResult<T>;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof CredentialError) {
      const status = error.status === 401 ? 401 : 0;
      throw new ApiError(status, {
        error: error.message,
        status_code: status,
        code: 'credentials_unavailable',
      });
    }
    const reason =
      error instanceof Error
        ? ((error.cause as Error | undefined)?.message ?? error.message)
        : String(error);
    throw new ApiError(0, {
      error: `Cannot reach the TaskFlow API (${reason})`,
      status_code: 0,
      code: 'unreachable',
    });
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const body =
      error && typeof error === 'object' && 'error' in error
        ? (error as ErrorBody)
        : {
            error: `${response.status} ${response.statusText}`,
            status_code: response.status,
            code: 'unexpected_response' as const,
          };
    throw new ApiError(response.status, body);
  }
  return { data: data as T, response };
}

/** One page of a list route: its items, how many match in all, and where the next page starts. */
export interface Page<T> {
  items: T[];
  /** `X-Total-Count`; `null` when the header is missing (something other than the API answered). */
  total: number | null;
  /** `X-Total-Count-Estimated: true`: `total` is the server's estimate, not a count. */
  totalEstimated: boolean;
  /** The `cursor` of `Link: <…>; rel="next"`; `null` on the last page (or a list without cursors). */
  next: string | null;
}

/** The `cursor` of a `Link` header's `rel="next"` target, if it has one. */
export function nextCursor(link: string | null): string | null {
  for (const part of link?.split(',') ?? []) {
    const match = /^\s*<([^>]*)>\s*;\s*rel="?next"?\s*$/.exec(part);
    if (match) return new URL(match[1], 'http://link.invalid').searchParams.get('cursor');
  }
  return null;
}

/** `unwrap` for a list route: the page's items with `X-Total-Count` and the next cursor. */
export async function unwrapPage<T>(call: Promise<ApiResult<T[]>>): Promise<Page<T>> {
  const { data, response } = await unwrap(call);
  const total = response.headers.get('X-Total-Count');
  return {
    items: data,
    total: total === null ? null : Number(total),
    totalEstimated: response.headers.get('X-Total-Count-Estimated') === 'true',
    next: nextCursor(response.headers.get('Link')),
  };
}

/**
 * Every page of a list, from `cursor` (or the first page) on, following each page's `next`
 * cursor: `page(cursor)` asks for one page with the same filters. Stops after `maxPages`.
 */
export async function* followPages<T>(
  page: (cursor: string | undefined) => Promise<ApiResult<T[]>>,
  { cursor, maxPages = Infinity }: { cursor?: string; maxPages?: number } = {},
): AsyncGenerator<Page<T>> {
  let next: string | undefined = cursor;
  for (let read = 0; read < maxPages; read++) {
    const current = await unwrapPage(page(next));
    yield current;
    if (current.next === null) return;
    next = current.next;
  }
}
