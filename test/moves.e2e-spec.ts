import { Client } from 'pg';
import type { TaskStatus } from '../src/tasks/task.enums';
import { auditRows, insertProject, registerWorker, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * The move table, checked from outside against an oracle: the table below is written from the
 * lifecycle contract (docs/lifecycle.md), NOT imported from src/tasks/task-moves.ts, so a change
 * to the code's table that the contract does not make fails here. Every door (each lifecycle
 * route, PATCH `status` to every target, PATCH `assigned_to`, create, claim-next and a lease
 * takeover), from every status, for every kind of caller: the status code, the row afterwards,
 * and the audit entries written (none when refused).
 */

const STATUSES: TaskStatus[] = [
  'pending',
  'in_progress',
  'review',
  'completed',
  'blocked',
  'failed',
];
/** Every task may fail this many attempts (the default). */
const MAX_ATTEMPTS = 3;

type Who = 'claimant' | 'assignee' | 'reviewer' | 'assignee_or_free' | 'assigner' | 'anyone';
interface ContractRow {
  from: TaskStatus[];
  /**
   * null: status unchanged; 'resume': in_progress with a holder, pending without; 'retry':
   * pending while attempts remain (a retryable failure), else failed.
   */
  to: TaskStatus | null | 'resume' | 'retry';
  who: Who;
  action: string;
  deps?: boolean;
  caps?: boolean;
  clearsHolder?: boolean;
  progress?: number;
}

const CONTRACT = {
  start: {
    from: ['pending'],
    to: 'in_progress',
    who: 'claimant',
    action: 'started',
    deps: true,
    caps: true,
  },
  progress: {
    from: ['in_progress'],
    to: null,
    who: 'assignee',
    action: 'progressed',
    progress: 50,
  },
  review: { from: ['in_progress'], to: 'review', who: 'assignee', action: 'review_requested' },
  approve: {
    from: ['review'],
    to: 'completed',
    who: 'reviewer',
    action: 'approved',
    progress: 100,
  },
  reject: { from: ['review'], to: 'in_progress', who: 'reviewer', action: 'rejected' },
  complete: {
    from: ['in_progress'],
    to: 'completed',
    who: 'assignee',
    action: 'completed',
    progress: 100,
  },
  block: {
    from: ['pending', 'in_progress', 'review'],
    to: 'blocked',
    who: 'assignee_or_free',
    action: 'blocked',
  },
  unblock: {
    from: ['blocked'],
    to: 'resume',
    who: 'assignee_or_free',
    action: 'unblocked',
    deps: true,
  },
  release: {
    from: ['in_progress'],
    to: 'pending',
    who: 'assignee',
    action: 'released',
    clearsHolder: true,
  },
  reopen: {
    from: ['completed'],
    to: 'in_progress',
    who: 'assignee',
    action: 'reopened',
    deps: true,
  },
  usage: { from: ['in_progress'], to: null, who: 'assignee', action: 'usage_reported' },
  fail: {
    from: ['in_progress'],
    to: 'retry',
    who: 'assignee',
    action: 'failed',
    clearsHolder: true,
  },
  retry: { from: ['failed'], to: 'pending', who: 'anyone', action: 'retried', clearsHolder: true },
  assign: {
    from: ['pending', 'in_progress', 'review', 'completed', 'blocked'],
    to: null,
    who: 'assigner',
    action: 'assigned',
    caps: true,
  },
} satisfies Record<string, ContractRow>;
type Move = keyof typeof CONTRACT;
const ROUTE_MOVES = Object.keys(CONTRACT).filter((m) => m !== 'assign') as Move[];

/** Every task requires `gpu`; who has registered it decides starts and assignments. */
const REQUIRED = 'gpu';
interface Caller {
  kind: string;
  id: string;
  admin: boolean;
  type: 'human' | 'agent';
  caps: string[];
}
const CALLERS: Caller[] = [
  { kind: 'the assignee', id: 'alice', admin: false, type: 'human', caps: [REQUIRED] },
  { kind: 'another user', id: 'bob', admin: false, type: 'human', caps: [REQUIRED] },
  { kind: 'an admin', id: 'root', admin: true, type: 'human', caps: [] },
  {
    kind: 'an agent with the capability',
    id: 'agent-gpu',
    admin: false,
    type: 'agent',
    caps: [REQUIRED],
  },
  { kind: 'an agent without it', id: 'agent-plain', admin: false, type: 'agent', caps: [] },
];
const capsOf = (id: string | null): string[] => CALLERS.find((c) => c.id === id)?.caps ?? [];

