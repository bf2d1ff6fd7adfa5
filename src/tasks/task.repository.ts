import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import {
  allowedProjectsOf,
  type ProjectRole,
  type ReviewPolicy,
  type Viewer,
} from '../access/project-access';
import type { WorkerType } from '../common/worker-types';
import {
  readableJoined,
  readableProject,
  visibleTasksFrom,
  withinAllowed,
} from '../access/project.repository';
import { Conditions } from '../database/conditions';
import { TableRepository } from '../database/table-repository';
import { hasUnfinishedDependency } from './task-dependency.repository';
import type { OverdueReason, PrivateReference, ReferenceField } from './task-moves';
import { Artifact, LastHandoff, Task } from './task.entity';
import type { UsageReport } from './task-usage';
import {
  TASK_PRIORITIES,
  TASK_STATUSES,
  type TaskPriority,
  type TaskSortField,
  type TaskStatus,
} from './task.enums';

/**
 * The `tasks` table. The board's hot statements are exported as text: the benchmark's raw
 * baseline (bench/baseline-server.ts) and the query-plan test run the very same statements.
 */

/**
 * `GET /api/tasks/{id}` (`blocked_by` is a column, kept by a trigger on task_dependencies).
 * Parameters: $1 the id, $2 the caller, $3 whether the caller is an admin, $4 the caller's
 * project allow-list (null: none).
 */
/**
 * Names of the hot statements, prepared on each connection (`TableRepository.prepared`); the
 * bench's baseline prepares them under the same names.
 */
export const STATEMENT = {
  findTask: 'task-find',
  lockMoveSubject: 'task-lock-move-subject',
  applyMove: 'task-apply-move',
} as const;

/**
 * The name a list statement is prepared under: one per shape of list (its filters and sort), so
 * each connection plans a shape once rather than on every page.
 */
const listStatementNames = new Map<string, string>();
export const listStatementName = (text: string): string => {
  let name = listStatementNames.get(text);
  if (!name) {
    name = `task-list-${listStatementNames.size + 1}`;
    listStatementNames.set(text, name);
  }
  return name;
};

export const FIND_TASK_SQL = `SELECT t.* FROM tasks t WHERE t.id = $1 AND ${readableProject('t.project_slug', '$2', '$3', '$4')}`;

/**
 * The list's FROM item: the tasks with what the visibility rule reads joined (see
 * `visibleTasksFrom`). Every list statement's first parameter, `$1`, is the viewer.
 */
const LIST_FROM = visibleTasksFrom('$1');

/**
 * A LIMIT written into a list statement's text rather than sent as a parameter, like the admin
 * flag and a missing allow-list (`listConditions`). Why: PostgreSQL plans a named statement once
 * only when its generic plan costs no more than the plans it made for the values, and a LIMIT or
 * a flag it cannot see makes the generic plan look dearer (an unknown LIMIT is costed as a tenth
 * of the table), so it planned every page again: most of a page's database CPU. Only integers
 * the code computed get here (a validated page size, the count's bound); anything else throws.
 */
export const sqlInteger = (value: number): string => {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
};

/**
 * One page of tasks matching `where` (conditions on alias `t`), in `orderBy` order. `limit` and
 * `offset` are numbers, or placeholders (`$4`) so that the text stays the same across pages.
 * `columns` may add computed columns to `t.*` (the list adds the cursor's sort key).
 */
export const pageOfTasksSql = (
  where: string[],
  orderBy: string,
  limit: number | string,
  offset: number | string,
  columns = 't.*',
) =>
  `SELECT ${columns} FROM ${LIST_FROM}${whereClause(where)} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`;

/** How many tasks match `where`. */
export const countTasksSql = (where: string[]) =>
  `SELECT count(*)::int AS total FROM ${LIST_FROM}${whereClause(where)}`;

/** How many tasks match `where`, counting no further than `upTo`: reads at most that many rows. */
export const countTasksUpToSql = (where: string[], upTo: number | string) =>
  `SELECT count(*)::int AS total FROM (SELECT 1 FROM ${LIST_FROM}${whereClause(where)} LIMIT ${upTo}) matching`;

/** The planner's guess of how many tasks match `where`: costs a plan, reads no row. */
export const estimateTasksSql = (where: string[]) =>
  `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${LIST_FROM}${whereClause(where)}`;

/** A sort of the list: a column of `TASK_SORT_FIELDS`, ties broken by id in the same direction. */
export interface TaskSort {
  field: TaskSortField;
  descending: boolean;
}

/**
 * A row's sort key as the cursor keeps it: text that casts back to the very value (timestamps to
 * the microsecond, which a JavaScript Date would round away).
 */
