import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Pool, PoolClient } from 'pg';
import { AppConfig, loadConfig } from '../src/config/config';

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
 * Which TaskFlow statements each route mirrors:
 *
 * - `GET /api/tasks/:id` (workload 1): `TasksService.findOne` → `Repository.findOneBy({ id })`:
 *     SELECT "Task"."id" AS "Task_id", … "Task"."updated_at" AS "Task_updated_at"
 *       FROM "tasks" "Task" WHERE (("Task"."id" = $1)) LIMIT 1
 *   on a pooled connection, no transaction (reads are not @Audited). 404 when no row.
 *
 * - `GET /api/tasks?project=&status=&sort=&limit=&offset=` (workload 2): `TasksService.list` →
 *   `paginate` → TypeORM `getManyAndCount()` on ONE connection:
 *     SELECT "t"."id" AS "t_id", … FROM "tasks" "t" WHERE "t"."status" = $1 AND
 *       "t"."project_slug" = $2 ORDER BY "t"."updated_at" DESC, "t"."id" DESC LIMIT 50 OFFSET 0
 *   then, only when TypeORM cannot infer the total from the page (the page is full, or it is
 *   empty past offset 0: `SelectQueryBuilder.lazyCount`),
 *     SELECT COUNT(1) AS "cnt" FROM "tasks" "t" WHERE "t"."status" = $1 AND "t"."project_slug" = $2
 *   The filters are added in the service's order (status, priority, assigned_to, project), so the
 *   parameter numbers match. Total in X-Total-Count.
 *
 * - `POST /api/tasks/:id/progress?percent=N` (workload 4): `AuditInterceptor` (one transaction) →
 *   `TaskLifecycleService.move('progress')` → `AuditService.append`, on ONE connection:
 *     START TRANSACTION
 *     UPDATE "tasks" SET "progress_percent" = $1, "status" = $2, "updated_at" = CURRENT_TIMESTAMP
 *       WHERE "id" = $3 AND "status" IN ($4) AND ("assigned_to" IS NULL OR "assigned_to" = $5)
 *       RETURNING *
 *     INSERT INTO audit_entries (…) VALUES ($1, $2, $3::varchar,
 *       COALESCE((SELECT type FROM workers WHERE id = $3::varchar), 'human'), $4, $5)
 *     COMMIT
 *   with context `{"percent":N,"note":null}`. When the UPDATE matches nothing, TaskFlow reads
 *   the row (`findOne` of id, status, assigned_to) to answer 404, 403 or 409, then rolls back;
 *   so does this (it never happens in the bench, whose requests are all made by the assignee).
 *
 * What it deliberately does not do (the framework's share of the cost, which the bench
 * measures): Nest's guards, pipes and interceptors, class-validator DTOs, nestjs-cls, TypeORM's
 * query building and entity mapping, Passport, helmet and CORS headers, request ids, pino request
 * logging and Prometheus metrics.
 */

const COLUMNS = [
  'id',
  'title',
  'description',
  'status',
  'priority',
  'progress_percent',
  'assigned_to',
  'project_slug',
  'parent_id',
  'due_date',
  'created_by',
  'created_at',
  'updated_at',
] as const;
type TaskRow = Record<(typeof COLUMNS)[number], unknown>;

const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'blocked'];
const PRIORITIES = ['low', 'medium', 'high', 'critical'];
const SORT_FIELDS = ['id', 'created_at', 'updated_at', 'priority', 'due_date'];
const MAX_INT32 = 2_147_483_647;

/** TypeORM's select list for an alias: `"A"."col" AS "A_col", …`. */
const selectList = (alias: string, columns: readonly string[] = COLUMNS): string =>
  columns.map((c) => `"${alias}"."${c}" AS "${alias}_${c}"`).join(', ');

/** Back from `A_col` keys to the entity's property names, in the entity's order. */
function fromAliased(alias: string, row: Record<string, unknown>): TaskRow {
  const task = {} as TaskRow;
  for (const c of COLUMNS) task[c] = row[`${alias}_${c}`];
  return task;
}

