import { Client } from 'pg';
import { sql } from './support/database';
import { Actor, TestApp } from './support/test-app';

/**
 * Who sees and changes which tasks: every role against a private project, an internal project
 * and the shared board, on every task route, every move, the lists, search, subtasks,
 * dependencies, the audit routes and claim-next. A task the caller may not see is a 404 (never
 * a 403), and nothing a non-member of the private project receives names one of its tasks.
 */
type Role = 'admin' | 'owner' | 'member' | 'viewer' | 'outsider' | 'agent';
type Place = 'private' | 'internal' | 'shared';
const ROLES: Role[] = ['admin', 'owner', 'member', 'viewer', 'outsider', 'agent'];
const PLACES: Place[] = ['private', 'internal', 'shared'];
const SLUG: Record<Place, string | null> = { private: 'secret', internal: 'open', shared: null };

/** What each role may do in each place. */
const reads = (role: Role, place: Place) => place !== 'private' || role !== 'outsider';
const writes = (role: Role, place: Place) =>
  place === 'shared' || ['admin', 'owner', 'member', 'agent'].includes(role);
/** The status a change answers with: 2xx, 403 (sees, may not write) or 404 (does not see). */
const expected = (role: Role, place: Place, ok: number) =>
  writes(role, place) ? ok : reads(role, place) ? 403 : 404;

interface Move {
  /** The task's state before the move; `caller`/`other` set the assignee. */
  status: 'pending' | 'in_progress' | 'review' | 'blocked' | 'completed';
  assignee?: 'caller' | 'other';
  call: (actor: Actor, id: number) => ReturnType<Actor['post']>;
}
const MOVES: Record<string, Move> = {
  start: { status: 'pending', call: (a, id) => a.post(`/api/tasks/${id}/start`) },
  progress: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/progress`, { percent: 40 }),
  },
  heartbeat: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/heartbeat`),
  },
  review: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/review`),
  },
  approve: {
    status: 'review',
    assignee: 'other',
    call: (a, id) => a.post(`/api/tasks/${id}/approve`),
  },
  reject: {
    status: 'review',
    assignee: 'other',
    call: (a, id) => a.post(`/api/tasks/${id}/reject`, { reason: 'not yet' }),
  },
  complete: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/complete`),
  },
  block: {
    status: 'pending',
    call: (a, id) => a.post(`/api/tasks/${id}/block`, { reason: 'waiting' }),
  },
  unblock: { status: 'blocked', call: (a, id) => a.post(`/api/tasks/${id}/unblock`) },
  release: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/release`),
  },
  reopen: {
    status: 'completed',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/reopen`),
  },
  assign: {
    status: 'pending',
    call: (a, id) => a.patch(`/api/tasks/${id}`, { assigned_to: a.id }),
  },
  'PATCH status': {
    status: 'pending',
    call: (a, id) => a.patch(`/api/tasks/${id}`, { status: 'in_progress' }),
  },
  // Not a move, but a change only the holder of a task in progress makes.
  ask: {
    status: 'in_progress',
    assignee: 'caller',
    call: (a, id) => a.post(`/api/tasks/${id}/ask`, { question: 'which one?' }),
  },
};

