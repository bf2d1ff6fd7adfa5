import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Pool, PoolClient } from 'pg';
import { readableJoined } from '../src/access/project.repository';
import { APPEND_AUDIT_SQL, APPEND_AUDIT_STATEMENT } from '../src/audit/audit-entry.repository';
import { ErrorCode } from '../src/common/errors/error-codes';
import { AppConfig, loadConfig } from '../src/config/config';
import { EXACT_COUNT_UP_TO } from '../src/common/pagination/pagination.query';
import {
  APPLY_MOVE_SQL,
  FIND_TASK_SQL,
  LOCK_MOVE_SUBJECT_SQL,
  STATEMENT,
  countTasksUpToSql,
  estimateTasksSql,
  keysetPageSql,
  listStatementName,
  listColumns,
  offsetOrderSql,
  pageOfTasksSql,
  sqlInteger,
} from '../src/tasks/task.repository';
import type { TaskSortField } from '../src/tasks/task.enums';
import { MoveSubject, decideMove, isRefusal } from '../src/tasks/task-moves';

/**
 * The raw baseline of `npm run bench`: what this machine can do for workloads 1, 2 and 4 with
 * nothing but node:http, node-postgres and jose. It does the same work TaskFlow does, minus the
 * framework: the same JWT check (EdDSA signature against the same JWKS, iss/aud/exp, a cache of
 * verified tokens until their `exp`), a pool of the same size with the same options, and
 * EXACTLY the same SQL statements, byte for byte, in the same order and on one connection where
 * TaskFlow uses one connection. The responses have the same JSON shape (the Task fields in the
 * same order, X-Total-Count). Every `npm run bench` first traces the statements both servers
 * send for each route (bench/sql-trace.ts) and stops if they differ.
 *
 * Which TaskFlow statements each route mirrors (imported from TaskFlow's own SQL modules,
 * src/tasks/task.repository.ts and src/audit/audit-entry.repository.ts, so the text cannot drift):
 *
 * - `GET /api/tasks/:id` (workload 1): `TasksService.findOne` → `FIND_TASK_SQL` on the pool (no
 *   transaction: reads are not @Audited). 404 when no row.
 *
 * - `GET /api/tasks?project=&status=&sort=&limit=&offset=` (workload 2): `TasksService.list` →
 *   `pageOfTasksSql(...)`, then `countTasksSql(...)` only when the page alone cannot tell the
 *   total (it is full, or empty past offset 0). Filters in the service's order (status,
 *   priority, assigned_to, project), so the parameter numbers match. Total in X-Total-Count.
 *
 * - `POST /api/tasks/:id/progress?percent=N` (workload 4): `AuditInterceptor` (one transaction) →
 *   `UnitOfWork` → `TaskLifecycleService.move('progress')` → `AuditEntryRepository.append`, on ONE connection:
 *   START TRANSACTION (what TypeORM sends); `LOCK_MOVE_SUBJECT_SQL`; `decideMove`; `APPLY_MOVE_SQL`;
 *   `APPEND_AUDIT_SQL`; COMMIT, with context
 *   `{"percent":N,"note":null}`. When the UPDATE matches nothing, TaskFlow reads the row to
 *   answer 404, 403 or 409, then rolls back; so does this (never in the bench, whose requests
 *   are all made by the assignee).
 *
 * What it deliberately does not do (the framework's share of the cost, which the bench
 * measures): Nest's guards, pipes and interceptors, class-validator DTOs, nestjs-cls, TypeORM's
 * query building and entity mapping, Passport, helmet and CORS headers, request ids, pino request
 * logging and Prometheus metrics.
 */

type TaskRow = Record<string, unknown>;

const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'blocked'];
const PRIORITIES = ['low', 'medium', 'high', 'critical'];
const SORT_FIELDS = ['id', 'created_at', 'updated_at', 'priority', 'due_date'];
const MAX_INT32 = 2_147_483_647;

interface User {
  id: string;
  isAdmin: boolean;
}

/** The `code` TaskFlow's error envelope gives each status, where a route does not name its own. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'route_not_found',
  409: 'conflict',
  422: 'validation_failed',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: ErrorCode = CODE_BY_STATUS[status] ?? 'internal_error',
  ) {
    super(message);
  }
}

/** Verified tokens until their `exp`, at most 10 000 (oldest evicted first), as TaskFlow does. */
class TokenCache {
  private readonly entries = new Map<string, { user: User; expiresAt: number }>();

  get(token: string): User | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: User, expiresAt: number): void {
    if (this.entries.size >= 10_000) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, { user, expiresAt });
  }
}

function createVerifier(config: AppConfig): (header: string | undefined) => Promise<User> {
  const jwks = createRemoteJWKSet(new URL(config.auth.jwksUrl));
  const cache = new TokenCache();
  return async (header) => {
    if (!header) throw new HttpError(401, 'Missing bearer token');
    const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
    if (!match) throw new HttpError(401, 'Authorization header must be "Bearer <token>"');
    const token = match[1];
    const cached = cache.get(token);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: config.auth.algorithms,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        clockTolerance: 30,
        requiredClaims: ['sub', 'exp'],
      });
      const role = typeof payload.role === 'string' ? payload.role : 'user';
      const user = { id: payload.sub as string, isAdmin: role === 'admin' };
      cache.set(token, user, (payload.exp as number) * 1000);
      return user;
    } catch {
      throw new HttpError(401, 'Invalid token');
    }
  };
}

