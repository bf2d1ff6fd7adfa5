import { Client } from 'pg';
import { createTask, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

/** ETag, If-Match and If-None-Match on tasks, end to end on the real database. */
describe('Conditional requests on tasks (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let alice: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    alice = await t.actor('alice');
  });

  afterAll(() => stopApp(t, db));

  const create = (body: object = { title: 'Versioned' }) => createTask(alice, body);
  const etagOf = async (id: number): Promise<string> =>
    (await alice.get(`/api/tasks/${id}`).expect(200)).headers.etag;
  const row = async (id: number) =>
    (await db.query('SELECT * FROM tasks WHERE id = $1', [id])).rows[0] as Record<string, unknown>;
  const auditCount = async (id: number): Promise<number> =>
    Number(
      (await db.query('SELECT count(*) FROM audit_entries WHERE task_id = $1', [id])).rows[0].count,
    );

  it('sends a strong ETag "<id>-<version>" with every answer that is a task', async () => {
    const created = await alice.post('/api/tasks', { title: 'E' }).expect(201);
    expect(created.body.version).toBe(1);
    expect(created.headers.etag).toBe(`"${created.body.id}-1"`);
    const read = await alice.get(`/api/tasks/${created.body.id}`).expect(200);
    expect(read.headers.etag).toBe(`"${created.body.id}-1"`);
    expect(read.body).toMatchObject({ version: 1, blocked_by: [] });
  });

  it('changes the ETag on every kind of write', async () => {
    const { id } = await create();
    const other = await create({ title: 'Dependency' });
    const seen = [await etagOf(id)];
    const writes: [string, () => Promise<unknown>][] = [
      ['PATCH', () => alice.patch(`/api/tasks/${id}`, { title: 'Renamed' }).expect(200)],
      [
        'dependency added',
        () => alice.post(`/api/tasks/${id}/dependencies/${other.id}`).expect(200),
      ],
      [
        'dependency removed',
        () => alice.delete(`/api/tasks/${id}/dependencies/${other.id}`).expect(204),
      ],
      ['start', () => alice.post(`/api/tasks/${id}/start`, { lease_seconds: 60 }).expect(200)],
      ['heartbeat', () => alice.post(`/api/tasks/${id}/heartbeat`).expect(200)],
      ['progress', () => alice.post(`/api/tasks/${id}/progress`, { percent: 40 }).expect(200)],
      ['block', () => alice.post(`/api/tasks/${id}/block`, { reason: 'x' }).expect(200)],
      ['unblock', () => alice.post(`/api/tasks/${id}/unblock`).expect(200)],
      ['release', () => alice.post(`/api/tasks/${id}/release`).expect(200)],
      ['claim-next', () => alice.post('/api/tasks/claim-next', { project: 'none' }).expect(204)],
      ['start again', () => alice.post(`/api/tasks/${id}/start`).expect(200)],
      ['review', () => alice.post(`/api/tasks/${id}/review`).expect(200)],
      ['block in review', () => alice.post(`/api/tasks/${id}/block`).expect(200)],
      ['unblock again', () => alice.post(`/api/tasks/${id}/unblock`).expect(200)],
      ['complete', () => alice.post(`/api/tasks/${id}/complete`).expect(200)],
    ];
    for (const [name, write] of writes) {
      await write();
      const etag = await etagOf(id);
      // claim-next matched nothing here (another project): that one must leave the tag alone.
      if (name === 'claim-next') expect(etag).toBe(seen[seen.length - 1]);
      else expect({ name, fresh: !seen.includes(etag) }).toEqual({ name, fresh: true });
      seen.push(etag);
    }
  });

  it('answers a write that carries the current ETag, and returns the next one', async () => {
    const { id } = await create();
    const res = await alice
      .patch(`/api/tasks/${id}`, { priority: 'high' })
      .set('If-Match', `"${id}-1"`)
      .expect(200);
    expect(res.headers.etag).toBe(`"${id}-2"`);
    const started = await alice
      .post(`/api/tasks/${id}/start`)
      .set('If-Match', res.headers.etag)
      .expect(200);
    expect(started.headers.etag).toBe(`"${id}-3"`);
  });

  describe('412 on a stale If-Match, with nothing changed', () => {
    const stale = async () => {
      const { id } = await create();
      await alice.patch(`/api/tasks/${id}`, { title: 'Changed by someone else' }).expect(200);
      return { id, staleTag: `"${id}-1"`, before: await row(id), audits: await auditCount(id) };
    };

    it.each([
      ['PATCH', (id: number) => alice.patch(`/api/tasks/${id}`, { title: 'Mine' })],
      ['DELETE', (id: number) => alice.delete(`/api/tasks/${id}`)],
      ['POST start', (id: number) => alice.post(`/api/tasks/${id}/start`)],
      ['POST block', (id: number) => alice.post(`/api/tasks/${id}/block`, { reason: 'r' })],
      // complete is refused from pending anyway: the precondition is answered first.
      ['POST complete', (id: number) => alice.post(`/api/tasks/${id}/complete`)],
    ])('%s', async (_name, send) => {
      const { id, staleTag, before, audits } = await stale();
      const res = await send(id).set('If-Match', staleTag).expect(412);
      expect(res.body).toEqual({
        error: expect.stringContaining(`"${id}-2"`),
        status_code: 412,
        code: 'precondition_failed',
      });
      expect(await row(id)).toEqual(before);
      expect(await auditCount(id)).toBe(audits);
    });

    it('takes a list of tags and `*`, and never matches a weak tag', async () => {
      const { id } = await create();
      await alice
        .patch(`/api/tasks/${id}`, { title: 'a' })
        .set('If-Match', `"${id}-9", "${id}-1"`)
        .expect(200);
      await alice.patch(`/api/tasks/${id}`, { title: 'b' }).set('If-Match', '*').expect(200);
      await alice
        .patch(`/api/tasks/${id}`, { title: 'c' })
        .set('If-Match', `W/"${id}-3"`)
        .expect(412);
    });

    it('refuses the loser of two writes racing with the same If-Match', async () => {
      const { id } = await create();
      const statuses = await Promise.all(
        ['One', 'Two', 'Three', 'Four'].map(
          async (title) =>
            (await alice.patch(`/api/tasks/${id}`, { title }).set('If-Match', `"${id}-1"`)).status,
        ),
      );
      expect(statuses.sort()).toEqual([200, 412, 412, 412]);
      expect((await row(id)).version).toBe(2);
      expect(await auditCount(id)).toBe(2); // created, and the one update that won
    });

    it('is answered in the database too: a write armed with an old version fails', async () => {
      const { id } = await create();
      await db.query('BEGIN');
      try {
        await db.query(`SELECT set_config('taskflow.if_match', $1, true)`, [`${id}-7`]);
        await expect(
          db.query(`UPDATE tasks SET title = 'x' WHERE id = $1`, [id]),
        ).rejects.toMatchObject({
          code: 'TF412',
        });
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });

  describe('If-None-Match on GET /api/tasks/{id}', () => {
    it('answers 304 with no body while the task is unchanged, 200 once it changed', async () => {
      const { id } = await create();
      const etag = await etagOf(id);
      const unchanged = await alice.get(`/api/tasks/${id}`).set('If-None-Match', etag).expect(304);
      expect(unchanged.text ?? '').toBe('');
      expect(unchanged.headers.etag).toBe(etag);
      await alice.get(`/api/tasks/${id}`).set('If-None-Match', `W/${etag}`).expect(304);

      await alice.post(`/api/tasks/${id}/start`).expect(200);
      const changed = await alice.get(`/api/tasks/${id}`).set('If-None-Match', etag).expect(200);
      expect(changed.body.status).toBe('in_progress');
      expect(changed.headers.etag).not.toBe(etag);
    });
  });
});
