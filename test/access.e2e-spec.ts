import { Client } from 'pg';
import request from 'supertest';
import { signInAdmin, startApp, stopApp } from './support/board';
import { listRoutes } from './support/routes';
import { openRawStream } from './support/events';
import { TestApp } from './support/test-app';

type Role = 'none' | 'user' | 'assignee' | 'other' | 'admin' | 'agent';
type Outcome = 401 | 403 | 'ok';
const ROLES: Role[] = ['none', 'user', 'assignee', 'other', 'admin', 'agent'];

/** What a route needs to exist before it is called, and what is sent. */
interface Row {
  /** The task's status before the call (a fresh task, assigned to `assignee`). */
  status?: 'pending' | 'in_progress' | 'review' | 'completed' | 'blocked' | 'failed';
  query?: string;
  body?: (unique: string) => object;
  /** The task already waits for the `:other_id` task (to remove the dependency). */
  dependency?: boolean;
  /** The task has an artifact at `FIXTURE_URL` (to remove it). */
  artifact?: boolean;
  /** An event stream: never ends, so only its status is read before the connection is cut. */
  stream?: boolean;
  outcomes: Record<Role, Outcome>;
}

const open = (): Record<Role, Outcome> => ({
  none: 'ok',
  user: 'ok',
  assignee: 'ok',
  other: 'ok',
  admin: 'ok',
  agent: 'ok',
});
const signedIn = (): Record<Role, Outcome> => ({ ...open(), none: 401 });
const assigneeOrAdmin = (): Record<Role, Outcome> => ({
  none: 401,
  user: 403,
  assignee: 'ok',
  other: 403,
  admin: 'ok',
  agent: 403,
});
/** Asking a person: the assignee only, admins included (it is the holder's question). */
const assigneeOnly = (): Record<Role, Outcome> => ({ ...assigneeOrAdmin(), admin: 403 });
const FIXTURE_URL = 'https://ci.example/fixture';
/** Review moves: anyone but the assignee, or an admin. */
const reviewer = (): Record<Role, Outcome> => ({ ...signedIn(), assignee: 403 });
const adminOnly = (): Record<Role, Outcome> => ({
  none: 401,
  user: 403,
  assignee: 403,
  other: 403,
  admin: 'ok',
  agent: 403,
});

/**
 * Who may call what, as docs/lifecycle.md and the README say: reading is open to every
 * authenticated user; every move on a task someone holds is theirs or an admin's (start too, on
 * a task pre-assigned to someone), except approve and reject, which are anyone's but the
 * assignee's; workers are
 * changed by admins (and a user may register only itself, as a human: the row tries to register
 * an agent, which only an admin may). Every route must have a row: a new route without one fails.
 */