function parseId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(id) || id < 1 || id > MAX_INT32) {
    throw new HttpError(422, 'id must be a positive integer');
  }
  return id;
}

function parseIntParam(value: string | null, name: string, min: number, max: number) {
  if (value === null) return undefined;
  const n = /^-?\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(422, `${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}

async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

/** GET /api/tasks/:id — mirrors `TasksService.findOne`. */
async function getTask(pool: Pool, id: number, user: User): Promise<TaskRow> {
  const result = await pool.query({
    name: STATEMENT.findTask,
    text: FIND_TASK_SQL,
    values: [id, user.id, user.isAdmin, null],
  });
  if (result.rows.length === 0) throw new HttpError(404, `Task ${id} not found`, 'task_not_found');
  return result.rows[0] as TaskRow;
}

/** The list's row estimates, as TaskRepository keeps them (the bench's few filters: no bound). */
const estimates = new Map<string, { rows: number; until: number }>();

/** GET /api/tasks — mirrors `TasksService.list` + its page (lazy count). */
async function listTasks(
  pool: Pool,
  query: URLSearchParams,
  user: User,
): Promise<{ items: TaskRow[]; total: number }> {
  for (const key of query.keys()) {
    if (!['status', 'priority', 'assigned_to', 'project', 'sort', 'limit', 'offset'].includes(key))
      throw new HttpError(422, `${key} is not supported by the baseline`);
  }
  // As listConditions: the viewer is $1; the admin flag and the absent allow-list are text.
  const params: unknown[] = [user.id];
  const where: string[] = [readableJoined(user.isAdmin ? 'true' : 'false', 'NULL')];
  const filter = (column: string, value: string | null, allowed?: string[]) => {
    if (value === null) return;
    if (allowed && !allowed.includes(value)) throw new HttpError(422, `bad ${column}`);
    params.push(value);
    where.push(`t.${column} = $${params.length}`);
  };
  filter('status', query.get('status'), STATUSES);
  filter('priority', query.get('priority'), PRIORITIES);
  filter('assigned_to', query.get('assigned_to'));
  filter('project_slug', query.get('project'));
  const limit = parseIntParam(query.get('limit'), 'limit', 1, 100) ?? 50;
  const offset = parseIntParam(query.get('offset'), 'offset', 0, MAX_INT32) ?? 0;
  const sort = query.get('sort') ?? 'id';
  const descending = sort.startsWith('-');
  const field = descending ? sort.slice(1) : sort;
  if (!SORT_FIELDS.includes(field)) throw new HttpError(422, 'bad sort');
  const taskSort = { field: field as TaskSortField, descending };

  // As TaskRepository.page: one row more than the page says whether another follows; a first
  // page by keyset (the sort's index), an offset page in one statement. The bench's lists are
  // not sorted by due date, whose keyset list is two statements.
  if (field === 'due_date') throw new HttpError(422, 'sort by due_date is not mirrored');
  const n = params.length;
  const pageSql =
    offset > 0
      ? pageOfTasksSql(
          where,
          offsetOrderSql(taskSort),
          sqlInteger(limit + 1),
          `$${n + 1}`,
          listColumns(taskSort),
        )
      : keysetPageSql(where, taskSort, sqlInteger(limit + 1));
  const page = await pool.query({
    name: listStatementName(pageSql),
    text: pageSql,
    values: offset > 0 ? [...params, offset] : params,
  });
  const rows = page.rows as (TaskRow & { sort_key?: unknown })[];
  const items = rows.slice(0, limit).map(({ sort_key: _key, ...task }) => task);
  const more = rows.length > limit;
  // As TasksService.list: the page tells the total when it is the last; else a bounded count.
  if (!more && (items.length > 0 || offset === 0)) return { items, total: offset + items.length };
  const countSql = countTasksUpToSql(where, sqlInteger(EXACT_COUNT_UP_TO + 1));
  const count = await pool.query<{ total: number }>({
    name: listStatementName(countSql),
    text: countSql,
    values: params,
  });
  const total = count.rows[0].total;
  if (total <= EXACT_COUNT_UP_TO) return { items, total };
  // As TaskRepository.estimate: kept for ten seconds.
  const estimateSql = estimateTasksSql(where);
  const key = JSON.stringify([estimateSql, params]);
  let kept = estimates.get(key);
  if (!kept || kept.until <= Date.now()) {
    const plan = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>({
      text: estimateSql,
      values: params,
    });
    kept = {
      rows: Math.round(plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']),
      until: Date.now() + 10_000,
    };
    estimates.set(key, kept);
  }
  const estimate = kept.rows;
  return { items, total: Math.max(estimate, EXACT_COUNT_UP_TO + 1) };
}

/** POST /api/tasks/:id/progress — mirrors AuditInterceptor + move('progress') + append. */
async function progress(
  pool: Pool,
  id: number,
  user: User,
  percent: number,
  note: string | null,
): Promise<TaskRow> {
  return withClient(pool, async (client) => {
    await client.query('START TRANSACTION');
    try {
      const locked = await client.query({
        name: STATEMENT.lockMoveSubject,
        text: LOCK_MOVE_SUBJECT_SQL,
        values: [id, user.id, null, user.isAdmin, null],
      });
      const row = locked.rows[0] as TaskRow | undefined;
      if (!row) throw new HttpError(404, `Task ${id} not found`, 'task_not_found');
      const outcome = decideMove(
        'progress',
        {
          ...(row as unknown as MoveSubject),
          capabilities: {},
          project_roles:
            (row as { project_roles?: MoveSubject['project_roles'] | null }).project_roles ?? {},
        },
        { caller: { ...user, email: null, role: user.isAdmin ? 'admin' : 'user' } },
      );
      if (isRefusal(outcome)) {
        throw new HttpError(
          outcome.kind === 'forbidden' ? 403 : 409,
          outcome.message,
          outcome.code,
        );
      }
      const updated = await client.query({
        name: STATEMENT.applyMove,
        text: APPLY_MOVE_SQL,
        values: [
          id,
          outcome.status,
          outcome.assigned_to,
          percent,
          'keep',
          null,
          null,
          'keep',
          false,
          null,
          null,
        ],
      });
      const task = updated.rows[0] as TaskRow;
      await client.query({
        name: APPEND_AUDIT_STATEMENT,
        text: APPEND_AUDIT_SQL,
        values: [
          id,
          task.project_slug ?? null,
          user.id,
          'progressed',
          JSON.stringify({ percent, note }),
          null, // client
          null, // key_id: the bench signs in with tokens
          null, // actor type: from the registry
        ],
      });
      await client.query('COMMIT');
      return task;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

function send(res: ServerResponse, status: number, body: unknown, total?: number): void {
  const json = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  };
  if (total !== undefined) headers['x-total-count'] = String(total);
  res.writeHead(status, headers).end(json);
}

async function route(
  pool: Pool,
  verify: (header: string | undefined) => Promise<User>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  if (req.method === 'GET' && path === '/health') {
    send(res, 200, { status: 'healthy' });
    return;
  }
  const parts = path.split('/'); // ['', 'api', 'tasks', id?, action?]
  if (parts[1] !== 'api' || parts[2] !== 'tasks' || parts.length > 5) {
    throw new HttpError(404, 'Not found');
  }
  const user = await verify(req.headers.authorization);
  if (req.method === 'GET' && parts.length === 3) {
    const page = await listTasks(pool, query, user);
    send(res, 200, page.items, page.total);
  } else if (req.method === 'GET' && parts.length === 4) {
    send(res, 200, await getTask(pool, parseId(parts[3]), user));
  } else if (req.method === 'POST' && parts.length === 5 && parts[4] === 'progress') {
    const id = parseId(parts[3]);
    const percent = parseIntParam(query.get('percent'), 'percent', 0, 100);
    if (percent === undefined) throw new HttpError(422, 'percent is required');
    send(res, 200, await progress(pool, id, user, percent, query.get('note')));
  } else {
    throw new HttpError(404, 'Not found');
  }
}

function main(): void {
  const config = loadConfig();
  const db = config.database;
  // The options TypeORM hands node-postgres for TaskFlow (src/database/data-source-options.ts
  // and TypeORM's PostgresDriver.createPool): same size, timeouts and keep-alive.
  const pool = new Pool({
    connectionString: db.url,
    ssl: db.ssl,
    max: db.poolSize,
    connectionTimeoutMillis: db.connectTimeoutMs,
    application_name: 'taskflow-bench-baseline',
    statement_timeout: db.statementTimeoutMs,
    query_timeout: db.statementTimeoutMs + 1000,
    idle_in_transaction_session_timeout: db.statementTimeoutMs * 2,
    keepAlive: true,
  });
  pool.on('error', (error) => console.error(`baseline: pool error: ${error.message}`));
  const verify = createVerifier(config);

  const server = createServer((req, res) => {
    // The body is never needed (progress takes its percent from the query); drain it.
    req.resume();
    route(pool, verify, req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        send(res, error.status, {
          error: error.message,
          status_code: error.status,
          code: error.code,
        });
      } else {
        console.error('baseline: 500', error);
        send(res, 500, {
          error: 'Internal server error',
          status_code: 500,
          code: 'internal_error',
        });
      }
    });
  });
  // Fastify's defaults, which TaskFlow runs with.
  server.keepAliveTimeout = 72_000;
  server.listen(config.port, config.host, () => {
    console.log(`baseline listening on http://${config.host}:${config.port}`);
  });

  const stop = () => {
    server.closeAllConnections();
    server.close(() => {
      void pool.end().finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
