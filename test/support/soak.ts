import { Client } from 'pg';
import { prng } from '../../bench/prng';

/**
 * An agent soak: many actors, humans and agents, each with a real token, working one board at
 * random for a bounded time; then invariants checked against the database. Used by the soak test
 * and by the fault drills, against an app in this process or in a child process (it only needs a
 * base URL).
 */

export interface SoakActor {
  id: string;
  token: string;
  kind: 'human' | 'agent';
}

export interface Mutation {
  taskId: number;
  action: string;
  actorId: string;
  /**
   * A 200 that may or may not have written this entry: a PATCH to the status (or holder) the
   * task already had changes nothing and rightly writes nothing. `actions` lists the entries
   * it may have written (PATCH status=in_progress is `started`, `unblocked` or `reopened`,
   * depending on where the task was).
   */
  optional?: { actions: string[] };
}

export interface SoakOptions {
  baseUrl: string;
  actors: SoakActor[];
  /** The board; created tasks join it as the soak goes. */
  taskIds: number[];
  seconds: number;
  seed: number;
  /** Lets a drill swap a token mid-run (fresh tokens after the JWKS is stopped, say). */
  tokenFor?: (actor: SoakActor) => string;
}

export interface SoakResult {
  requests: number;
  byStatus: Record<string, number>;
  /** 2xx answers to mutating requests: each must have exactly one audit entry. */
  mutations: Mutation[];
  /** Anything 5xx (other than 503) or malformed: must stay empty. */
  failures: string[];
  /** Network-level errors (no response at all): only expected when a drill kills the server. */
  networkErrors: number;
  /**
   * Each 503, as `METHOD path after N ms: message`: expected only while a drill takes the
   * database away; the message tells a pool that stayed busy from a database that failed.
   */
  unavailable: string[];
  /** How long each answered request took, in ms, in the order they finished. */
  latenciesMs: number[];
  /**
   * The 4xx answers by `code`: expected refusals (a move from the wrong status, another's task,
   * `not_project_member` for someone outside the task's project), counted to show they happened.
   */
  refusals: Record<string, number>;
}

type Op =
  | 'create'
  | 'patch'
  | 'start'
  | 'progress'
  | 'review'
  | 'complete'
  | 'block'
  | 'unblock'
  | 'release'
  | 'approve'
  | 'reject'
  | 'reopen'
  | 'assign'
  | 'delete'
  | 'list'
  | 'audit';