/** A task's state before the request. The assignee, when there is one, is alice. */
interface State {
  name: string;
  status: TaskStatus;
  holder: string | null;
  /** In progress with a lease that ran out. */
  expired?: boolean;
  /** Waits for a task that is not completed. */
  unfinishedDependency?: boolean;
  /** The project's `review_policy` (default `other`). */
  policy?: 'human';
  /** Failed attempts so far (0 when unsaid). */
  attempts?: number;
  /** Backing off after a failure: `not_before` an hour away. */
  backoff?: boolean;
}
const STATES: State[] = [
  { name: 'pending, unassigned', status: 'pending', holder: null },
  { name: 'pending, pre-assigned to alice', status: 'pending', holder: 'alice' },
  { name: 'in_progress, held by alice', status: 'in_progress', holder: 'alice' },
  {
    name: "in_progress, alice's lease expired",
    status: 'in_progress',
    holder: 'alice',
    expired: true,
  },
  {
    name: "in_progress, alice's lease expired on its last attempt",
    status: 'in_progress',
    holder: 'alice',
    expired: true,
    attempts: MAX_ATTEMPTS - 1,
  },
  {
    name: 'in_progress, held by alice on its last attempt',
    status: 'in_progress',
    holder: 'alice',
    attempts: MAX_ATTEMPTS - 1,
  },
  {
    name: 'pending, unassigned, backing off after a failure',
    status: 'pending',
    holder: null,
    attempts: 1,
    backoff: true,
  },
  { name: 'failed, out of attempts', status: 'failed', holder: null, attempts: MAX_ATTEMPTS },
  { name: 'review, held by alice', status: 'review', holder: 'alice' },
  { name: 'completed by alice', status: 'completed', holder: 'alice' },
  { name: 'blocked, unassigned', status: 'blocked', holder: null },
  { name: 'blocked, held by alice', status: 'blocked', holder: 'alice' },
  {
    name: 'pending, unassigned, waiting on a dependency',
    status: 'pending',
    holder: null,
    unfinishedDependency: true,
  },
  {
    name: 'blocked, held by alice, waiting on a dependency',
    status: 'blocked',
    holder: 'alice',
    unfinishedDependency: true,
  },
  {
    name: 'completed by alice, waiting on a dependency',
    status: 'completed',
    holder: 'alice',
    unfinishedDependency: true,
  },
  // A project whose work of agents a person signs off (review_policy: human).
  {
    name: 'in_progress, held by agent-gpu, review_policy human',
    status: 'in_progress',
    holder: 'agent-gpu',
    policy: 'human',
  },
  {
    name: 'review, held by agent-gpu, review_policy human',
    status: 'review',
    holder: 'agent-gpu',
    policy: 'human',
  },
  {
    name: 'review, held by alice, review_policy human',
    status: 'review',
    holder: 'alice',
    policy: 'human',
  },
  {
    name: 'in_progress, held by alice, review_policy human',
    status: 'in_progress',
    holder: 'alice',
    policy: 'human',
  },
];
const typeOf = (id: string | null) => CALLERS.find((c) => c.id === id)?.type ?? 'human';

const INITIAL_PROGRESS = 10;

interface Expected {
  http: number;
  code?: string;
  row: {
    status: TaskStatus;
    assigned_to: string | null;
    progress_percent: number;
    attempts: number;
  };
  actions: string[];
}

const unchanged = (state: State, http: number, code?: string): Expected => ({
  http,
  code,
  row: {
    status: state.status,
    assigned_to: state.holder,
    progress_percent: INITIAL_PROGRESS,
    attempts: state.attempts ?? 0,
  },
  actions: [],
});

/** A takeover of an expired lease counts it as an attempt; the last one fails the task. */
function takeoverOracle(state: State): Expected | undefined {
  const attempt = (state.attempts ?? 0) + 1;
  if (attempt < MAX_ATTEMPTS) return undefined;
  return {
    http: 409,
    code: 'task_failed',
    row: {
      status: 'failed',
      assigned_to: null,
      progress_percent: INITIAL_PROGRESS,
      attempts: attempt,
    },
    actions: ['failed'],
  };
}