const sortKeySql = (field: TaskSortField): string => {
  switch (field) {
    case 'id':
      return 'NULL::text';
    case 'priority':
      return 't.priority::text';
    default:
      return `to_char(t.${field} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  }
};

const TIMESTAMP_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Whether `key` is a sort key `sortKeySql` could have given for `field` (a cursor's, checked). */
export function isSortKey(field: TaskSortField, key: string | null): boolean {
  if (key === null) return field === 'id' || field === 'due_date';
  if (field === 'priority') return (TASK_PRIORITIES as readonly string[]).includes(key);
  if (field === 'id' || !TIMESTAMP_KEY.test(key)) return false;
  // A real instant (no 2026-02-30), in the years the API accepts.
  const milliseconds = `${key.slice(0, 23)}Z`;
  const date = new Date(milliseconds);
  return (
    !Number.isNaN(date.getTime()) && date.toISOString() === milliseconds && !key.startsWith('0000')
  );
}

/** The list's columns: the task, and its sort key for the next page's cursor. */
export const listColumns = (sort: TaskSort) => `t.*, ${sortKeySql(sort.field)} AS sort_key`;

/** The cursor's key (a placeholder) as a value of the sort column. */
const sortValueSql = (field: TaskSortField, key: string): string =>
  field === 'priority' ? `${key}::task_priority` : `${key}::timestamptz`;

/** `ORDER BY` of a list page read with an offset: one statement, tasks without a due date last. */
export const offsetOrderSql = ({ field, descending }: TaskSort): string => {
  const direction = descending ? 'DESC' : 'ASC';
  const order = [`t.${field} ${direction}${field === 'due_date' ? ' NULLS LAST' : ''}`];
  if (field !== 'id') order.push(`t.id ${direction}`);
  return order.join(', ');
};

/**
 * One keyset page: the tasks matching `where` that come after the position `after` (the
 * placeholders of a cursor's key and id) in `sort` order, at most `limit` of them, each with its
 * sort key. The position is a row comparison on the sort's index (`idx_tasks_<field>` is
 * `(field, id)`), so a page deep in the list reads no more rows than the first one.
 *
 * `due_date` puts tasks without one last in both directions, which no single range of
 * `(due_date, id)` gives: its list is two parts, `dated` (the index walked in the sort's
 * direction) and then the undated tasks by id (the index's NULL entries), each its own statement.
 */
export const keysetPageSql = (
  where: string[],
  sort: TaskSort,
  limit: string,
  after?: { key: string; id: string },
  part: 'dated' | 'undated' = 'dated',
): string => {
  const { field, descending } = sort;
  const direction = descending ? 'DESC' : 'ASC';
  const beyond = descending ? '<' : '>';
  const clauses = [...where];
  let orderBy: string;
  if (field === 'id' || part === 'undated') {
    if (field === 'due_date') clauses.push('t.due_date IS NULL');
    if (after) clauses.push(`t.id ${beyond} ${after.id}`);
    orderBy = `t.id ${direction}`;
  } else {
    if (field === 'due_date') clauses.push('t.due_date IS NOT NULL');
    if (after) {
      clauses.push(`(t.${field}, t.id) ${beyond} (${sortValueSql(field, after.key)}, ${after.id})`);
    }
    orderBy = `t.${field} ${direction}, t.id ${direction}`;
  }
  return `SELECT ${listColumns(sort)} FROM ${LIST_FROM}${whereClause(clauses)} ORDER BY ${orderBy} LIMIT ${limit}`;
};

const whereClause = (where: string[]) => (where.length ? ` WHERE ${where.join(' AND ')}` : '');

/**
 * What a move is decided on (see task-moves.ts): the task, the first dependency that is not
 * completed, the project roles of the caller and of a named new holder, and the registered
 * capabilities of the workers who could hold it after the move (the caller, the current
 * assignee, a named new holder), read only when the task requires some; the project's review
 * policy, and under `human` the worker types of the caller and the assignee. The row is locked
 * until the transaction ends, so the decision and the write see the same
 * version of the task: concurrent moves on one task queue here, and each is decided on the state
 * the previous one left.
 */
const moveSubjectColumns = (caller: string, holder: string) => `t.*,
  (SELECT json_build_object('id', b.id, 'status', b.status)
     FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
     WHERE d.task_id = t.id AND b.status <> 'completed' ORDER BY b.id LIMIT 1) AS blocker,
  CASE WHEN cardinality(t.required_capabilities) > 0 THEN
    (SELECT json_object_agg(w.id, w.capabilities) FROM workers w
       WHERE w.id IN (${caller}, t.assigned_to, ${holder})) END AS capabilities_by_worker,
  CASE WHEN t.project_slug IS NOT NULL THEN
    (SELECT json_object_agg(m.worker_id, m.role) FROM project_members m
       WHERE m.project_slug = t.project_slug AND m.worker_id IN (${caller}, ${holder})) END
    AS project_roles,
  (SELECT p.review_policy FROM projects p WHERE p.slug = t.project_slug) AS review_policy,
  CASE WHEN EXISTS (SELECT 1 FROM projects p
                     WHERE p.slug = t.project_slug AND p.review_policy = 'human') THEN
    (SELECT json_object_agg(w.id, w.type) FROM workers w
       WHERE w.id IN (${caller}, t.assigned_to)) END AS worker_types`;

/**
 * Locks one task for a move, if the caller may see it. Parameters: $1 the id, $2 the caller,
 * $3 a new holder or null, $4 whether the caller is an admin, $5 its project allow-list.
 */
export const LOCK_MOVE_SUBJECT_SQL = `SELECT ${moveSubjectColumns('$2', '$3::varchar')} FROM tasks t
  WHERE t.id = $1 AND ${readableProject('t.project_slug', '$2', '$4', '$5')} FOR NO KEY UPDATE`;

/**
 * Writes the outcome of a move. Parameters: $1 id, $2 status, $3 holder, $4 progress (null keeps
 * it), $5 the lease: 'keep', 'end', or seconds from now as text, $6 attempts (null keeps them),
 * $7 last_error (null keeps it), $8 not_before: 'keep', 'clear', or seconds from now as text,
 * $9 whether this is a new claim (a start or a takeover), which restarts the claim's timeout,
 * $10 the artifacts and $11 the last hand-off note, as JSON (null keeps them): a move's note and
 * artifacts go in the same UPDATE, so the task's version goes up once per move.
 * `started_at` is the first time the task went in progress; `completed_at` the time it was
 * completed, cleared when it leaves `completed` (reopen); `timeout_at` runs from the move that
 * put the task in progress, and ends when it leaves.
 */
export const APPLY_MOVE_SQL = `UPDATE tasks SET status = $2, assigned_to = $3,
  progress_percent = COALESCE($4::int, progress_percent),
  lease_expires_at = CASE $5::text WHEN 'keep' THEN lease_expires_at WHEN 'end' THEN NULL
                     ELSE now() + make_interval(secs => $5::text::int) END,
  attempts = COALESCE($6::int, attempts),
  last_error = COALESCE($7::text, last_error),
  not_before = CASE $8::text WHEN 'keep' THEN not_before WHEN 'clear' THEN NULL
               ELSE now() + make_interval(secs => $8::text::float8) END,
  timeout_at = CASE WHEN $2::task_status <> 'in_progress' THEN NULL
                    WHEN status <> 'in_progress' OR $9::boolean
                      THEN now() + make_interval(secs => timeout_seconds)
                    ELSE timeout_at END,
  started_at = CASE WHEN $2::task_status = 'in_progress' THEN COALESCE(started_at, now())
                    ELSE started_at END,
  completed_at = CASE WHEN $2::task_status <> 'completed' THEN NULL
                      WHEN status = 'completed' THEN completed_at ELSE now() END,
  awaiting_input = awaiting_input AND $2::task_status = 'in_progress'
                   AND assigned_to IS NOT DISTINCT FROM $3::varchar,
  artifacts = COALESCE($10::jsonb, artifacts),
  last_handoff = COALESCE($11::jsonb, last_handoff),
  updated_at = now()
  WHERE id = $1 RETURNING *`;

/**
 * References from a task `r` to a task `x` of another project, one row each (`id` the referrer,
 * `target`, `field`): a subtask's `parent_id`, a dependency. `where(referrer, target)` narrows
 * them, given the two id columns of each kind; `columns` adds to the select list. The one query
 * behind both reference rules: making a project private, moving a task between projects.
 */
const crossingReferencesSql = (
  where: (referrer: string, target: string) => string,
  columns = '',
) => `SELECT r.id, x.id AS target, 'parent_id' AS field${columns}
    FROM tasks r JOIN tasks x ON x.id = r.parent_id
   WHERE x.project_slug IS DISTINCT FROM r.project_slug AND ${where('r.id', 'r.parent_id')}
  UNION ALL
  SELECT r.id, x.id, 'depends_on'${columns}
    FROM task_dependencies d JOIN tasks x ON x.id = d.depends_on_id JOIN tasks r ON r.id = d.task_id
   WHERE x.project_slug IS DISTINCT FROM r.project_slug AND ${where('d.task_id', 'd.depends_on_id')}`;

/** Tasks a claim may take: pending ones past their backoff, and in-progress ones whose lease ran out. */
const CLAIMABLE = {
  pending: `t.status = 'pending' AND (t.not_before IS NULL OR t.not_before <= now())`,
  // A task waiting for an answer keeps its holder however long the answer takes.
  expired: `t.status = 'in_progress' AND t.lease_expires_at < now() AND NOT t.awaiting_input`,
};

/** claim-next's tiers, searched in this order. */
export type ClaimTier = 'expired' | 'mine' | 'pending';

/**
 * claim-next's candidate, locked and with what its move is decided on, skipping rows other
 * claimers hold. `tier`: tasks whose lease ran out, pending tasks pre-assigned to the caller,
 * then unassigned pending ones (never a task pre-assigned to someone else). Only tasks whose
 * required capabilities the caller has registered, narrowed by the filter, and only on the
 * shared board or in projects where the caller is an owner or member (admins: anywhere).
 * Parameters: $1 the caller, $2 project, $3 min priority, $4 the capabilities filter (null: no
 * narrowing), $5 whether the caller is an admin, $6 its project allow-list. The unassigned tier walks `idx_tasks_claimable`
 * in order (see test/query-plans.e2e-spec.ts).
 */
export function claimNextCandidateSql(tier: ClaimTier): string {
  const where =
    tier === 'expired'
      ? CLAIMABLE.expired
      : tier === 'mine'
        ? `${CLAIMABLE.pending} AND t.assigned_to = $1`
        : `${CLAIMABLE.pending} AND t.assigned_to IS NULL`;
  return `SELECT ${moveSubjectColumns('$1', 'NULL')}
     FROM tasks t
     WHERE ${where}
       AND ($2::varchar IS NULL OR t.project_slug = $2)
       AND ($3::task_priority IS NULL OR t.priority >= $3::task_priority)
       AND t.required_capabilities <@ COALESCE((SELECT w.capabilities FROM workers w WHERE w.id = $1), '{}')
       AND ($4::text[] IS NULL OR t.required_capabilities <@ $4::text[])
       AND (t.project_slug IS NULL OR $5::boolean OR EXISTS (
             SELECT 1 FROM project_members m WHERE m.project_slug = t.project_slug
                AND m.worker_id = $1 AND m.role IN ('owner', 'member')))
       AND ${withinAllowed('t.project_slug', '$6')}
       AND NOT ${hasUnfinishedDependency('t')}
     ORDER BY t.priority DESC, t.due_date ASC NULLS LAST, t.id ASC
     LIMIT 1
     FOR NO KEY UPDATE OF t SKIP LOCKED`;
}

/**
 * The sweeper's next task: in progress, and its lease ran out or its claim timed out, locked
 * (skipping rows others hold) with what its outcome is decided on, and why it is overdue (a
 * timeout first; a task waiting for an answer keeps its lease, not its timeout). Parameters: $1
 * the sweeper's id. Walks `idx_tasks_lease` and
 * `idx_tasks_timeout`, the partial indexes of tasks in progress.
 */
export const OVERDUE_CANDIDATE_SQL = `SELECT ${moveSubjectColumns('$1', 'NULL')},
    CASE WHEN t.timeout_at < now() THEN 'timed out' ELSE 'lease expired' END AS overdue
  FROM tasks t
  WHERE t.status = 'in_progress'
    AND ((t.lease_expires_at IS NOT NULL AND t.lease_expires_at < now() AND NOT t.awaiting_input)
      OR (t.timeout_at IS NOT NULL AND t.timeout_at < now()))
  ORDER BY t.id
  LIMIT 1
  FOR NO KEY UPDATE OF t SKIP LOCKED`;

/**
 * Adds one usage report to the task's `usage` (totals and its model's), exactly: money is summed
 * as `numeric` and kept as its text. Answers the task and whether it is now over a budget.
 * Parameters: $1 id, $2 model, $3 input tokens, $4 output tokens, $5 cost (text, or null).
 */
const ADD_USAGE_SQL = `WITH added AS (
  UPDATE tasks t SET usage = jsonb_build_object(
      'input_tokens', (t.usage->>'input_tokens')::bigint + $3::bigint,
      'output_tokens', (t.usage->>'output_tokens')::bigint + $4::bigint,
      'cost_usd', ((t.usage->>'cost_usd')::numeric + COALESCE($5::numeric, 0))::text,
      'by_model', t.usage->'by_model' || jsonb_build_object($2::text, jsonb_build_object(
        'input_tokens', COALESCE((t.usage->'by_model'->$2::text->>'input_tokens')::bigint, 0) + $3::bigint,
        'output_tokens', COALESCE((t.usage->'by_model'->$2::text->>'output_tokens')::bigint, 0) + $4::bigint,
        'cost_usd', (COALESCE((t.usage->'by_model'->$2::text->>'cost_usd')::numeric, 0)
                     + COALESCE($5::numeric, 0))::text))),
    updated_at = now()
  WHERE t.id = $1 RETURNING t.*)
SELECT added.*,
  (added.budget_tokens IS NOT NULL AND (added.usage->>'input_tokens')::bigint
     + (added.usage->>'output_tokens')::bigint > added.budget_tokens)
  OR (added.budget_usd IS NOT NULL AND (added.usage->>'cost_usd')::numeric > added.budget_usd)
    AS over_budget
FROM added`;

/** The columns a client writes (through `create` and `update`); never `id` or bookkeeping. */
export const TASK_WRITABLE_COLUMNS = [
  'title',
  'description',
  'status',
  'priority',
  'progress_percent',
  'assigned_to',
  'project_slug',
  'parent_id',
  'due_date',
  'required_capabilities',
  'tags',
  'max_attempts',
  'timeout_seconds',
  'budget_tokens',
  'budget_usd',
] as const satisfies readonly (keyof Task)[];
export type TaskWritableColumn = (typeof TASK_WRITABLE_COLUMNS)[number];
export type TaskValues = Partial<Pick<Task, TaskWritableColumn>>;

/** A task locked for a move, with what the move is decided on. */
export interface LockedTask {
  task: Task;
  /** The first dependency that is not completed. */
  blocker: { id: number; status: TaskStatus } | null;
  /** Registered capabilities of the caller, the assignee and a new holder (when required). */
  capabilities: Record<string, string[]>;
  /** In the task's project: the roles of the caller and a new holder, where they have one. */
  projectRoles: Record<string, ProjectRole>;
  /** The project's sign-off rule (`other` on the shared board). */
  reviewPolicy: ReviewPolicy;
  /** Under `human`: the registered types of the caller and the assignee (missing: human). */
  workerTypes: Record<string, WorkerType>;
}

/** A hidden task's reference to a deleted task, which the deletion removed. */
export interface DetachedReference {
  id: number;
  project_slug: string | null;
  field: ReferenceField;
}

/** The list's filters; unset ones do not filter. */
export interface TaskFilters {
  status?: TaskStatus;
  priority?: TaskPriority;
  assignedTo?: string;
  project?: string;
  parentId?: number;
  /** Title or description contains this text (case-insensitive, no wildcards). */
  text?: string;
  /** true: no unfinished dependency; false: some. */
  ready?: boolean;
  /** Every one of these tags. */
  allTags?: string[];
  /** At least one of these tags. */
  anyTags?: string[];
  completedSince?: Date;
  completedUntil?: Date;
}

/** The filters of claim-next; unset ones do not filter. */
export interface ClaimFilters {
  project?: string;
  minPriority?: TaskPriority;
  /** Narrows the caller's registered capabilities (never widens them). */
  capabilities?: string[];
}

/** The outcome of a move, as `APPLY_MOVE_SQL` writes it. */
export interface MoveWrite {
  status: TaskStatus;
  assignedTo: string | null;
  /** undefined keeps the current progress. */
  progress?: number;
  /** 'keep', 'end', or seconds from now. */
  lease: 'keep' | 'end' | number;
  /** The new count of failed attempts; undefined keeps it. */
  attempts?: number;
  /** The last failure's reason; undefined keeps it. */
  lastError?: string;
  /** 'keep', 'clear', or seconds from now (the backoff); undefined keeps it. */
  notBefore?: 'keep' | 'clear' | number;
  /** A start or a takeover: the claim's timeout starts again. */
  claim?: boolean;
  /** All the task's artifacts (`review`, `complete`); undefined keeps them. */
  artifacts?: Artifact[];
  /** The move's hand-off note; undefined keeps the last one. */
  lastHandoff?: LastHandoff;
}

type TaskRow = Task & {
  blocker?: { id: number; status: TaskStatus } | null;
  capabilities_by_worker?: Record<string, string[]> | null;
  project_roles?: Record<string, ProjectRole> | null;
  review_policy?: ReviewPolicy | null;
  worker_types?: Record<string, WorkerType> | null;
};

/**
 * A row as a task, without the extra columns some statements add. Fields in the table's column
 * order, which is the order answers have always had.
 */
const toTask = (row: TaskRow): Task => ({
  id: row.id,
  title: row.title,
  description: row.description,
  status: row.status,
  priority: row.priority,
  progress_percent: row.progress_percent,
  assigned_to: row.assigned_to,
  project_slug: row.project_slug,
  parent_id: row.parent_id,
  due_date: row.due_date,
  created_by: row.created_by,
  created_at: row.created_at,
  updated_at: row.updated_at,
  lease_expires_at: row.lease_expires_at,
  required_capabilities: row.required_capabilities,
  version: row.version,
  blocked_by: row.blocked_by,
  tags: row.tags,
  started_at: row.started_at,
  completed_at: row.completed_at,
  awaiting_input: row.awaiting_input,
  artifacts: row.artifacts,
  last_handoff: row.last_handoff,
  attempts: row.attempts,
  max_attempts: row.max_attempts,
  timeout_seconds: row.timeout_seconds,
  not_before: row.not_before,
  last_error: row.last_error,
  timeout_at: row.timeout_at,
  usage: row.usage,
  // bigint comes back from pg as text; budgets stay far below 2^53.
  budget_tokens: row.budget_tokens === null ? null : Number(row.budget_tokens),
  budget_usd: row.budget_usd,
});

const toLocked = (row: TaskRow): LockedTask => ({
  task: toTask(row),
  blocker: row.blocker ?? null,
  capabilities: row.capabilities_by_worker ?? {},
  projectRoles: row.project_roles ?? {},
  reviewPolicy: row.review_policy ?? 'other',
  workerTypes: row.worker_types ?? {},
});

/** Escapes LIKE's wildcards so the text matches literally. */
const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The list's WHERE: the visibility rule first, then each filter given, as parameters. */
function listConditions(viewer: Viewer, filters: TaskFilters): Conditions {
  const where = new Conditions();
  where.param(viewer.id); // $1, which LIST_FROM joins on
  // The flag and the absence of an allow-list in the text: see `sqlInteger`.
  const allowed = allowedProjectsOf(viewer);
  where.raw(
    readableJoined(
      viewer.isAdmin ? 'true' : 'false',
      allowed === null ? 'NULL' : where.param(allowed),
    ),
  );
  where
    .add((p) => `t.status = ${p}`, filters.status)
    .add((p) => `t.priority = ${p}`, filters.priority)
    .add((p) => `t.assigned_to = ${p}`, filters.assignedTo)
    .add((p) => `t.project_slug = ${p}`, filters.project)
    .add((p) => `t.parent_id = ${p}`, filters.parentId)
    .add(
      (p) => `(t.title ILIKE ${p} OR t.description ILIKE ${p})`,
      filters.text && likePattern(filters.text),
    )
    .add((p) => `t.tags @> ${p}::text[]`, filters.allTags)
    .add((p) => `t.tags && ${p}::text[]`, filters.anyTags)
    .add((p) => `t.completed_at >= ${p}`, filters.completedSince)
    .add((p) => `t.completed_at < ${p}`, filters.completedUntil);
  if (filters.ready !== undefined) {
    const blocked = hasUnfinishedDependency('t');
    where.raw(filters.ready ? `NOT ${blocked}` : blocked);
  }
  return where;
}

/** Where a page of the list ended: its last task's sort key (as `sortKeySql` gives it) and id. */
export interface TaskPosition {
  /** null for the `id` sort, and for a task without a due date in the `due_date` sort. */
  key: string | null;
  id: number;
}

/** Where a page starts: after a position (none: the first page), or past `offset` tasks. */
export type TaskPageStart = { after?: TaskPosition } | { offset: number };

/** A page of the list: its tasks, whether more follow, and where it ended. */
export interface TaskPage {
  items: Task[];
  more: boolean;
  last?: TaskPosition;
}

type ListRow = TaskRow & { sort_key: string | null };

/**
 * The advisory-lock namespace of task references (parent links and dependencies): one
 * transaction-scoped lock per task id, `pg_advisory_xact_lock(TASK_REFERENCES_LOCK, id)`. A change
 * to references holds the locks of the tasks its check reads (see `lockReferences`), so two
 * changes wait for each other only when those sets meet.
 */
const TASK_REFERENCES_LOCK = 0x7461736b; // "task"

/** How long a list's row estimate is kept, and how many are (the oldest goes first). */
const ESTIMATE_TTL_MS = 10_000;
const ESTIMATES_KEPT = 1_000;

/** Why a task is in someone's inbox, most urgent first. */
export const INBOX_REASONS = ['awaiting_input', 'failed', 'review', 'assigned'] as const;
export type InboxReason = (typeof INBOX_REASONS)[number];

/**
 * SQL, on a row of `visibleTasksFrom('$1')`: true when the caller ($1, admin flag $2) may change
 * tasks where it is (the shared board, a project where it is an owner or member, or anywhere for
 * an admin). Never NULL, so that `NOT` of it means what it says.
 */
const WRITES_HERE = `(t.project_slug IS NULL OR $2::boolean
  OR COALESCE(vm.role IN ('owner', 'member'), false))`;

/**
 * SQL, on a row of `visibleTasksFrom('$1')`: the first three reasons, before whether the caller
 * writes there. Each alternative names an indexed state (`idx_tasks_awaiting_input`, the indexes
 * on `status`), so that PostgreSQL reads them as a BitmapOr of few tasks. The project's sign-off
 * rule is read from the joined project, the workers only under `human`. Never NULL.
 */
const WAITS_ON_A_WRITER = `((t.awaiting_input AND t.assigned_to IS DISTINCT FROM $1)
  OR t.status = 'failed'
  OR (t.status = 'review' AND ($2::boolean OR t.assigned_to IS DISTINCT FROM $1)
      AND NOT (COALESCE(vp.review_policy = 'human', false)
            AND EXISTS (SELECT 1 FROM workers rc WHERE rc.id = $1 AND rc.type = 'agent')
            AND EXISTS (SELECT 1 FROM workers ra WHERE ra.id = t.assigned_to AND ra.type = 'agent'))))`;

/** The statuses of unfinished work, as an SQL array: an `= ANY` the assignee's index can seek. */
const UNFINISHED = `ARRAY[${TASK_STATUSES.filter((status) => status !== 'completed')
  .map((status) => `'${status}'`)
  .join(', ')}]::task_status[]`;

/**
 * The inbox of caller $1 (admin flag $2, project allow-list $3): the tasks it can read that wait
 * on it, each with its reason and the reason's rank, the first that applies:
 * 1. `awaiting_input`: someone else's question waits for an answer, in a place the caller writes;
 * 2. `failed`: a task out of attempts, in a place the caller writes (it may `retry` it);
 * 3. `review`: work in review the caller may sign off (not its own, unless an admin; under a
 *    project's `human` policy, a task held by an agent only for a person);
 * 4. `assigned`: the caller's own unfinished tasks.
 * The rank is the first of these whose state the task is in, whether or not the caller writes
 * there: a failed task of its own shows as `failed` even where it may no longer retry it.
 *
 * Three parts, each task in exactly one (UNION ALL), because an inbox is a few of the board's
 * tasks and each part can find its own through an index instead of reading every task the caller
 * may read: the first three reasons on the shared board (and everywhere, for an admin); the same
 * reasons in the projects where the caller writes, whose strict condition on its membership
 * (`vm.role`) makes that join inner, so that PostgreSQL may start from the memberships
 * (`idx_project_members_worker`) and probe each project's tasks, or read the reasons' tasks once
 * and join them when the caller is in most projects; the caller's unfinished tasks
 * (`idx_tasks_assigned_to`), less those a first part has. Visibility is the list's joined rule
 * (`readableJoined`): a probe per task found, never a pass over every readable project. The
 * admin flag decides which parts run: the statement is planned with its values (not prepared).
 * test/query-plans.e2e-spec.ts checks the plans; docs/benchmark.md has the figures.
 */
const INBOX_SQL = `SELECT inbox.*, (ARRAY[${INBOX_REASONS.map((reason) => `'${reason}'`).join(', ')}])[inbox.rank] AS reason
  FROM (SELECT t.*,
          CASE WHEN t.awaiting_input AND t.assigned_to IS DISTINCT FROM $1 THEN 1
               WHEN t.status = 'failed' THEN 2
               WHEN t.status = 'review' AND ($2::boolean OR t.assigned_to IS DISTINCT FROM $1) THEN 3
               ELSE 4 END AS rank
        FROM (SELECT t.* FROM ${visibleTasksFrom('$1')}
               WHERE ${readableJoined('$2', '$3')} AND (t.project_slug IS NULL OR $2::boolean)
                 AND ${WAITS_ON_A_WRITER}
              UNION ALL
              SELECT t.* FROM ${visibleTasksFrom('$1')}
               WHERE ${readableJoined('$2', '$3')} AND NOT $2::boolean
                 AND vm.role IN ('owner', 'member') AND ${WAITS_ON_A_WRITER}
              UNION ALL
              SELECT t.* FROM ${visibleTasksFrom('$1')}
               WHERE ${readableJoined('$2', '$3')} AND t.assigned_to = $1
                 AND t.status = ANY(${UNFINISHED})
                 AND NOT (${WRITES_HERE} AND ${WAITS_ON_A_WRITER})) t) inbox`;

/** One page of the inbox, most urgent first: `INBOX_SQL` and $4 the limit, $5 the offset. */
export const INBOX_PAGE_SQL = `SELECT * FROM (${INBOX_SQL}) inbox
  ORDER BY rank, priority DESC, due_date ASC NULLS LAST, id ASC LIMIT $4 OFFSET $5`;

/** How many items the inbox has (`INBOX_SQL`'s parameters). */
export const INBOX_COUNT_SQL = `SELECT count(*)::integer AS total FROM (${INBOX_SQL}) inbox`;

@Injectable()
export class TaskRepository extends TableRepository<Task> {
  private readonly estimates = new Map<string, { rows: number; until: number }>();

  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Task);
  }

  /** The task, if the viewer may see it. */
  async find(id: number, viewer: Viewer): Promise<Task | undefined> {
    const [row] = await this.prepared<TaskRow>(STATEMENT.findTask, FIND_TASK_SQL, [
      id,
      viewer.id,
      viewer.isAdmin,
      allowedProjectsOf(viewer),
    ]);
    return row && toTask(row);
  }

  async exists(id: number, viewer: Viewer): Promise<boolean> {
    const rows = await this.select(
      `SELECT 1 FROM tasks t WHERE t.id = $1 AND ${readableProject('t.project_slug', '$2', '$3', '$4')}`,
      [id, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return rows.length > 0;
  }

  /**
   * The tasks among `ids` that exist, locked against deletion until the transaction ends (a
   * dependency between two tasks must not outlive either).
   */
  async keepFromDeletion(ids: number[], viewer: Viewer): Promise<Task[]> {
    const rows = await this.write<TaskRow>(
      `SELECT * FROM tasks t WHERE t.id = ANY($1)
         AND ${readableProject('t.project_slug', '$2', '$3', '$4')} FOR KEY SHARE`,
      [ids, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return rows.map(toTask);
  }

  /**
   * One page of the list of what the viewer may see, in `sort` order: `limit` tasks from `start`
   * (after a cursor's position, or past `offset` rows), and whether more follow. Each filter is
   * a parameter.
   */
  async page(
    viewer: Viewer,
    filters: TaskFilters,
    sort: TaskSort,
    limit: number,
    start: TaskPageStart,
  ): Promise<TaskPage> {
    // One row more than the page tells whether another page follows, without counting.
    const rows =
      'offset' in start && start.offset > 0
        ? await this.rowsAtOffset(viewer, filters, sort, limit + 1, start.offset)
        : await this.rowsAfter(
            viewer,
            filters,
            sort,
            limit + 1,
            'after' in start ? start.after : undefined,
          );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toTask),
      more: rows.length > limit,
      last: last && { key: last.sort_key, id: last.id },
    };
  }

  /**
   * How many tasks of the list match: exact when `upTo` is undefined or at most `upTo` match
   * (reading at most `upTo + 1` rows); beyond it, the planner's estimate, never below `upTo + 1`.
   */
  async count(
    viewer: Viewer,
    filters: TaskFilters,
    upTo?: number,
  ): Promise<{ total: number; estimated: boolean }> {
    const where = listConditions(viewer, filters);
    const clauses = where.sql ? [where.sql.slice(' WHERE '.length)] : [];
    if (upTo === undefined) {
      const [{ total }] = await this.select<{ total: number }>(
        countTasksSql(clauses),
        where.params,
      );
      return { total, estimated: false };
    }
    const filterParams = [...where.params];
    const countSql = countTasksUpToSql(clauses, sqlInteger(upTo + 1));
    const [{ total }] = await this.prepared<{ total: number }>(
      listStatementName(countSql),
      countSql,
      where.params,
    );
    if (total <= upTo) return { total, estimated: false };
    const estimate = await this.estimate(estimateTasksSql(clauses), filterParams);
    return { total: Math.max(estimate, upTo + 1), estimated: true };
  }

  /**
   * The planner's row estimate for a list's conditions, kept for `ESTIMATE_TTL_MS`: the EXPLAIN
   * that gives it cannot be prepared, so PostgreSQL plans it on every call (about a third of a
   * big list's database CPU), and an estimate a few seconds old is as good as a new one.
   */
  private async estimate(sql: string, params: unknown[]): Promise<number> {
    const key = JSON.stringify([sql, params]);
    const now = Date.now();
    const kept = this.estimates.get(key);
    if (kept && kept.until > now) return kept.rows;
    const [row] = await this.select<{ 'QUERY PLAN': unknown }>(sql, params);
    const plan = row['QUERY PLAN'];
    const [{ Plan }] = (typeof plan === 'string' ? JSON.parse(plan) : plan) as [
      { Plan: { 'Plan Rows': number } },
    ];
    const rows = Math.round(Plan['Plan Rows']);
    this.estimates.delete(key);
    if (this.estimates.size >= ESTIMATES_KEPT) {
      this.estimates.delete(this.estimates.keys().next().value as string);
    }
    this.estimates.set(key, { rows, until: now + ESTIMATE_TTL_MS });
    return rows;
  }

  private rowsAtOffset(
    viewer: Viewer,
    filters: TaskFilters,
    sort: TaskSort,
    limit: number,
    offset: number,
  ): Promise<ListRow[]> {
    const where = listConditions(viewer, filters);
    const clauses = where.sql ? [where.sql.slice(' WHERE '.length)] : [];
    const sql = pageOfTasksSql(
      clauses,
      offsetOrderSql(sort),
      sqlInteger(limit),
      where.param(offset),
      listColumns(sort),
    );
    return this.prepared<ListRow>(listStatementName(sql), sql, where.params);
  }

  private async rowsAfter(
    viewer: Viewer,
    filters: TaskFilters,
    sort: TaskSort,
    limit: number,
    after: TaskPosition | undefined,
  ): Promise<ListRow[]> {
    const read = async (
      part: 'dated' | 'undated',
      from: TaskPosition | undefined,
      take: number,
    ) => {
      const where = listConditions(viewer, filters);
      const clauses = where.sql ? [where.sql.slice(' WHERE '.length)] : [];
      // A null key (the id sort, an undated task) is no parameter: the statement would not use it.
      const key = from?.key === null || from === undefined ? 'NULL' : where.param(from.key);
      const position = from && { key, id: where.param(from.id) };
      const sql = keysetPageSql(clauses, sort, sqlInteger(take), position, part);
      return this.prepared<ListRow>(listStatementName(sql), sql, where.params);
    };
    if (sort.field !== 'due_date') return read('dated', after, limit);
    // Past the dated tasks (a cursor on an undated one) only undated ones remain.
    if (after && after.key === null) return read('undated', after, limit);
    const dated = await read('dated', after, limit);
    if (dated.length === limit) return dated;
    return [...dated, ...(await read('undated', undefined, limit - dated.length))];
  }

  async insert(values: TaskValues & { title: string; created_by: string }): Promise<Task> {
    const columns = [...TASK_WRITABLE_COLUMNS, 'created_by' as const].filter(
      (c) => values[c] !== undefined,
    );
    const [row] = await this.write<TaskRow>(
      `INSERT INTO tasks (${columns.join(', ')})
       VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      columns.map((c) => values[c]),
    );
    return toTask(row);
  }

  /** Writes the given fields (names from `TASK_WRITABLE_COLUMNS` only). */
  async update(id: number, values: TaskValues): Promise<Task> {
    const columns = TASK_WRITABLE_COLUMNS.filter((c) => values[c] !== undefined);
    const [row] = await this.write<TaskRow>(
      `UPDATE tasks SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, ...columns.map((c) => values[c])],
    );
    return toTask(row);
  }

  /** Deletes a task; undefined when there was none. */
  async delete(id: number): Promise<Task | undefined> {
    const [row] = await this.write<TaskRow>(`DELETE FROM tasks WHERE id = $1 RETURNING *`, [id]);
    return row && toTask(row);
  }

  /** Locks the task for a move; undefined when it does not exist or the caller may not see it. */
  async lockForMove(
    id: number,
    caller: Viewer,
    holder: string | null,
  ): Promise<LockedTask | undefined> {
    const [row] = await this.preparedWrite<TaskRow>(
      STATEMENT.lockMoveSubject,
      LOCK_MOVE_SUBJECT_SQL,
      [id, caller.id, holder, caller.isAdmin, allowedProjectsOf(caller)],
    );
    return row && toLocked(row);
  }

  /** claim-next's best candidate in one tier, locked (SKIP LOCKED); undefined when none. */
  async claimCandidate(
    tier: ClaimTier,
    caller: Viewer,
    filters: ClaimFilters,
  ): Promise<LockedTask | undefined> {
    const [row] = await this.write<TaskRow>(claimNextCandidateSql(tier), [
      caller.id,
      filters.project ?? null,
      filters.minPriority ?? null,
      filters.capabilities ?? null,
      caller.isAdmin,
      allowedProjectsOf(caller),
    ]);
    return row && toLocked(row);
  }

  /** The sweeper's next overdue task, locked (SKIP LOCKED); undefined when none. */
  async overdueCandidate(
    sweeper: Viewer,
  ): Promise<{ locked: LockedTask; reason: OverdueReason } | undefined> {
    const [row] = await this.write<TaskRow & { overdue: OverdueReason }>(OVERDUE_CANDIDATE_SQL, [
      sweeper.id,
    ]);
    return row && { locked: toLocked(row), reason: row.overdue };
  }

  /** Adds a usage report to a locked task; whether it is now over a budget. */
  async addUsage(id: number, report: UsageReport): Promise<{ task: Task; overBudget: boolean }> {
    const [row] = await this.write<TaskRow & { over_budget: boolean }>(ADD_USAGE_SQL, [
      id,
      report.model,
      report.input_tokens,
      report.output_tokens,
      report.cost_usd ?? null,
    ]);
    return { task: toTask(row), overBudget: row.over_budget };
  }

  /** Writes a move's outcome on a locked task. */
  async applyMove(id: number, move: MoveWrite): Promise<Task> {
    const [row] = await this.preparedWrite<TaskRow>(STATEMENT.applyMove, APPLY_MOVE_SQL, [
      id,
      move.status,
      move.assignedTo,
      move.progress ?? null,
      String(move.lease),
      move.attempts ?? null,
      move.lastError ?? null,
      String(move.notBefore ?? 'keep'),
      move.claim ?? false,
      move.artifacts ? JSON.stringify(move.artifacts) : null,
      move.lastHandoff ? JSON.stringify(move.lastHandoff) : null,
    ]);
    return toTask(row);
  }

  /**
   * Holds the reference locks of the tasks `scope` names until the transaction ends: in id
   * order, so two requests taking overlapping sets cannot deadlock, and again until `scope`,
   * read after the locks are held, names no task left unlocked. A reference check reads the
   * tasks it names (an ancestry, a dependency closure, a task's neighbours); every change that
   * could alter what it reads holds the lock of a task in it, so once the set is stable it stays
   * so until the commit. The rare second round (the set changed between the read and the lock)
   * takes its locks out of order; PostgreSQL then detects any deadlock and the request answers
   * 409 `concurrent_change`.
   */
  async lockReferences(scope: () => Promise<number[]>): Promise<void> {
    const held = new Set<number>();
    for (;;) {
      const missing = [...new Set(await scope())].filter((id) => !held.has(id));
      if (missing.length === 0) return;
      await this.write(
        `SELECT pg_advisory_xact_lock(${TASK_REFERENCES_LOCK}, id)
           FROM (SELECT id FROM unnest($1::int[]) AS ids(id) ORDER BY id) ordered`,
        [missing],
      );
      for (const id of missing) held.add(id);
    }
  }

  /** Task `id` and its ancestors, nearest first (none when there is no such task). */
  async ancestry(id: number): Promise<number[]> {
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows = await this.select<{ id: number }>(
      `WITH RECURSIVE ancestors(id, parent_id) AS (
         SELECT id, parent_id FROM tasks WHERE id = $1
         UNION
         SELECT t.id, t.parent_id FROM tasks t JOIN ancestors a ON t.id = a.parent_id
       )
       SELECT id FROM ancestors`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Task `id` and every task a reference joins to it: its parent, its subtasks, the tasks it
   * depends on and those depending on it. What a move between projects checks.
   */
  async neighbours(id: number): Promise<number[]> {
    const rows = await this.select<{ id: number }>(
      `SELECT $1::int AS id
       UNION SELECT parent_id FROM tasks WHERE id = $1 AND parent_id IS NOT NULL
       UNION SELECT id FROM tasks WHERE parent_id = $1
       UNION SELECT depends_on_id FROM task_dependencies WHERE task_id = $1
       UNION SELECT task_id FROM task_dependencies WHERE depends_on_id = $1`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /** Whether `ancestor` is `id` itself or one of its ancestors. */
  async isAncestorOrSelf(ancestor: number, id: number): Promise<boolean> {
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows = await this.select(
      `WITH RECURSIVE ancestors(id, parent_id) AS (
         SELECT id, parent_id FROM tasks WHERE id = $1
         UNION
         SELECT t.id, t.parent_id FROM tasks t JOIN ancestors a ON t.id = a.parent_id
       )
       SELECT 1 FROM ancestors WHERE id = $2 LIMIT 1`,
      [id, ancestor],
    );
    return rows.length > 0;
  }

  /**
   * A task outside project `slug` that refers to one of its tasks (as parent or dependency), if
   * any: such a reference would name a private task to people outside the project. One the
   * viewer sees comes first; `visible` says whether the viewer may see the referring task.
   */
  async outsideReferenceTo(
    slug: string,
    viewer: Viewer,
  ): Promise<{ id: number; target: number; visible: boolean } | undefined> {
    const [row] = await this.select<{ id: number; target: number; visible: boolean }>(
      `SELECT * FROM (${crossingReferencesSql(
        () => 'x.project_slug = $1',
        `, ${readableProject('r.project_slug', '$2', '$3', '$4')} AS visible`,
      )}) refs ORDER BY visible DESC LIMIT 1`,
      [slug, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row;
  }

  /** True when any task is in project `slug` (whoever may see it). */
  async anyInProject(slug: string): Promise<boolean> {
    const rows = await this.select(`SELECT 1 FROM tasks WHERE project_slug = $1 LIMIT 1`, [slug]);
    return rows.length > 0;
  }

  /**
   * A reference to or from task `id` that points into a private project from outside it, if
   * any: the reference rule, checked after the task has changed project (see
   * `decideProjectMove`). One whose other end the viewer sees comes first.
   */
  async privateReferenceOf(id: number, viewer: Viewer): Promise<PrivateReference | undefined> {
    const [row] = await this.select<PrivateReference>(
      `SELECT * FROM (${crossingReferencesSql(
        (referrer, target) =>
          `$1 IN (${referrer}, ${target}) AND EXISTS (SELECT 1 FROM projects xp
             WHERE xp.slug = x.project_slug AND xp.visibility = 'private')`,
        `, x.project_slug AS target_project,
           CASE WHEN r.id = $1 THEN ${readableProject('x.project_slug', '$2', '$3', '$4')}
                ELSE ${readableProject('r.project_slug', '$2', '$3', '$4')} END AS visible`,
      )}) refs ORDER BY visible DESC LIMIT 1`,
      [id, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row;
  }

  /**
   * Holds the projects of task `id` and of the tasks it refers to (FOR SHARE, until the
   * transaction ends): a reference rule decided on their visibility cannot race a change to
   * private, nor a membership change.
   */
  async holdProjectsAround(id: number): Promise<void> {
    await this.write(
      `SELECT p.slug FROM projects p WHERE p.slug IN (
         SELECT t.project_slug FROM tasks t
          WHERE t.id = $1 OR t.id = (SELECT parent_id FROM tasks WHERE id = $1)
         UNION
         SELECT b.project_slug FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
          WHERE d.task_id = $1)
       ORDER BY p.slug FOR SHARE`,
      [id],
    );
  }

  /** The task, locked against every change (and deletion) by others until the transaction ends. */
  async lockForDelete(id: number, viewer: Viewer): Promise<Task | undefined> {
    const [row] = await this.write<TaskRow>(
      `SELECT * FROM tasks t
        WHERE t.id = $1 AND ${readableProject('t.project_slug', '$2', '$3', '$4')} FOR UPDATE`,
      [id, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row && toTask(row);
  }

  /**
   * Lets go of task `id` on behalf of the tasks the viewer cannot see: their `parent_id` on it
   * is cleared and their dependencies on it are removed. Returns them, with what each lost.
   */
  async detachHidden(id: number, viewer: Viewer): Promise<DetachedReference[]> {
    const hidden = (alias: string) =>
      `NOT ${readableProject(`${alias}.project_slug`, '$2', '$3', '$4')}`;
    return this.write<DetachedReference>(
      `WITH children AS (
         UPDATE tasks c SET parent_id = NULL, updated_at = now()
          WHERE c.parent_id = $1 AND ${hidden('c')} RETURNING c.id, c.project_slug),
       edges AS (
         DELETE FROM task_dependencies d USING tasks a
          WHERE d.depends_on_id = $1 AND a.id = d.task_id AND ${hidden('a')}
          RETURNING a.id, a.project_slug)
       SELECT id, project_slug, 'parent_id' AS field FROM children
       UNION ALL SELECT id, project_slug, 'depends_on' FROM edges
       ORDER BY id`,
      [id, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
  }

  /** The task's current version (its ETag); undefined when it does not exist or is hidden. */
  async versionOf(id: number, viewer: Viewer): Promise<number | undefined> {
    const [row] = await this.select<{ version: number }>(
      `SELECT version FROM tasks t
        WHERE t.id = $1 AND ${readableProject('t.project_slug', '$2', '$3', '$4')}`,
      [id, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row?.version;
  }

  /**
   * Arms `If-Match` for this transaction: the version trigger refuses any write of task `id`
   * that does not start from `version`, even if another request committed in between.
   */
  async expectVersion(id: number, version: number): Promise<void> {
    await this.write(`SELECT set_config('taskflow.if_match', $1, true)`, [`${id}-${version}`]);
  }

  /** Records the newest hand-off note on a locked task (`last_handoff`). */
  async setLastHandoff(id: number, handoff: LastHandoff): Promise<Task> {
    const [row] = await this.write<TaskRow>(
      `UPDATE tasks SET last_handoff = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, JSON.stringify(handoff)],
    );
    return toTask(row);
  }

  /**
   * Sets or clears `awaiting_input` on a locked task. Cleared (an answer came), a lease that ran
   * on meanwhile is given at least `leaseSeconds` from now, so the holder has time to read the
   * answer before anyone may take the task over.
   */
  async setAwaitingInput(id: number, awaiting: boolean, leaseSeconds: number): Promise<Task> {
    const [row] = await this.write<TaskRow>(
      `UPDATE tasks SET awaiting_input = $2,
              lease_expires_at = CASE WHEN $2 OR lease_expires_at IS NULL THEN lease_expires_at
                ELSE GREATEST(lease_expires_at, now() + make_interval(secs => $3)) END,
              updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, awaiting, leaseSeconds],
    );
    return toTask(row);
  }

  /** Replaces the artifacts of a locked task. */
  async setArtifacts(id: number, artifacts: Artifact[]): Promise<Task> {
    const [row] = await this.write<TaskRow>(
      `UPDATE tasks SET artifacts = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, JSON.stringify(artifacts)],
    );
    return toTask(row);
  }

  /**
   * The caller's inbox, one page, most urgent first, and how many items it has: see
   * `INBOX_SQL`. Exact counts: an inbox is a person's own work, not the whole board.
   */
  async inbox(
    viewer: Viewer,
    limit: number,
    offset: number,
  ): Promise<{ items: { task: Task; reason: InboxReason }[]; total: number }> {
    const params = [viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)];
    const rows = await this.select<TaskRow & { reason: InboxReason }>(INBOX_PAGE_SQL, [
      ...params,
      limit,
      offset,
    ]);
    const [{ total }] = await this.select<{ total: number }>(INBOX_COUNT_SQL, params);
    return { items: rows.map((row) => ({ task: toTask(row), reason: row.reason })), total };
  }
}