/** How often each operation is picked (weights). Claims and progress dominate, as with agents. */
const MIX: [Op, number][] = [
  ['create', 5],
  ['patch', 10],
  ['start', 18],
  ['progress', 14],
  ['review', 8],
  ['complete', 8],
  ['block', 5],
  ['unblock', 6],
  ['release', 6],
  ['approve', 4],
  ['reject', 3],
  ['reopen', 2],
  ['assign', 3],
  ['delete', 2],
  ['list', 10],
  ['audit', 8],
];
const TOTAL_WEIGHT = MIX.reduce((sum, [, w]) => sum + w, 0);
const MOVE_ACTIONS: Partial<Record<Op, string>> = {
  start: 'started',
  progress: 'progressed',
  review: 'review_requested',
  complete: 'completed',
  block: 'blocked',
  unblock: 'unblocked',
  release: 'released',
  approve: 'approved',
  reject: 'rejected',
  reopen: 'reopened',
};
/** The entries a PATCH to each status may write: the moves that reach it. */
const MOVES_TO: Record<string, string[]> = {
  pending: ['released', 'unblocked'],
  in_progress: ['started', 'unblocked', 'reopened', 'rejected'],
  review: ['review_requested'],
  completed: ['completed', 'approved'],
  blocked: ['blocked'],
};
const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'blocked'];
const PRIORITIES = ['low', 'medium', 'high', 'critical'];

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const ids = [...options.taskIds];
  const result: SoakResult = {
    requests: 0,
    byStatus: {},
    mutations: [],
    failures: [],
    networkErrors: 0,
    unavailable: [],
    latenciesMs: [],
    refusals: {},
  };
  const deadline = Date.now() + options.seconds * 1000;
  let unique = 0;

  const choose = (): Op => {
    let roll = random() * TOTAL_WEIGHT;
    for (const [op, weight] of MIX) {
      roll -= weight;
      if (roll < 0) return op;
    }
    return 'list';
  };

  const send = async (
    actor: SoakActor,
    method: string,
    path: string,
    body?: object,
  ): Promise<{ status: number; body: any } | undefined> => {
    result.requests += 1;
    const started = performance.now();
    try {
      const res = await fetch(`${options.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${options.tokenFor ? options.tokenFor(actor) : actor.token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      const ms = Math.round(performance.now() - started);
      result.latenciesMs.push(ms);
      result.byStatus[res.status] = (result.byStatus[res.status] ?? 0) + 1;

      let parsed: any = undefined;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          result.failures.push(`${method} ${path} -> ${res.status} with a body that is not JSON`);
        }
      }
      if (res.status === 503) {
        result.unavailable.push(`${method} ${path} after ${ms} ms: ${String(parsed?.error)}`);
      }
      if (res.status >= 500 && res.status !== 503) {
        result.failures.push(`${method} ${path} -> ${res.status} ${text.slice(0, 200)}`);
      }
      if (res.status >= 400 && parsed?.status_code !== res.status) {
        result.failures.push(
          `${method} ${path} -> ${res.status} without the envelope: ${text.slice(0, 200)}`,
        );
      }
      if (res.status >= 400 && res.status < 500) {
        const code = String(parsed?.code);
        result.refusals[code] = (result.refusals[code] ?? 0) + 1;
      }
      return { status: res.status, body: parsed };
    } catch {
      result.networkErrors += 1;
      // No server (a drill stopped it): back off instead of spinning on refused connections.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return undefined;
    }
  };

  const act = async (actor: SoakActor): Promise<void> => {
    const op = choose();
    const id = pick(ids);
    const mutated = (taskId: number, action: string) =>
      result.mutations.push({ taskId, action, actorId: actor.id });
    switch (op) {
      case 'create': {
        const res = await send(actor, 'POST', '/api/tasks', {
          title: `soak ${actor.id} ${unique++}`,
          priority: pick(PRIORITIES),
          project_slug: pick(['alpha', 'beta', 'gamma']),
        });
        if (res?.status === 201) {
          ids.push(res.body.id as number);
          mutated(res.body.id as number, 'created');
        }
        return;
      }
      case 'patch': {
        // A fresh title every time: a successful PATCH always changes something, so it always
        // has an entry (a PATCH that changes nothing rightly writes none).
        const body: Record<string, unknown> = { title: `edited ${actor.id} ${unique++}` };
        if (random() < 0.3) body.priority = pick(PRIORITIES);
        if (random() < 0.2) body.status = pick(STATUSES);
        if (random() < 0.1) body.description = random() < 0.5 ? null : `note ${unique}`;
        const res = await send(actor, 'PATCH', `/api/tasks/${id}`, body);
        if (res?.status === 200) {
          mutated(id, 'updated');
          if (body.status) {
            const actions = MOVES_TO[body.status as string];
            result.mutations.push({
              taskId: id,
              action: actions[0],
              actorId: actor.id,
              optional: { actions },
            });
          }
        }
        return;
      }
      case 'assign': {
        const res = await send(actor, 'PATCH', `/api/tasks/${id}`, {
          assigned_to: random() < 0.2 ? null : pick(options.actors).id,
        });
        if (res?.status === 200) {
          result.mutations.push({
            taskId: id,
            action: 'assigned',
            actorId: actor.id,
            optional: { actions: ['assigned'] },
          });
        }
        return;
      }
      case 'delete': {
        const res = await send(actor, 'DELETE', `/api/tasks/${id}`);
        if (res?.status === 204) mutated(id, 'deleted');
        return;
      }
      case 'list': {
        await send(actor, 'GET', `/api/tasks?status=${pick(STATUSES)}&limit=20&sort=-updated_at`);
        return;
      }
      case 'audit': {
        await send(
          actor,
          'GET',
          random() < 0.5 ? `/api/tasks/${id}/audit` : `/api/audit?task_id=${id}`,
        );
        return;
      }
      default: {
        const path =
          op === 'progress'
            ? `/api/tasks/${id}/progress?percent=${Math.floor(random() * 101)}`
            : op === 'block' || op === 'reject'
              ? `/api/tasks/${id}/${op}?reason=soak`
              : `/api/tasks/${id}/${op}`;
        const res = await send(actor, 'POST', path);
        if (res?.status === 200) mutated(id, MOVE_ACTIONS[op]!);
      }
    }
  };

  await Promise.all(
    options.actors.map(async (actor) => {
      while (Date.now() < deadline) await act(actor);
    }),
  );
  return result;
}

interface AuditRow {
  id: string;
  task_id: number;
  actor_id: string;
  action: string;
  context: Record<string, any> | null;
}

const REPLAYED_FIELDS = [
  'title',
  'description',
  'status',
  'priority',
  'progress_percent',
  'assigned_to',
  'project_slug',
  'parent_id',
  'due_date',
] as const;

/** Where a lifecycle move may start from (the contract's routes, checked by replay). */
const MOVE_FROM: Record<string, string[]> = {
  started: ['pending'],
  progressed: ['in_progress'],
  review_requested: ['in_progress'],
  completed: ['in_progress'],
  approved: ['review'],
  rejected: ['review'],
  blocked: ['pending', 'in_progress', 'review'],
  unblocked: ['blocked'],
  released: ['in_progress'],
  reopened: ['completed'],
};

export interface InvariantReport {
  tasksReplayed: number;
  entries: number;
  problems: string[];
}

/**
 * Replays each task's audit trail from its `created` entry and compares the result with the row
 * in the table (or with the `deleted` snapshot). Along the way it checks that every lifecycle
 * entry was legal where it happened: a `started` entry only on a pending task, so no task was
 * ever claimed by two actors at once.
 */
export async function replayAuditTrails(
  db: Client,
  sinceAuditId: number,
): Promise<InvariantReport> {
  const entries = (
    await db.query<AuditRow>(
      `SELECT id, task_id, actor_id, action, context FROM audit_entries
       WHERE id > $1 AND task_id IS NOT NULL ORDER BY id`,
      [sinceAuditId],
    )
  ).rows;
  const rows = new Map<number, Record<string, unknown>>(
    (await db.query('SELECT * FROM tasks')).rows.map((r) => [r.id as number, r]),
  );
  const byTask = new Map<number, AuditRow[]>();
  for (const entry of entries) {
    byTask.set(entry.task_id, [...(byTask.get(entry.task_id) ?? []), entry]);
  }
  const problems: string[] = [];
  for (const [taskId, trail] of byTask) {
    if (trail[0].action !== 'created') continue; // a task from before the soak: no full history here
    let state: Record<string, unknown> = {};
    let deleted = false;
    for (const entry of trail) {
      const where = `task ${taskId} entry ${entry.id} (${entry.action} by ${entry.actor_id})`;
      if (deleted) problems.push(`${where}: after deletion`);
      const from = MOVE_FROM[entry.action];
      if (from && !from.includes(state.status as string)) {
        problems.push(`${where}: from status ${String(state.status)}`);
      }
      const ctx = entry.context ?? {};
      switch (entry.action) {
        case 'created':
          state = { ...ctx };
          break;
        case 'updated':
          for (const [field, change] of Object.entries(ctx) as [
            string,
            { from: unknown; to: unknown },
          ][]) {
            if (JSON.stringify(state[field]) !== JSON.stringify(change.from)) {
              problems.push(
                `${where}: ${field} was ${JSON.stringify(state[field])}, entry says ${JSON.stringify(change.from)}`,
              );
            }
            state[field] = change.to;
          }
          break;
        case 'started':
          // A pre-assigned task is started for its assignee.
          state.status = 'in_progress';
          state.assigned_to = state.assigned_to ?? entry.actor_id;
          break;
        case 'assigned':
          if (JSON.stringify(state.assigned_to) !== JSON.stringify(ctx.from)) {
            problems.push(
              `${where}: holder was ${JSON.stringify(state.assigned_to)}, entry says ${JSON.stringify(ctx.from)}`,
            );
          }
          state.assigned_to = ctx.to;
          break;
        case 'rejected':
        case 'reopened':
          state.status = 'in_progress';
          break;
        case 'progressed':
          state.progress_percent = ctx.percent;
          break;
        case 'review_requested':
          state.status = 'review';
          break;
        case 'completed':
        case 'approved':
          state.status = 'completed';
          state.progress_percent = 100;
          break;
        case 'blocked':
          state.status = 'blocked';
          break;
        case 'unblocked':
          state.status = state.assigned_to ? 'in_progress' : 'pending';
          break;
        case 'released':
          state.status = 'pending';
          state.assigned_to = null;
          break;
        case 'deleted':
          for (const field of REPLAYED_FIELDS) {
            if (JSON.stringify(state[field]) !== JSON.stringify(ctx[field])) {
              problems.push(
                `${where}: replayed ${field} ${JSON.stringify(state[field])} but deleted ${JSON.stringify(ctx[field])}`,
              );
            }
          }
          deleted = true;
          break;
        default:
          problems.push(`${where}: unknown action`);
      }
    }
    const row = rows.get(taskId);
    if (deleted) {
      if (row) problems.push(`task ${taskId}: deleted in the audit log but still in the table`);
      continue;
    }
    if (!row) {
      problems.push(`task ${taskId}: gone from the table without a deleted entry`);
      continue;
    }
    for (const field of REPLAYED_FIELDS) {
      const actual = row[field] instanceof Date ? row[field].toISOString() : row[field];
      if (JSON.stringify(actual) !== JSON.stringify(state[field])) {
        problems.push(
          `task ${taskId}: ${field} is ${JSON.stringify(actual)}, replay gives ${JSON.stringify(state[field])}`,
        );
      }
    }
  }
  return { tasksReplayed: byTask.size, entries: entries.length, problems };
}

/** The audit entries written since `sinceAuditId`, as mutations, for comparing with the 2xx seen. */
export async function auditedMutations(db: Client, sinceAuditId: number): Promise<Mutation[]> {
  const rows = (
    await db.query<AuditRow>(
      `SELECT task_id, actor_id, action FROM audit_entries WHERE id > $1 AND task_id IS NOT NULL ORDER BY id`,
      [sinceAuditId],
    )
  ).rows;
  return rows.map((r) => ({ taskId: r.task_id, action: r.action, actorId: r.actor_id }));
}

/**
 * Pairs the 2xx answers with the audit entries written: `unaudited` are answers that must have
 * an entry and have none; `unanswered` are entries no answer accounts for. Exact pairs first,
 * then the optional answers (a PATCH that may have been a no-op) take what is left.
 */
export function pairMutations(
  answered: Mutation[],
  audited: Mutation[],
): { unaudited: Mutation[]; unanswered: Mutation[] } {
  const key = (m: Mutation, action = m.action) => `${m.taskId}|${action}|${m.actorId}`;
  const counts = new Map<string, number>();
  for (const m of audited) counts.set(key(m), (counts.get(key(m)) ?? 0) + 1);
  const takeOne = (k: string): boolean => {
    const left = counts.get(k) ?? 0;
    if (left > 0) counts.set(k, left - 1);
    return left > 0;
  };
  const unaudited = answered.filter((m) => !m.optional && !takeOne(key(m)));
  for (const m of answered.filter((a) => a.optional)) {
    m.optional?.actions.some((action) => takeOne(key(m, action)));
  }
  const unanswered: Mutation[] = [];
  for (const m of audited) {
    if ((counts.get(key(m)) ?? 0) > 0) {
      counts.set(key(m), (counts.get(key(m)) ?? 0) - 1);
      unanswered.push(m);
    }
  }
  return { unaudited, unanswered };
}

/**
 * Agents claim only in their projects: every `started` entry since `sinceAuditId` written by an
 * agent on a task of a project has that agent as an owner or member of the project (read from
 * `project_members` after the run: membership does not change during a soak). `checked` counts
 * the agents' starts in projects; `outside` lists the entries that break the rule.
 */
export async function agentStartsOutsideTheirProjects(
  db: Client,
  sinceAuditId: number,
): Promise<{ checked: number; outside: string[] }> {
  const { rows } = await db.query<{
    id: string;
    task_id: number;
    project_slug: string;
    actor_id: string;
    role: string | null;
  }>(
    `SELECT a.id, a.task_id, a.project_slug, a.actor_id, m.role
       FROM audit_entries a
       LEFT JOIN project_members m
         ON m.project_slug = a.project_slug AND m.worker_id = a.actor_id
      WHERE a.id > $1 AND a.action = 'started' AND a.actor_type = 'agent'
        AND a.project_slug IS NOT NULL
      ORDER BY a.id`,
    [sinceAuditId],
  );
  const outside = rows
    .filter((r) => r.role !== 'owner' && r.role !== 'member')
    .map(
      (r) =>
        `entry ${r.id}: ${r.actor_id} started task ${r.task_id} of ${r.project_slug} as ${r.role ?? 'a non-member'}`,
    );
  return { checked: rows.length, outside };
}

/** Kept here too for the soak and the drills, which import their audit helpers from this file. */
export { maxAuditId } from './board';