/** The oracle: what the contract says `move` does to `state` when `caller` asks. */
function oracle(
  move: Move,
  state: State,
  caller: Caller,
  request: { holder?: string | null; target?: TaskStatus; reason?: string } = {},
): Expected {
  const rule: ContractRow = CONTRACT[move];
  const takeover = move === 'start' && state.status === 'in_progress' && state.expired === true;
  if (!rule.from.includes(state.status) && !takeover) {
    const claimed = move === 'start' && state.status === 'in_progress';
    return unchanged(state, 409, claimed ? 'task_claimed' : 'invalid_transition');
  }
  const lastTakeover = takeover ? takeoverOracle(state) : undefined;
  if (lastTakeover) return lastTakeover;
  const isHolder = state.holder === caller.id;
  const mayByRole: Record<Who, boolean> = {
    claimant: state.holder === null || isHolder,
    assignee: isHolder,
    reviewer: !isHolder,
    assignee_or_free: state.holder === null || isHolder,
    assigner: (state.holder === null && state.status === 'pending') || isHolder,
    anyone: true,
  };
  if (!caller.admin && !takeover && !mayByRole[rule.who]) {
    return unchanged(state, 403, rule.who === 'reviewer' ? 'reviewer_is_assignee' : 'not_assignee');
  }
  // The sign-off rule: under `human`, an agent's work is signed off by a person, admins included.
  if (state.policy === 'human' && typeOf(state.holder) === 'agent') {
    if ((move === 'approve' || move === 'reject') && caller.type === 'agent') {
      return unchanged(state, 403, 'human_review_required');
    }
    if (move === 'complete') return unchanged(state, 409, 'review_required');
  }
  const holder =
    move === 'start'
      ? takeover
        ? caller.id
        : (state.holder ?? caller.id)
      : move === 'assign'
        ? (request.holder ?? null)
        : rule.clearsHolder
          ? null
          : state.holder;
  if (move === 'assign' && holder === null && ['in_progress', 'review'].includes(state.status)) {
    return unchanged(state, 409, 'invalid_transition');
  }
  const attempts = state.attempts ?? 0;
  const status: TaskStatus =
    rule.to === null
      ? state.status
      : rule.to === 'resume'
        ? holder
          ? 'in_progress'
          : 'pending'
        : rule.to === 'retry'
          ? attempts + 1 < MAX_ATTEMPTS
            ? 'pending'
            : 'failed'
          : rule.to;
  if (request.target && request.target !== status)
    return unchanged(state, 409, 'invalid_transition');
  if ((move === 'reject' || move === 'fail') && !request.reason) {
    return unchanged(state, 422, 'validation_failed');
  }
  if (move === 'start' && !takeover && state.backoff) return unchanged(state, 409, 'retry_later');
  if (rule.deps && status === 'in_progress' && state.unfinishedDependency) {
    return unchanged(state, 409, 'dependency_unfinished');
  }
  if (rule.caps && holder !== null && !capsOf(holder).includes(REQUIRED)) {
    return unchanged(state, 403, 'capability_missing');
  }
  return {
    http: 200,
    row: {
      status,
      assigned_to: holder,
      progress_percent: rule.progress ?? INITIAL_PROGRESS,
      attempts: move === 'retry' ? 0 : move === 'fail' || takeover ? attempts + 1 : attempts,
    },
    actions: takeover ? ['failed', 'lease_expired', rule.action] : [rule.action],
  };
}

/** PATCH {status}: the move that reaches `target` from the current status, or 409. */
function patchStatusOracle(state: State, caller: Caller, target: TaskStatus): Expected {
  if (target === state.status) return unchanged(state, 200);
  const move = ROUTE_MOVES.find((m) => {
    const rule: ContractRow = CONTRACT[m];
    if (!rule.from.includes(state.status) || rule.to === null) return false;
    if (rule.to === 'resume') return target === 'in_progress' || target === 'pending';
    if (rule.to === 'retry') return target === 'pending' || target === 'failed';
    return rule.to === target;
  });
  if (!move) return unchanged(state, 409, 'invalid_transition');
  // PATCH carries no reason: a rejection (a failure) has to be made with POST /reject (/fail).
  return oracle(move, state, caller, { target });
}