const FIND_ONE_SQL = `SELECT ${selectList('Task')} FROM "tasks" "Task" WHERE (("Task"."id" = $1)) LIMIT 1`;
const DIAGNOSE_SQL = `SELECT ${selectList('Task', ['id', 'status', 'assigned_to'])} FROM "tasks" "Task" WHERE (("Task"."id" = $1)) LIMIT 1`;
const PROGRESS_SQL = `UPDATE "tasks" SET "progress_percent" = $1, "status" = $2, "updated_at" = CURRENT_TIMESTAMP WHERE "id" = $3 AND "status" IN ($4) AND ("assigned_to" IS NULL OR "assigned_to" = $5) RETURNING *`;
const PROGRESS_SQL_ADMIN = `UPDATE "tasks" SET "progress_percent" = $1, "status" = $2, "updated_at" = CURRENT_TIMESTAMP WHERE "id" = $3 AND "status" IN ($4) RETURNING *`;
/** Copied from src/audit/audit.service.ts, whitespace included. */
const AUDIT_SQL = `INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context)
       VALUES ($1, $2, $3::varchar, COALESCE((SELECT type FROM workers WHERE id = $3::varchar), 'human'), $4, $5)`;

interface User {
  id: string;
  isAdmin: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
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
async function getTask(pool: Pool, id: number): Promise<TaskRow> {
  const result = await pool.query(FIND_ONE_SQL, [id]);
  if (result.rows.length === 0) throw new HttpError(404, `Task ${id} not found`);
  return fromAliased('Task', result.rows[0] as Record<string, unknown>);
}

/** GET /api/tasks — mirrors `TasksService.list` + `paginate` (getManyAndCount, lazy count). */
async function listTasks(
  pool: Pool,
  query: URLSearchParams,
): Promise<{ items: TaskRow[]; total: number }> {
  for (const key of query.keys()) {
    if (!['status', 'priority', 'assigned_to', 'project', 'sort', 'limit', 'offset'].includes(key))
      throw new HttpError(422, `${key} is not supported by the baseline`);
  }
  const where: string[] = [];
  const params: unknown[] = [];
  const filter = (column: string, value: string | null, allowed?: string[]) => {
    if (value === null) return;
    if (allowed && !allowed.includes(value)) throw new HttpError(422, `bad ${column}`);
    params.push(value);
    where.push(`"t"."${column}" = $${params.length}`);
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
  const direction = descending ? 'DESC' : 'ASC';
  const order = [`"t"."${field}" ${direction}${field === 'due_date' ? ' NULLS LAST' : ''}`];
  if (field !== 'id') order.push(`"t"."id" ${direction}`);
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';

  const selectSql = `SELECT ${selectList('t')} FROM "tasks" "t"${whereSql} ORDER BY ${order.join(', ')} LIMIT ${limit} OFFSET ${offset}`;
  const countSql = `SELECT COUNT(1) AS "cnt" FROM "tasks" "t"${whereSql}`;
  return withClient(pool, async (client) => {
    const page = await client.query(selectSql, params);
    const items = (page.rows as Record<string, unknown>[]).map((r) => fromAliased('t', r));
    // TypeORM's lazyCount: the total is known from the page unless it is full, or empty past 0.
    let total = items.length + offset;
    if (items.length === limit || (items.length === 0 && offset > 0)) {
      const count = await client.query<{ cnt: string }>(countSql, params);
      total = count.rows[0] ? parseInt(count.rows[0].cnt, 10) : 0;
    }
    return { items, total };
  });
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
      const updated = user.isAdmin
        ? await client.query(PROGRESS_SQL_ADMIN, [percent, 'in_progress', id, 'in_progress'])
        : await client.query(PROGRESS_SQL, [percent, 'in_progress', id, 'in_progress', user.id]);
      const task = updated.rows[0] as TaskRow | undefined;
      if (!task) {
        const current = await client.query(DIAGNOSE_SQL, [id]);
        const row = current.rows[0] as Record<string, unknown> | undefined;
        if (!row) throw new HttpError(404, `Task ${id} not found`);
        const assignee = row.Task_assigned_to as string | null;
        if (!user.isAdmin && assignee !== null && assignee !== user.id) {
          throw new HttpError(
            403,
            `Task ${id} is assigned to ${assignee}; only they or an admin may progress it`,
          );
        }
        throw new HttpError(
          409,
          `Task ${id} is '${String(row.Task_status)}'; progress needs it to be 'in_progress'`,
        );
      }
      await client.query(AUDIT_SQL, [
        id,
        task.project_slug ?? null,
        user.id,
        'progressed',
        JSON.stringify({ percent, note }),
      ]);
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
    const page = await listTasks(pool, query);
    send(res, 200, page.items, page.total);
  } else if (req.method === 'GET' && parts.length === 4) {
    send(res, 200, await getTask(pool, parseId(parts[3])));
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
        send(res, error.status, { error: error.message, status_code: error.status });
      } else {
        console.error('baseline: 500', error);
        send(res, 500, { error: 'Internal server error', status_code: 500 });
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