describe('Project access matrix (real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  const actors = {} as Record<Role, Actor>;
  let serial = 0;
  /** Every id and title of the private project's tasks, to look for in others' answers. */
  const secrets = { ids: new Set<number>(), titles: new Set<string>() };

  const newTask = async (place: Place, fields: Record<string, unknown> = {}): Promise<number> => {
    serial += 1;
    const title = `${place.toUpperCase()}-TASK-${serial}`;
    const res = await actors.owner
      .post('/api/tasks', { title, project_slug: SLUG[place], ...fields })
      .expect(201);
    if (place === 'private') {
      secrets.ids.add(res.body.id);
      secrets.titles.add(title);
    }
    return res.body.id as number;
  };

  /** Every task id a body names: tasks' ids and references, audit entries' task ids. */
  const taskIdsIn = (value: unknown, found: number[] = []): number[] => {
    if (Array.isArray(value)) value.forEach((item) => taskIdsIn(item, found));
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if ('title' in o && typeof o.id === 'number') found.push(o.id);
      for (const key of ['task_id', 'parent_id', 'depends_on']) {
        if (typeof o[key] === 'number') found.push(o[key]);
      }
      if (Array.isArray(o.blocked_by)) found.push(...(o.blocked_by as number[]));
      Object.values(o).forEach((item) => taskIdsIn(item, found));
    }
    return found;
  };

  /** Fails when a body handed to someone outside the private project names one of its tasks. */
  const noLeak = (role: Role, body: unknown) => {
    if (reads(role, 'private')) return;
    const text = JSON.stringify(body ?? null);
    for (const title of secrets.titles) expect(text).not.toContain(title);
    expect(taskIdsIn(body).filter((id) => secrets.ids.has(id))).toEqual([]);
  };

  /** A project of `owner-1`, with the member, the viewer and the agent in their roles. */
  const createMatrixProject = async (
    slug: string,
    name: string,
    visibility: 'private' | 'internal',
  ) => {
    await actors.owner.post('/api/projects', { slug, name, visibility }).expect(201);
    for (const [role, as] of [
      ['member', 'member'],
      ['viewer', 'viewer'],
      ['agent', 'member'],
    ] as const) {
      await actors.owner
        .post(`/api/projects/${slug}/members`, { worker_id: actors[role].id, role: as })
        .expect(201);
    }
  };

  beforeAll(async () => {
    t = await TestApp.start();
    db = await sql(t.databaseUrl);
    actors.admin = await t.actor({ id: 'root', role: 'admin' });
    for (const role of ['owner', 'member', 'viewer', 'outsider', 'agent'] as const) {
      actors[role] = await t.actor(`${role}-1`);
    }
    await actors.admin
      .post('/api/workers', { id: 'agent-1', name: 'Agent', type: 'agent' })
      .expect(201);
    for (const place of ['private', 'internal'] as const) {
      await createMatrixProject(SLUG[place] as string, `The ${place} project`, place);
    }
  });

  afterAll(async () => {
    await db.end();
    await t.close();
  });

  describe.each(PLACES)('a task of the %s place', (place) => {
    it.each(ROLES)(
      '%s: reads it exactly when allowed, and learns nothing otherwise',
      async (role) => {
        const actor = actors[role];
        const since = new Date().toISOString();
        const parent = await newTask(place);
        const child = await newTask(place, { parent_id: parent, tags: ['matrix'] });
        await actors.owner
          .post(`/api/tasks/${parent}/comments`, { body: `${place} comment` })
          .expect(201);
        const ok = reads(role, place) ? 200 : 404;
        for (const url of [
          `/api/tasks/${parent}`,
          `/api/tasks/${parent}/subtasks`,
          `/api/tasks/${parent}/audit`,
          `/api/tasks/${parent}/comments`,
        ]) {
          const res = await actor.get(url);
          expect([url, res.status]).toEqual([url, ok]);
          noLeak(role, res.body);
        }
        const lists = [
          `/api/tasks?limit=100&sort=-id`,
          `/api/tasks?q=${place.toUpperCase()}-TASK&limit=100&sort=-id`,
          `/api/tasks?tag=matrix&limit=100&sort=-id`,
          `/api/audit?limit=100&task_id=${child}`,
          `/api/audit?limit=100&action=created&since=${since}`,
        ];
        for (const url of lists) {
          const res = await actor.get(url).expect(200);
          const ids = (res.body as { id?: number; task_id?: number }[]).map(
            (x) => x.task_id ?? x.id,
          );
          expect([url, ids.includes(child)]).toEqual([url, reads(role, place)]);
          noLeak(role, res.body);
        }
      },
    );

    it.each(ROLES)('%s: creates, edits and deletes there exactly when allowed', async (role) => {
      const actor = actors[role];
      const created = await actor.post('/api/tasks', {
        title: `created by ${role}`,
        project_slug: SLUG[place],
      });
      // Creating in a project one cannot see names a project that, to them, does not exist.
      expect(created.status).toBe(writes(role, place) ? 201 : reads(role, place) ? 403 : 422);
      noLeak(role, created.body);
      const id = await newTask(place);
      const edit = await actor.patch(`/api/tasks/${id}`, { title: `edited by ${role}` });
      expect(edit.status).toBe(expected(role, place, 200));
      noLeak(role, edit.body);
      const other = await newTask(place);
      const dep = await actor.post(`/api/tasks/${id}/dependencies/${other}`);
      expect(dep.status).toBe(expected(role, place, 200));
      noLeak(role, dep.body);
      const gone = await actor.delete(`/api/tasks/${await newTask(place)}`);
      expect(gone.status).toBe(expected(role, place, 204));
      noLeak(role, gone.body);
      const comment = await actor.post(`/api/tasks/${id}/comments`, { body: `by ${role}` });
      expect(comment.status).toBe(expected(role, place, 201));
      noLeak(role, comment.body);
      const log = { kind: 'log', url: `https://ci.example/${role}` };
      const added = await actor.post(`/api/tasks/${id}/artifacts`, log);
      expect(added.status).toBe(expected(role, place, 200));
      noLeak(role, added.body);
      await actors.owner.post(`/api/tasks/${other}/artifacts`, log).expect(200);
      const removed = await actor.delete(
        `/api/tasks/${other}/artifacts?url=${encodeURIComponent(log.url)}`,
      );
      expect(removed.status).toBe(expected(role, place, 200));
      noLeak(role, removed.body);
      for (const res of [added, removed, comment]) {
        if (res.status === 403) expect(res.body.code).toBe('not_project_member');
      }
    });

    it.each(ROLES)(
      '%s: finds in its inbox exactly the questions and reviews it may answer there',
      async (role) => {
        const actor = actors[role];
        // The agent asked one question and asks for review of other work: both wait on others.
        const question = await newTask(place);
        const review = await newTask(place);
        await db.query(
          `UPDATE tasks SET status = 'in_progress', assigned_to = 'agent-1', awaiting_input = true
            WHERE id = $1`,
          [question],
        );
        await db.query(
          `UPDATE tasks SET status = 'review', assigned_to = 'agent-1' WHERE id = $1`,
          [review],
        );
        const res = await actor.get('/api/inbox?limit=100').expect(200);
        noLeak(role, res.body);
        const reasons = new Map(
          (res.body as { task: { id: number }; reason: string }[]).map((i) => [
            i.task.id,
            i.reason,
          ]),
        );
        const asked = role !== 'agent' && writes(role, place);
        expect([reasons.get(question), reasons.get(review)]).toEqual(
          asked
            ? ['awaiting_input', 'review']
            : [
                role === 'agent' ? 'assigned' : undefined,
                role === 'agent' ? 'assigned' : undefined,
              ],
        );
      },
    );

    it.each(ROLES)('%s: makes every move there exactly when allowed', async (role) => {
      const actor = actors[role];
      for (const [name, move] of Object.entries(MOVES)) {
        const id = await newTask(place);
        // The reviewer moves need someone else to hold the task: the owner, or for the owner a member.
        const other = role === 'owner' ? 'member-1' : 'owner-1';
        const assignee =
          move.assignee === 'caller' ? actor.id : move.assignee === 'other' ? other : null;
        await db.query(`UPDATE tasks SET status = $2, assigned_to = $3 WHERE id = $1`, [
          id,
          move.status,
          assignee,
        ]);
        const res = await move.call(actor, id);
        // `assign` also needs the new holder in the project: an admin is not, there.
        const selfAssignByOutsider = name === 'assign' && role === 'admin' && place !== 'shared';
        expect([name, res.status]).toEqual([
          name,
          selfAssignByOutsider ? 403 : expected(role, place, 200),
        ]);
        if (res.status === 403) expect(res.body.code).toBe('not_project_member');
        noLeak(role, res.body);
      }
    });
  });

  it.each(ROLES)('%s: moves a task between places exactly when it writes in both', async (role) => {
    const actor = actors[role];
    for (const from of PLACES) {
      for (const to of PLACES.filter((p) => p !== from)) {
        const id = await newTask(from);
        const res = await actor.patch(`/api/tasks/${id}`, { project_slug: SLUG[to] });
        // The target is a reference in the body: one the caller cannot see is no project (422).
        const want = !writes(role, from)
          ? expected(role, from, 200)
          : !reads(role, to)
            ? 422
            : expected(role, to, 200);
        expect([from, to, res.status]).toEqual([from, to, want]);
        if (res.status === 200 && to === 'private') secrets.ids.add(id);
        if (res.status === 200 && from === 'private') {
          secrets.ids.delete(id);
          secrets.titles.delete(`PRIVATE-TASK-${serial}`);
        }
        noLeak(role, res.body);
      }
    }
  });

  it.each(ROLES)('%s: claim-next offers only tasks of places it writes in', async (role) => {
    const actor = actors[role];
    // Make this the only pending work: the newest tasks, with the highest priority.
    await db.query(`UPDATE tasks SET status = 'completed' WHERE status = 'pending'`);
    const offered: Place[] = [];
    for (const place of PLACES) await newTask(place, { priority: 'critical' });
    for (let i = 0; i < PLACES.length; i++) {
      const res = await actor.post('/api/tasks/claim-next');
      noLeak(role, res.body);
      if (res.status === 204) break;
      expect(res.status).toBe(200);
      const place = PLACES.find((p) => SLUG[p] === res.body.project_slug) as Place;
      offered.push(place);
    }
    expect(offered.sort()).toEqual(PLACES.filter((p) => writes(role, p)).sort());
  });

  describe('a deleted project, and its slug wanted again', () => {
    /**
     * Who keeps a deleted project's history: those who were its members, and admins; for an
     * internal project too, though everyone read its history while it lived.
     */
    const keeps = (role: Role) => role !== 'outsider';
    const slugOf = (visibility: string) => `gone-${visibility}`;
    const deletedTask: Record<string, number> = {};

    beforeAll(async () => {
      for (const visibility of ['private', 'internal'] as const) {
        const slug = slugOf(visibility);
        await createMatrixProject(slug, `Gone ${visibility}`, visibility);
        const task = await actors.owner
          .post('/api/tasks', { title: `GONE-${visibility}`, project_slug: slug })
          .expect(201);
        deletedTask[visibility] = task.body.id as number;
        await actors.owner.delete(`/api/tasks/${task.body.id}`).expect(204);
        await actors.owner.delete(`/api/projects/${slug}`).expect(204);
      }
    });

    describe.each(['private', 'internal'] as const)('a deleted %s project', (visibility) => {
      const slug = slugOf(visibility);

      it.each(ROLES)(
        '%s: reads its history exactly when it was a member (or is an admin)',
        async (role) => {
          const actor = actors[role];
          const history = await actor.get(`/api/audit?project=${slug}&limit=100`).expect(200);
          const trail = await actor.get(`/api/tasks/${deletedTask[visibility]}/audit`);
          if (keeps(role)) {
            expect(history.body.map((e: { action: string }) => e.action)).toEqual(
              expect.arrayContaining(['project_created', 'created', 'deleted', 'project_deleted']),
            );
            expect(trail.status).toBe(200);
          } else {
            expect(history.body).toEqual([]);
            expect(trail.status).toBe(404);
            expect(JSON.stringify(trail.body)).not.toContain(`GONE-${visibility}`);
          }
        },
      );

      it.each(ROLES)('%s: finds no project there, places no task, takes no slug', async (role) => {
        const actor = actors[role];
        await actor.get(`/api/projects/${slug}`).expect(404);
        const list = await actor.get('/api/projects?limit=100').expect(200);
        expect(list.body.map((p: { slug: string }) => p.slug)).not.toContain(slug);
        const task = await actor.post('/api/tasks', { title: 'late', project_slug: slug });
        expect([task.status, task.body.code]).toEqual([422, 'validation_failed']);
        const again = await actor.post('/api/projects', { slug, name: 'Again' });
        expect([again.status, again.body.code]).toEqual([409, 'project_slug_retired']);
      });
    });
  });

  it('assigns only to members of the project, even when an admin asks', async () => {
    const id = await newTask('internal');
    const res = await actors.admin.patch(`/api/tasks/${id}`, { assigned_to: 'outsider-1' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('not_project_member');
    await actors.admin.patch(`/api/tasks/${id}`, { assigned_to: 'member-1' }).expect(200);
  });

  it('keeps private tasks out of references others can read', async () => {
    const hidden = await newTask('private');
    const open = await newTask('internal');
    // A member of both places still cannot make an internal task wait for a private one.
    const dep = await actors.member.post(`/api/tasks/${open}/dependencies/${hidden}`).expect(422);
    expect(dep.body.code).toBe('validation_failed');
    await actors.member
      .post('/api/tasks', { title: 'child', project_slug: 'open', parent_id: hidden })
      .expect(422);
    // The other way round is fine: private tasks may wait for internal ones.
    await actors.member.post(`/api/tasks/${hidden}/dependencies/${open}`).expect(200);
    // And an internal project others point into cannot turn private under them.
    const shared = await newTask('shared');
    await actors.member.post(`/api/tasks/${shared}/dependencies/${open}`).expect(200);
    const turn = await actors.owner.patch('/api/projects/open', { visibility: 'private' });
    expect([turn.status, turn.body.code]).toEqual([409, 'project_referenced']);
    await actors.member.delete(`/api/tasks/${shared}/dependencies/${open}`).expect(204);
    // Tasks of another private project count as outside too.
    const still = await actors.owner.patch('/api/projects/open', { visibility: 'private' });
    expect([still.status, still.body.code]).toEqual([409, 'project_referenced']);
    await actors.member.delete(`/api/tasks/${hidden}/dependencies/${open}`).expect(204);
    await actors.owner.patch('/api/projects/open', { visibility: 'private' }).expect(200);
    await actors.owner.patch('/api/projects/open', { visibility: 'internal' }).expect(200);
  });

  it('refuses to turn a project private under a hidden reference without naming the referrer', async () => {
    // The outsider's own internal project, which a task of the private project waits for.
    await actors.outsider
      .post('/api/projects', { slug: 'outside-open', name: 'Theirs' })
      .expect(201);
    const theirs = await actors.outsider
      .post('/api/tasks', { title: 'their task', project_slug: 'outside-open' })
      .expect(201);
    const hidden = await newTask('private');
    await actors.owner.post(`/api/tasks/${hidden}/dependencies/${theirs.body.id}`).expect(200);
    const turn = await actors.outsider.patch('/api/projects/outside-open', {
      visibility: 'private',
    });
    expect([turn.status, turn.body.code]).toEqual([409, 'project_referenced']);
    expect(turn.body.error).toContain('A task you cannot see');
    expect(turn.body.error).not.toContain(String(hidden));
    noLeak('outsider', turn.body);
    await actors.owner.delete(`/api/tasks/${hidden}/dependencies/${theirs.body.id}`).expect(204);
    await actors.outsider
      .patch('/api/projects/outside-open', { visibility: 'private' })
      .expect(200);
  });
});