/** claim-next, scoped to the task's own project: does the caller get this task? */
function claimNextOracle(state: State, caller: Caller): Expected {
  const eligible =
    capsOf(caller.id).includes(REQUIRED) &&
    !state.unfinishedDependency &&
    ((state.status === 'pending' &&
      !state.backoff &&
      (state.holder === null || state.holder === caller.id)) ||
      (state.status === 'in_progress' && state.expired === true));
  if (!eligible) return unchanged(state, 204);
  const lastTakeover = state.expired ? takeoverOracle(state) : undefined;
  // The task failed on its last attempt: claim-next looks further, and finds nothing else.
  if (lastTakeover) return { ...lastTakeover, http: 204, code: undefined };
  const attempts = (state.attempts ?? 0) + (state.expired ? 1 : 0);
  return {
    http: 200,
    row: {
      status: 'in_progress',
      assigned_to: caller.id,
      progress_percent: INITIAL_PROGRESS,
      attempts,
    },
    actions: state.status === 'in_progress' ? ['failed', 'lease_expired', 'started'] : ['started'],
  };
}

const BODIES: Partial<Record<Move, object>> = {
  progress: { percent: 50 },
  reject: { reason: 'the tests fail' },
  block: { reason: 'waiting for the API key' },
  fail: { reason: 'the tests fail' },
  usage: { model: 'claude-sonnet-4', input_tokens: 100, output_tokens: 10, cost_usd: '0.01' },
};

interface Door {
  name: string;
  send: (
    actor: Actor,
    id: number,
    project: string,
  ) => Promise<{ status: number; body: any; headers: Record<string, string> }>;
  expect: (state: State, caller: Caller) => Expected;
}

const DOORS: Door[] = [
  ...ROUTE_MOVES.map((move): Door => ({
    name: `POST /${move}`,
    send: (actor, id) => actor.post(`/api/tasks/${id}/${move}`, BODIES[move]),
    expect: (state, caller) => oracle(move, state, caller, { reason: 'the tests fail' }),
  })),
  ...STATUSES.map((target): Door => ({
    name: `PATCH status=${target}`,
    send: (actor, id) => actor.patch(`/api/tasks/${id}`, { status: target }),
    expect: (state, caller) => patchStatusOracle(state, caller, target),
  })),
  ...(['agent-gpu', 'agent-plain', null] as const).map((holder): Door => ({
    name: `PATCH assigned_to=${String(holder)}`,
    send: (actor, id) => actor.patch(`/api/tasks/${id}`, { assigned_to: holder }),
    expect: (state, caller) =>
      holder === state.holder ? unchanged(state, 200) : oracle('assign', state, caller, { holder }),
  })),
  {
    name: 'POST /claim-next',
    send: (actor, _id, project) => actor.post('/api/tasks/claim-next', { project }),
    expect: claimNextOracle,
  },
];

