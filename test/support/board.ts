import type { Client } from 'pg';
import { sql } from './database';
import { Actor, TestApp, TestAppOptions } from './test-app';

/**
 * The board most e2e specs work on, set up the way they all did it by hand: the app with the
 * owner's SQL client beside it, an admin, registered workers, tasks created through the API, and
 * the audit trail read back. Everything that acts goes through HTTP as a real caller; SQL is only
 * for reading (and arranging) what the API cannot say about itself.
 */

/** The app on a fresh database, and the owner's SQL client on that database. */
export async function startApp(options?: TestAppOptions): Promise<{ t: TestApp; db: Client }> {
  const t = await TestApp.start(options);
  const db = await sql(t.databaseUrl);
  return { t, db };
}

/** Ends the SQL clients (in the order given), then closes the app: the `afterAll` of `startApp`. */
export async function stopApp(t: TestApp, ...clients: Client[]): Promise<void> {
  for (const client of clients) await client.end();
  await t.close();
}

/** An admin with a real token; `root` unless the spec needs another id. */
export function signInAdmin(t: TestApp, id = 'root'): Promise<Actor> {
  return t.actor({ id, role: 'admin' });
}

export interface WorkerSpec {
  id: string;
  name: string;
  type?: 'human' | 'agent';
  capabilities?: string[];
}

/**
 * `admin` registers the worker (`POST /api/workers`, 201 expected, the body exactly `worker`);
 * returns that worker as a caller with its own token.
 */
export async function registerWorker(t: TestApp, admin: Actor, worker: WorkerSpec): Promise<Actor> {
  await admin.post('/api/workers', worker).expect(201);
  return t.actor(worker.id);
}

export type ProjectRole = 'owner' | 'member' | 'viewer';

export interface ProjectSpec {
  /** `internal` unless told: everyone reads, owners and members write. */
  visibility?: 'internal' | 'private';
  name?: string;
  /** Added in order, each with its role (`POST /api/projects/:slug/members`, 201 expected). */
  members?: [Actor | string, ProjectRole][];
}

/**
 * `owner` creates the project `slug` (`POST /api/projects`, 201 expected; the owner becomes its
 * first owner), then adds `members`: a task with `project_slug` needs its project to exist, and
 * every move on it needs the caller (and, for assign, the new holder) to be an owner or member.
 */
export async function createProject(
  owner: Actor,
  slug: string,
  { visibility = 'internal', name = slug, members = [] }: ProjectSpec = {},
): Promise<void> {
  await owner.post('/api/projects', { slug, name, visibility }).expect(201);
  for (const [who, role] of members) {
    const workerId = typeof who === 'string' ? who : who.id;
    await owner.post(`/api/projects/${slug}/members`, { worker_id: workerId, role }).expect(201);
  }
}

/**
 * The same project arranged in SQL, for specs that arrange their tasks in SQL too: the project
 * row (`owner` its first owner) and its memberships, no audit entry. Tasks inserted straight into
 * `tasks` need their `project_slug` to exist (`fk_tasks_project`).
 */
export async function insertProject(
  db: Client,
  slug: string,
  owner: string,
  { visibility = 'internal', name = slug, members = [] }: ProjectSpec = {},
): Promise<void> {
  const rows: [string, ProjectRole][] = [
    [owner, 'owner'],
    ...members.map(([who, role]): [string, ProjectRole] => [
      typeof who === 'string' ? who : who.id,
      role,
    ]),
  ];
  await db.query(
    `WITH p AS (INSERT INTO projects (slug, name, visibility, owner) VALUES ($1, $2, $3, $4))
     INSERT INTO project_members (project_slug, worker_id, role)
     SELECT $1, w, r::project_role FROM unnest($5::text[], $6::text[]) AS m(w, r)`,
    [slug, name, visibility, owner, rows.map(([w]) => w), rows.map(([, r]) => r)],
  );
}

/**
 * `creator` (an admin, or the worker itself) creates an API key for `workerId` (201 expected);
 * returns the answer and the worker as a caller with that key.
 */
export async function createKey(
  t: TestApp,
  creator: Actor,
  workerId: string,
  body: object = {},
): Promise<{ key: Record<string, any>; actor: Actor }> {
  const { body: key } = await creator
    .post(`/api/workers/${workerId}/keys`, { name: 'test key', ...body })
    .expect(201);
  return { key, actor: t.keyActor(workerId, key.key as string) };
}

/** A task as the API answers it (`id` and `version` typed, the rest as sent back). */
export type TaskBody = { id: number; version: number } & Record<string, any>;

/** `actor` creates a task (`POST /api/tasks`, 201 expected) from `fields`; returns the answer. */
export async function createTask(actor: Actor, fields: object): Promise<TaskBody> {
  return (await actor.post('/api/tasks', fields).expect(201)).body as TaskBody;
}

/** The id of a task `actor` creates from `fields` (see `createTask`). */
export async function createTaskId(actor: Actor, fields: object): Promise<number> {
  return (await createTask(actor, fields)).id;
}

/** A task's audit trail as the API serves it (`GET /api/tasks/:id/audit`, 200 expected). */
export async function auditOf(actor: Actor, taskId: number, query = ''): Promise<any[]> {
  return (await actor.get(`/api/tasks/${taskId}/audit${query}`).expect(200)).body;
}

/** A task's audit rows straight from the table, oldest first: `columns` is a SELECT list. */
export async function auditRows(db: Client, taskId: number, columns = '*'): Promise<any[]> {
  return (
    await db.query(`SELECT ${columns} FROM audit_entries WHERE task_id = $1 ORDER BY id`, [taskId])
  ).rows;
}

/** The id of the newest audit entry (0 on an empty log): entries after it are new. */
export async function maxAuditId(db: Client): Promise<number> {
  return Number((await db.query('SELECT coalesce(max(id), 0) AS m FROM audit_entries')).rows[0].m);
}

/** Every audit entry (all columns) after `sinceId`, oldest first, `id` as a number. */
export async function auditEntriesSince(db: Client, sinceId: number): Promise<any[]> {
  return (
    await db.query('SELECT * FROM audit_entries WHERE id > $1 ORDER BY id', [sinceId])
  ).rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * The ids of the entries after `sinceId`, in the order the event stream and webhooks deliver
 * them: by writing transaction, then id (docs/events.md, "Order"). Ids may commit out of order,
 * so this is not always id order.
 */
export async function logOrderSince(db: Client, sinceId: number): Promise<number[]> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM audit_entries WHERE id > $1 ORDER BY tx_id, id',
    [sinceId],
  );
  return rows.rows.map((r) => Number(r.id));
}

/** Runs `fn` and returns the audit entries written meanwhile (see `auditEntriesSince`). */
export async function auditWrittenBy(db: Client, fn: () => Promise<unknown>): Promise<any[]> {
  const before = await maxAuditId(db);
  await fn();
  return auditEntriesSince(db, before);
}
