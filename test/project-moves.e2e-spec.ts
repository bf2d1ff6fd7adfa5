import { Client } from 'pg';
import {
  auditOf,
  auditRows,
  createProject,
  createTaskId,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * The projects access matrix, continued: moving a task between projects (`PATCH project_slug`)
 * in, out and across, with references (parent, subtasks, dependencies both ways) and holders,
 * and deleting a task others hang hidden tasks on. Beside test/project-access.e2e-spec.ts.
 *
 * The board: `secret` and `vault` are private (owner-1 owns both, member-1 is a member of
 * `secret` only, viewer-1 views `secret`), `open` is internal, `hideout` is private to
 * stranger-1 alone. outsider-1 is in no project.
 */
describe('Moving tasks between projects (real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let owner: Actor;
  let member: Actor;
  let outsider: Actor;
  let stranger: Actor;

  const task = (actor: Actor, fields: Record<string, unknown> = {}) =>
    createTaskId(actor, { title: 'probe', ...fields });
  const move = (actor: Actor, id: number, project: string | null, extra = {}) =>
    actor.patch(`/api/tasks/${id}`, { project_slug: project, ...extra });
  const depend = (actor: Actor, id: number, on: number) =>
    actor.post(`/api/tasks/${id}/dependencies/${on}`).expect(200);
  const row = async (id: number) =>
    (await db.query('SELECT project_slug, parent_id, assigned_to FROM tasks WHERE id = $1', [id]))
      .rows[0];
  /** The answer's status and code, for one `expect`. */
  const outcome = (res: { status: number; body: { code?: string } }) => [res.status, res.body.code];

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    [owner, member, outsider, stranger] = await Promise.all(
      ['owner-1', 'member-1', 'outsider-1', 'stranger-1'].map((id) => t.actor(id)),
    );
    await createProject(owner, 'secret', {
      visibility: 'private',
      members: [
        [member, 'member'],
        ['viewer-1', 'viewer'],
      ],
    });
    await createProject(owner, 'vault', { visibility: 'private' });
    await createProject(owner, 'open', { members: [[member, 'member']] });
    await createProject(stranger, 'hideout', { visibility: 'private' });
  });
  afterAll(() => stopApp(t, db));

  describe('into a private project', () => {
    it('finding 4: refuses while a subtask outside it has the task as parent (409 project_referenced)', async () => {
      const parent = await task(owner);
      const child = await task(outsider, { parent_id: parent });
      const res = await move(owner, parent, 'secret');
      expect(outcome(res)).toEqual([409, 'project_referenced']);
      expect(res.body.error).toContain(`Task ${child}`);
      expect(await row(parent)).toMatchObject({ project_slug: null });
      expect((await outsider.get(`/api/tasks/${child}`).expect(200)).body.parent_id).toBe(parent);
      await outsider.get(`/api/tasks/${parent}`).expect(200);
    });

    it('finding 4: refuses while a task outside it depends on the task, so no start names it', async () => {
      const blocker = await task(owner);
      const waiting = await task(outsider);
      await depend(outsider, waiting, blocker);
      const res = await move(owner, blocker, 'secret');
      expect(outcome(res)).toEqual([409, 'project_referenced']);
      expect(res.body.error).toContain(`Task ${waiting}`);
      expect(await row(blocker)).toMatchObject({ project_slug: null });
      // Were the move allowed, this start would name a task the outsider cannot see.
      const start = await outsider.post(`/api/tasks/${waiting}/start`).expect(409);
      expect(start.body.code).toBe('dependency_unfinished');
      await outsider.get(`/api/tasks/${blocker}`).expect(200);
    });

    it('finding 4: refuses across private projects too (vault → secret, a subtask stays in vault)', async () => {
      const parent = await task(owner, { project_slug: 'vault' });
      await task(owner, { project_slug: 'vault', parent_id: parent });
      const dependent = await task(owner, { project_slug: 'vault' });
      const blocker = await task(owner, { project_slug: 'vault' });
      await depend(owner, dependent, blocker);
      expect(outcome(await move(owner, parent, 'secret'))).toEqual([409, 'project_referenced']);
      expect(outcome(await move(owner, blocker, 'secret'))).toEqual([409, 'project_referenced']);
      expect(await row(parent)).toMatchObject({ project_slug: 'vault' });
      expect(await row(blocker)).toMatchObject({ project_slug: 'vault' });
    });

    it('finding 4: a hidden task that refers to it refuses the move too, and the answer names none', async () => {
      const target = await task(outsider);
      const hidden = await task(stranger, { project_slug: 'hideout', title: 'HIDDEN-REFERRER' });
      await depend(stranger, hidden, target);
      const res = await move(owner, target, 'secret');
      expect(outcome(res)).toEqual([409, 'project_referenced']);
      expect(JSON.stringify(res.body)).not.toContain(String(hidden));
      expect(JSON.stringify(res.body)).not.toContain('HIDDEN-REFERRER');
      expect(JSON.stringify(res.body)).not.toContain('hideout');
    });

    it('moves a whole tree once nothing outside refers to it: subtasks and dependents first', async () => {
      const parent = await task(owner);
      const child = await task(owner, { parent_id: parent });
      const dependent = await task(owner);
      await depend(owner, dependent, parent);
      // Pointing from inside the private project out to the shared board is fine.
      await move(owner, child, 'secret').expect(200);
      await move(owner, dependent, 'secret').expect(200);
      const res = await move(owner, parent, 'secret').expect(200);
      expect(res.body.project_slug).toBe('secret');
      // And the task keeps what it itself depends on, on the shared board.
      const shared = await task(owner);
      const mover = await task(owner);
      await depend(owner, mover, shared);
      await move(owner, mover, 'secret').expect(200);
    });

    it('moves into an internal project whoever outside refers to the task (everyone reads it there)', async () => {
      const target = await task(owner);
      await task(outsider, { parent_id: target });
      const waiting = await task(outsider);
      await depend(outsider, waiting, target);
      await move(owner, target, 'open').expect(200);
    });
  });

  describe('out of a private project', () => {
    it('finding 5: refuses to take a dependency on a private task out of it (409 project_referenced)', async () => {
      const hidden = await task(owner, { project_slug: 'secret', title: 'SECRET-BLOCKER' });
      const leaving = await task(owner, { project_slug: 'secret' });
      await depend(owner, leaving, hidden);
      for (const to of [null, 'open']) {
        const res = await move(owner, leaving, to);
        expect([to, ...outcome(res)]).toEqual([to, 409, 'project_referenced']);
        expect(res.body.error).toContain(`task ${hidden}`);
      }
      expect(await row(leaving)).toMatchObject({ project_slug: 'secret' });
      // Nobody outside the project ever sees the private task's id.
      const seen = await outsider.get(`/api/tasks?limit=100`).expect(200);
      expect(JSON.stringify(seen.body)).not.toContain('SECRET-BLOCKER');
      for (const listed of seen.body as { blocked_by: number[] }[]) {
        expect(listed.blocked_by).not.toContain(hidden);
      }
    });

    it('finding 5: a private parent refuses the move with the same answer as a private dependency', async () => {
      const parent = await task(owner, { project_slug: 'secret' });
      const child = await task(owner, { project_slug: 'secret', parent_id: parent });
      const res = await move(owner, child, null);
      expect(outcome(res)).toEqual([409, 'project_referenced']);
      expect(res.body.error).toContain(`task ${parent}`);
      // A new parent named in the same request is checked as that field: 422 on parent_id.
      const another = await task(owner, { project_slug: 'secret' });
      const named = await move(owner, child, null, { parent_id: another });
      expect(outcome(named)).toEqual([422, 'validation_failed']);
      const elsewhere = await task(owner);
      await move(owner, child, null, { parent_id: elsewhere }).expect(200);
    });

    it('finding 5: refuses across private projects (secret → vault) with a dependency left behind', async () => {
      const hidden = await task(owner, { project_slug: 'secret' });
      const leaving = await task(owner, { project_slug: 'secret' });
      await depend(owner, leaving, hidden);
      expect(outcome(await move(owner, leaving, 'vault'))).toEqual([409, 'project_referenced']);
    });

    it('leaves with references everyone may read, and leaves subtasks and dependents behind', async () => {
      const shared = await task(owner);
      const leaving = await task(owner, { project_slug: 'secret' });
      await depend(owner, leaving, shared);
      await task(owner, { project_slug: 'secret', parent_id: leaving });
      const dependent = await task(owner, { project_slug: 'secret' });
      await depend(owner, dependent, leaving);
      // Tasks of the private project may point out to the shared board.
      await move(owner, leaving, null).expect(200);
    });
  });

  describe('holders', () => {
    it('finding 6: refuses a move into a project the pre-assignee is not a member of (403 not_project_member)', async () => {
      const id = await task(owner, { assigned_to: 'outsider-1' });
      const res = await move(owner, id, 'secret');
      expect(outcome(res)).toEqual([403, 'not_project_member']);
      expect(res.body.error).toContain('outsider-1');
      expect(await row(id)).toMatchObject({ project_slug: null, assigned_to: 'outsider-1' });
      await outsider.get(`/api/tasks/${id}`).expect(200);
    });

    it('finding 6: refuses a move of a task in progress whose holder is not a member there', async () => {
      const id = await task(outsider);
      await outsider.post(`/api/tasks/${id}/start`).expect(200);
      expect(outcome(await move(owner, id, 'secret'))).toEqual([403, 'not_project_member']);
      expect(outcome(await move(admin, id, 'open'))).toEqual([403, 'not_project_member']);
      // A viewer reads but does not work there: no holder either.
      await db.query(`UPDATE tasks SET assigned_to = 'viewer-1' WHERE id = $1`, [id]);
      expect(outcome(await move(owner, id, 'secret'))).toEqual([403, 'not_project_member']);
    });

    it('finding 6: refuses across private projects (secret → vault) when the holder is only in secret', async () => {
      const id = await task(owner, { project_slug: 'secret', assigned_to: 'member-1' });
      expect(outcome(await move(owner, id, 'vault'))).toEqual([403, 'not_project_member']);
      expect(await row(id)).toMatchObject({ project_slug: 'secret' });
    });

    it('moves a task whose holder works in the new project, or hands it to one in the same request', async () => {
      const held = await task(owner, { assigned_to: 'member-1' });
      await move(owner, held, 'secret').expect(200);
      const other = await task(owner, { assigned_to: 'outsider-1' });
      // An admin may hand the task over as it moves: the holder it ends with is the one checked.
      const res = await move(admin, other, 'secret', { assigned_to: 'member-1' }).expect(200);
      expect(res.body).toMatchObject({ project_slug: 'secret', assigned_to: 'member-1' });
      // Off to the shared board, nobody needs to be a member.
      await move(owner, held, null).expect(200);
    });
  });

  describe('concurrent changes cannot slip between the check and the write', () => {
    it('a dependency on the task or a subtask under it, added while it moves into a private project', async () => {
      for (let round = 0; round < 6; round++) {
        const target = await task(owner);
        const waiting = await task(outsider);
        const [moved, linked, child] = await Promise.all([
          move(owner, target, 'secret'),
          outsider.post(`/api/tasks/${waiting}/dependencies/${target}`),
          outsider.post('/api/tasks', { title: 'child', parent_id: target }),
        ]);
        if (moved.status === 200) {
          expect([linked.status, child.status]).toEqual([404, 422]);
        } else {
          expect(outcome(moved)).toEqual([409, 'project_referenced']);
        }
        const leaks = await db.query(
          `SELECT 1 FROM tasks x JOIN projects p ON p.slug = x.project_slug AND p.visibility = 'private'
            WHERE x.id = $1 AND (EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks r ON r.id = d.task_id
                                  WHERE d.depends_on_id = x.id AND r.project_slug IS DISTINCT FROM x.project_slug)
                              OR EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = x.id
                                  AND c.project_slug IS DISTINCT FROM x.project_slug))`,
          [target],
        );
        expect(leaks.rows).toEqual([]);
      }
    });

    it('two linked tasks moving at once never end pointing into a private project', async () => {
      for (let round = 0; round < 6; round++) {
        const blocker = await task(owner);
        const waiting = await task(owner, { project_slug: 'secret' });
        await depend(owner, waiting, blocker);
        await Promise.all([move(owner, blocker, 'secret'), move(owner, waiting, null)]);
        const [b, w] = [await row(blocker), await row(waiting)];
        // Either may win; never the shared task waiting on a private one.
        expect(w.project_slug === null && b.project_slug === 'secret').toBe(false);
      }
    });
  });

  describe('deleting a task hidden tasks hang on', () => {
    it('finding 8: deletes one’s own task that a hidden task depends on; the hidden edge goes with it', async () => {
      const mine = await task(outsider);
      const hidden = await task(stranger, { project_slug: 'hideout' });
      await depend(stranger, hidden, mine);
      expect((await outsider.get(`/api/tasks/${mine}/subtasks`).expect(200)).body).toEqual([]);
      await outsider.delete(`/api/tasks/${mine}`).expect(204);
      expect((await stranger.get(`/api/tasks/${hidden}`).expect(200)).body.blocked_by).toEqual([]);
      // The hidden task's own readers are told; the deleter is not.
      expect((await auditOf(stranger, hidden)).map((e) => [e.action, e.context])).toEqual([
        ['created', expect.anything()],
        ['dependency_added', { depends_on: mine }],
        ['dependency_removed', { depends_on: mine }],
      ]);
      const deleted = await auditRows(db, mine, 'action, actor_id');
      expect(deleted.map((e) => e.action)).toEqual(['created', 'deleted']);
    });

    it('finding 8: deletes one’s own task a hidden subtask hangs under; the subtask loses its parent', async () => {
      const mine = await task(outsider);
      const hidden = await task(stranger, { project_slug: 'hideout', parent_id: mine });
      expect((await outsider.get(`/api/tasks/${mine}/subtasks`).expect(200)).body).toEqual([]);
      await outsider.delete(`/api/tasks/${mine}`).expect(204);
      expect((await stranger.get(`/api/tasks/${hidden}`).expect(200)).body.parent_id).toBeNull();
      const entries = await auditOf(stranger, hidden);
      expect(entries.at(-1)).toMatchObject({
        action: 'updated',
        context: { parent_id: { from: mine, to: null } },
      });
    });

    it('finding 8: refuses for visible subtasks and dependents alone, and then keeps the hidden ones', async () => {
      const mine = await task(outsider);
      const hidden = await task(stranger, { project_slug: 'hideout' });
      await depend(stranger, hidden, mine);
      const seen = await task(outsider);
      await depend(outsider, seen, mine);
      const refused = await outsider.delete(`/api/tasks/${mine}`);
      expect(outcome(refused)).toEqual([409, 'task_has_dependents']);
      // Refused whole: the hidden task still waits for it.
      expect((await stranger.get(`/api/tasks/${hidden}`).expect(200)).body.blocked_by).toEqual([
        mine,
      ]);
      // An admin sees every task, so every one of them counts.
      await outsider.delete(`/api/tasks/${seen}/dependencies/${mine}`).expect(204);
      expect(outcome(await admin.delete(`/api/tasks/${mine}`))).toEqual([
        409,
        'task_has_dependents',
      ]);
      await outsider.delete(`/api/tasks/${mine}`).expect(204);
    });
  });
});