describe('The move table at every door (e2e oracle, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  const actors = new Map<string, Actor>();
  let dependency: number;
  let seq = 0;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    for (const caller of CALLERS) {
      actors.set(
        caller.id,
        await t.actor({ id: caller.id, role: caller.admin ? 'admin' : 'user' }),
      );
    }
    const admin = actors.get('root') as Actor;
    for (const caller of CALLERS.filter((c) => !c.admin)) {
      await registerWorker(t, admin, {
        id: caller.id,
        name: caller.id,
        type: caller.type,
        capabilities: caller.caps,
      });
    }
    await insertProject(db, 'deps', 'root');
    const dep = await db.query(
      `INSERT INTO tasks (title, status, created_by, project_slug) VALUES ('dependency', 'pending', 'root', 'deps') RETURNING id`,
    );
    dependency = dep.rows[0].id as number;
  });

  afterAll(() => stopApp(t, db));

  /**
   * A project of its own, with every caller but the admin a member: membership is not what the
   * move table tests (project-access.e2e-spec.ts does), so no caller is refused for it.
   */
  const ownProject = async (): Promise<string> => {
    const project = `moves-${++seq}`;
    await insertProject(db, project, 'root', {
      members: CALLERS.filter((c) => !c.admin).map((c) => [c.id, 'member']),
    });
    return project;
  };

  /** The task in `state`, alone in a project of its own (set directly: the arrangement). */
  async function arrange(state: State): Promise<{ id: number; project: string }> {
    const project = await ownProject();
    if (state.policy) {
      await db.query('UPDATE projects SET review_policy = $2 WHERE slug = $1', [
        project,
        state.policy,
      ]);
    }
    const res = await db.query(
      `INSERT INTO tasks (title, status, assigned_to, created_by, project_slug, progress_percent,
                          required_capabilities, lease_expires_at, attempts, not_before)
       VALUES ('subject', $1, $2, 'root', $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        state.status,
        state.holder,
        project,
        INITIAL_PROGRESS,
        [REQUIRED],
        state.expired ? new Date(Date.now() - 60_000) : null,
        state.attempts ?? 0,
        state.backoff ? new Date(Date.now() + 3_600_000) : null,
      ],
    );
    const id = res.rows[0].id as number;
    if (state.unfinishedDependency) {
      await db.query('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)', [
        id,
        dependency,
      ]);
    }
    return { id, project };
  }

  const cases = DOORS.flatMap((door) =>
    STATES.flatMap((state) =>
      CALLERS.map((caller) => [door.name, state.name, caller.kind, door, state, caller] as const),
    ),
  );

  it.each(cases)('%s on a task %s, by %s', async (_d, _s, _c, door, state, caller) => {
    const expected = door.expect(state, caller);
    const { id, project } = await arrange(state);
    const res = await door.send(actors.get(caller.id) as Actor, id, project);

    expect({ http: res.status, code: res.body?.code }).toEqual({
      http: expected.http,
      code: expected.code,
    });
    const [row] = (
      await db.query(
        'SELECT status, assigned_to, progress_percent, attempts FROM tasks WHERE id = $1',
        [id],
      )
    ).rows;
    expect(row).toEqual(expected.row);
    if (expected.code === 'retry_later') {
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(3500);
    }
    const entries = await auditRows(db, id, 'action, actor_id');
    expect(entries).toEqual(expected.actions.map((action) => ({ action, actor_id: caller.id })));
    if (expected.http === 200 && door.name !== 'POST /claim-next' && res.body.id !== undefined) {
      expect(res.body).toMatchObject(expected.row);
    }
  });

  describe('create, with each status', () => {
    it.each(
      STATUSES.flatMap((status) => CALLERS.map((caller) => [status, caller.kind, caller] as const)),
    )('POST /api/tasks {status: %s} by %s', async (status, _kind, caller) => {
      const project = await ownProject();
      const res = await (actors.get(caller.id) as Actor).post('/api/tasks', {
        title: 'new',
        status,
        project_slug: project,
      });
      const created = ['pending', 'blocked'].includes(status);
      expect({ http: res.status, code: res.body.code }).toEqual(
        created ? { http: 201, code: undefined } : { http: 422, code: 'validation_failed' },
      );
      const rows = (
        await db.query('SELECT id, status, assigned_to FROM tasks WHERE project_slug = $1', [
          project,
        ])
      ).rows;
      expect(rows).toEqual(created ? [{ id: res.body.id, status, assigned_to: null }] : []);
      const entries = created
        ? (
            await db.query('SELECT action, actor_id FROM audit_entries WHERE task_id = $1', [
              res.body.id,
            ])
          ).rows
        : [];
      expect(entries).toEqual(created ? [{ action: 'created', actor_id: caller.id }] : []);
    });

    it.each(
      CALLERS.flatMap((caller) => [
        ['agent-gpu', caller.kind, caller] as const,
        ['agent-plain', caller.kind, caller] as const,
      ]),
    )(
      'a pre-assignment to %s at creation (by %s) is an assignment: the holder needs the capabilities',
      async (holder, _kind, caller) => {
        const res = await (actors.get(caller.id) as Actor).post('/api/tasks', {
          title: 'pre-assigned',
          assigned_to: holder,
          required_capabilities: [REQUIRED],
        });
        if (capsOf(holder).includes(REQUIRED)) {
          expect(res.status).toBe(201);
          expect(res.body).toMatchObject({ status: 'pending', assigned_to: holder });
        } else {
          expect({ http: res.status, code: res.body.code }).toEqual({
            http: 403,
            code: 'capability_missing',
          });
        }
      },
    );
  });
});