const TABLE: Record<string, Row> = {
  'GET /health': { outcomes: open() },
  'GET /api/health/db': { outcomes: open() },
  'GET /api/me': { outcomes: signedIn() },
  'GET /api/events': { stream: true, outcomes: signedIn() },
  'GET /api/tasks': { outcomes: signedIn() },
  'POST /api/tasks': { body: (u) => ({ title: `access ${u}` }), outcomes: signedIn() },
  'GET /api/tasks/:id': { outcomes: signedIn() },
  'PATCH /api/tasks/:id': { body: (u) => ({ title: `renamed ${u}` }), outcomes: signedIn() },
  'DELETE /api/tasks/:id': { outcomes: signedIn() },
  'GET /api/tasks/:id/subtasks': { outcomes: signedIn() },
  'GET /api/tasks/:id/audit': { outcomes: signedIn() },
  'POST /api/tasks/:id/start': { status: 'pending', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/progress': {
    status: 'in_progress',
    query: '?percent=30',
    outcomes: assigneeOrAdmin(),
  },
  'POST /api/tasks/:id/review': { status: 'in_progress', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/complete': { status: 'in_progress', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/approve': { status: 'review', outcomes: reviewer() },
  'POST /api/tasks/:id/reject': {
    status: 'review',
    body: () => ({ reason: 'not yet' }),
    outcomes: reviewer(),
  },
  'POST /api/tasks/:id/reopen': { status: 'completed', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/block': { status: 'in_progress', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/unblock': { status: 'blocked', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/release': { status: 'in_progress', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/heartbeat': { status: 'in_progress', outcomes: assigneeOrAdmin() },
  'POST /api/tasks/:id/fail': {
    status: 'in_progress',
    body: () => ({ reason: 'it broke' }),
    outcomes: assigneeOrAdmin(),
  },
  'POST /api/tasks/:id/usage': {
    status: 'in_progress',
    body: () => ({ model: 'm', input_tokens: 1, output_tokens: 1 }),
    outcomes: assigneeOrAdmin(),
  },
  // Anyone who may write the task (it is on the shared board here) gives it new attempts.
  'POST /api/tasks/:id/retry': { status: 'failed', outcomes: signedIn() },
  'POST /api/tasks/claim-next': { outcomes: signedIn() },
  'POST /api/tasks/:id/dependencies/:other_id': { outcomes: signedIn() },
  'DELETE /api/tasks/:id/dependencies/:other_id': { dependency: true, outcomes: signedIn() },
  'GET /api/tasks/:id/comments': { outcomes: signedIn() },
  'POST /api/tasks/:id/comments': { body: (u) => ({ body: `comment ${u}` }), outcomes: signedIn() },
  'POST /api/tasks/:id/ask': {
    status: 'in_progress',
    body: () => ({ question: 'which one?' }),
    outcomes: assigneeOnly(),
  },
  'POST /api/tasks/:id/artifacts': {
    body: (u) => ({ kind: 'url', url: `https://ci.example/${u}` }),
    outcomes: signedIn(),
  },
  'DELETE /api/tasks/:id/artifacts': {
    artifact: true,
    query: `?url=${encodeURIComponent(FIXTURE_URL)}`,
    outcomes: signedIn(),
  },
  'GET /api/inbox': { outcomes: signedIn() },
  'GET /api/analytics/summary': { outcomes: signedIn() },
  'GET /api/audit': { outcomes: signedIn() },
  'GET /api/audit/verify': { outcomes: adminOnly() },
  'GET /api/audit/heads': { outcomes: adminOnly() },
  'POST /api/workers': {
    body: (u) => ({ id: `new-agent-${u}`, name: 'New agent', type: 'agent' }),
    outcomes: adminOnly(),
  },
  'GET /api/workers': { outcomes: signedIn() },
  'GET /api/workers/:id': { outcomes: signedIn() },
  'PATCH /api/workers/:id': { body: () => ({ name: 'Renamed' }), outcomes: adminOnly() },
  'DELETE /api/workers/:id': { outcomes: adminOnly() },
  // A fresh worker that none of the other callers is: only an admin manages its keys.
  'POST /api/workers/:id/keys': { body: () => ({ name: 'fixture key' }), outcomes: adminOnly() },
  'GET /api/workers/:id/keys': { outcomes: adminOnly() },
  'DELETE /api/workers/:id/keys/:key_id': { outcomes: adminOnly() },
  // A fresh internal project whose owner is the assignee (see freshProject).
  'POST /api/projects': {
    body: (u) => ({ slug: `new-project-${u}`, name: 'New' }),
    outcomes: signedIn(),
  },
  'GET /api/projects': { outcomes: signedIn() },
  'GET /api/projects/:slug': { outcomes: signedIn() },
  'PATCH /api/projects/:slug': {
    body: (u) => ({ name: `Renamed ${u}` }),
    outcomes: assigneeOrAdmin(),
  },
  'DELETE /api/projects/:slug': { outcomes: assigneeOrAdmin() },
  'GET /api/projects/:slug/members': { outcomes: signedIn() },
  'POST /api/projects/:slug/members': {
    body: (u) => ({ worker_id: `new-member-${u}`, role: 'member' }),
    outcomes: assigneeOrAdmin(),
  },
  'DELETE /api/projects/:slug/members/:worker_id': { outcomes: assigneeOrAdmin() },
  // A fresh paused webhook (see freshWebhook); the app allows its loopback URL.
  'POST /api/webhooks': {
    body: () => ({ url: 'http://127.0.0.1:9/hook', status: 'paused' }),
    outcomes: adminOnly(),
  },
  'GET /api/webhooks': { outcomes: adminOnly() },
  'GET /api/webhooks/:id': { outcomes: adminOnly() },
  'PATCH /api/webhooks/:id': { body: () => ({ events: ['created'] }), outcomes: adminOnly() },
  'DELETE /api/webhooks/:id': { outcomes: adminOnly() },
  'POST /api/webhooks/:id/resume': { outcomes: adminOnly() },
  'GET /api/webhooks/:id/deliveries': { outcomes: adminOnly() },
};

describe('Access: every route, every kind of caller (e2e)', () => {
  let t: TestApp;
  let db: Client;
  const tokens = {} as Record<Exclude<Role, 'none'>, string>;
  let unique = 0;
  /** Set on the first stream row: streams are read over a real socket, not supertest. */
  let baseUrl: string | undefined;

  beforeAll(async () => {
    ({ t, db } = await startApp({
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '0' },
    }));
    tokens.admin = (await signInAdmin(t, 'the-admin')).token;
    tokens.user = (await t.actor('plain-user')).token;
    tokens.assignee = (await t.actor('the-assignee')).token;
    tokens.other = (await t.actor('another-user')).token;
    tokens.agent = (await t.actor('an-agent')).token;
    await db.query(
      `INSERT INTO workers (id, name, type) VALUES ('the-assignee', 'Assignee', 'human'),
         ('another-user', 'Other', 'human'), ('an-agent', 'Agent', 'agent')`,
    );
  });

  afterAll(() => stopApp(t, db));

  it('has a row for every route, and no row for a route that does not exist', () => {
    const routes = listRoutes(t.app).map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(TABLE).sort()).toEqual([...routes].sort());
  });

  /** A fresh task assigned to the assignee, in `status`, with its history (created through the API). */
  const freshTask = async (status: Row['status'] = 'pending'): Promise<number> => {
    const res = await request(t.server)
      .post('/api/tasks')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .send({ title: `fixture ${unique++}` })
      .expect(201);
    const id = res.body.id as number;
    await db.query(`UPDATE tasks SET status = $2, assigned_to = 'the-assignee' WHERE id = $1`, [
      id,
      status,
    ]);
    return id;
  };

  const freshWorker = async (): Promise<string> => {
    const id = `fixture-worker-${unique++}`;
    await db.query(`INSERT INTO workers (id, name, type) VALUES ($1, 'Fixture', 'human')`, [id]);
    return id;
  };

  /** A key of `worker`, arranged in SQL (its secret is never needed here). */
  const freshKey = async (worker: string): Promise<string> => {
    const { rows } = await db.query(
      `INSERT INTO api_keys (id, worker_id, name, prefix, secret_hash, scopes, expires_at)
       VALUES (gen_random_uuid(), $1::varchar, 'fixture', 'fixture0', md5($1::text) || md5($1::text), '{read,write}',
               now() + interval '1 day')
       RETURNING id`,
      [worker],
    );
    return rows[0].id as string;
  };

  /** A fresh internal project owned by the assignee, with one plain member; returns both. */
  const freshProject = async (): Promise<{ slug: string; member: string }> => {
    const slug = `fixture-project-${unique++}`;
    const member = `fixture-member-${unique++}`;
    await db.query(
      `INSERT INTO projects (slug, name, owner) VALUES ($1, 'Fixture', 'the-assignee')`,
      [slug],
    );
    await db.query(
      `INSERT INTO project_members (project_slug, worker_id, role)
       VALUES ($1, 'the-assignee', 'owner'), ($1, $2, 'member')`,
      [slug, member],
    );
    return { slug, member };
  };

  const freshWebhook = async (): Promise<string> => {
    const { rows } = await db.query(
      `INSERT INTO webhooks (id, url, secret, status, cursor, created_by)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/hook', 'fixture-secret-0123', 'paused', 0, 'the-admin')
       RETURNING id`,
    );
    return rows[0].id as string;
  };

  const cases = Object.entries(TABLE).flatMap(([route, row]) =>
    ROLES.map((role) => [route, role, row.outcomes[role]] as const),
  );

  it.each(cases)('%s as %s: %s', async (route, role, expected) => {
    const row = TABLE[route];
    const [method, pattern] = route.split(' ');
    let path = pattern;
    if (pattern.startsWith('/api/tasks/:id')) {
      const id = await freshTask(row.status);
      path = pattern.replace(':id', String(id));
      if (row.artifact) {
        await db.query(`UPDATE tasks SET artifacts = $2::jsonb WHERE id = $1`, [
          id,
          JSON.stringify([
            {
              kind: 'log',
              url: FIXTURE_URL,
              title: null,
              added_by: 'x',
              added_at: '2026-01-01T00:00:00.000Z',
            },
          ]),
        ]);
      }
      if (pattern.includes(':other_id')) {
        const other = await freshTask();
        path = path.replace(':other_id', String(other));
        if (row.dependency) {
          await db.query('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)', [
            id,
            other,
          ]);
        }
      }
    }
    if (pattern.startsWith('/api/workers/:id')) {
      const worker = await freshWorker();
      path = pattern.replace(':id', worker);
      if (pattern.includes(':key_id')) path = path.replace(':key_id', await freshKey(worker));
    }
    if (pattern.startsWith('/api/projects/:slug')) {
      const { slug, member } = await freshProject();
      path = pattern.replace(':slug', slug).replace(':worker_id', member);
    }
    if (pattern.startsWith('/api/webhooks/:id'))
      path = pattern.replace(':id', await freshWebhook());
    let res: { status: number; body: { status_code?: number } };
    if (row.stream) {
      const { response, abort } = await openRawStream(
        (baseUrl ??= await t.listen()),
        role === 'none' ? undefined : tokens[role],
        `${path}${row.query ?? ''}`,
      );
      const ok = response.status >= 200 && response.status < 300;
      res = {
        status: response.status,
        body: ok ? {} : ((await response.json()) as { status_code?: number }),
      };
      abort.abort();
    } else {
      let call = request(t.server)[method.toLowerCase() as 'get'](`${path}${row.query ?? ''}`);
      if (role !== 'none') call = call.set('Authorization', `Bearer ${tokens[role]}`);
      if (row.body) call = call.send(row.body(String(unique++)));
      res = await call;
    }

    const outcome = res.status >= 200 && res.status < 300 ? 'ok' : res.status;
    // The whole answer in the failure message: which route, who, what came back.
    expect({ route, role, outcome, error: outcome === expected ? undefined : res.body }).toEqual({
      route,
      role,
      outcome: expected,
      error: undefined,
    });
    if (expected !== 'ok') expect(res.body.status_code).toBe(expected);
  });
});
