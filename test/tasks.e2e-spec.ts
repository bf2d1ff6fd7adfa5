import { Client } from 'pg';
import { createProject, createTask, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

describe('Tasks (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let alice: Actor;
  let bob: Actor;
  let db: Client;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    // The projects the tasks below name, with the holders they are assigned to as members.
    await createProject(alice, 'website', { members: [[bob, 'member']] });
    await createProject(alice, 'p');
    await createProject(alice, 'list', { members: [[bob, 'member']] });
    await createProject(alice, 'other', { members: [['carol', 'member']] });
    await createProject(alice, 'kids');
  });

  afterAll(() => stopApp(t, db));

  const create = (body: object, actor = alice): Promise<Record<string, any>> =>
    createTask(actor, body);

  describe('POST /api/tasks', () => {
    it('creates a task with the defaults and exactly the contract fields', async () => {
      const res = await alice.post('/api/tasks', { title: 'Write docs' }).expect(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'artifacts',
          'assigned_to',
          'awaiting_input',
          'blocked_by',
          'completed_at',
          'created_at',
          'created_by',
          'description',
          'due_date',
          'id',
          'last_handoff',
          'lease_expires_at',
          'parent_id',
          'priority',
          'progress_percent',
          'project_slug',
          'required_capabilities',
          'started_at',
          'status',
          'tags',
          'title',
          'updated_at',
          'version',
          'attempts',
          'max_attempts',
          'timeout_seconds',
          'not_before',
          'last_error',
          'timeout_at',
          'usage',
          'budget_tokens',
          'budget_usd',
        ].sort(),
      );
      expect(res.body).toMatchObject({
        title: 'Write docs',
        description: null,
        status: 'pending',
        priority: 'medium',
        progress_percent: 0,
        assigned_to: null,
        project_slug: null,
        parent_id: null,
        due_date: null,
        created_by: 'alice',
        tags: [],
        started_at: null,
        completed_at: null,
        awaiting_input: false,
        artifacts: [],
        last_handoff: null,
        attempts: 0,
        max_attempts: 3,
        timeout_seconds: null,
        not_before: null,
        last_error: null,
        timeout_at: null,
        usage: { input_tokens: 0, output_tokens: 0, cost_usd: '0', by_model: {} },
        budget_tokens: null,
        budget_usd: null,
      });
      expect(res.body.id).toEqual(expect.any(Number));
      expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('normalises "" and 0 to null and stores due dates in UTC', async () => {
      const task = await create({
        title: 'Normalise',
        assigned_to: '',
        project_slug: '',
        description: '',
        parent_id: 0,
        due_date: '2026-12-01T10:00:00+02:00',
      });
      expect(task).toMatchObject({
        assigned_to: null,
        project_slug: null,
        description: null,
        parent_id: null,
        due_date: '2026-12-01T08:00:00.000Z',
      });
      const row = await db.query('SELECT due_date FROM tasks WHERE id = $1', [task.id]);
      expect((row.rows[0].due_date as Date).toISOString()).toBe('2026-12-01T08:00:00.000Z');
    });

    it('reads a due date without an offset as UTC, and a date alone as midnight UTC', async () => {
      expect((await create({ title: 'a', due_date: '2026-12-01T10:00:00' })).due_date).toBe(
        '2026-12-01T10:00:00.000Z',
      );
      expect((await create({ title: 'b', due_date: '2026-12-01' })).due_date).toBe(
        '2026-12-01T00:00:00.000Z',
      );
    });

    it('accepts every writable field', async () => {
      const parent = await create({ title: 'Parent' });
      const task = await create({
        title: 'Full',
        description: 'All the fields',
        status: 'blocked',
        priority: 'critical',
        progress_percent: 40,
        assigned_to: 'bob',
        project_slug: 'website',
        parent_id: parent.id,
        due_date: '2027-01-01T00:00:00Z',
      });
      expect(task).toMatchObject({
        status: 'blocked',
        priority: 'critical',
        progress_percent: 40,
        assigned_to: 'bob',
        project_slug: 'website',
        parent_id: parent.id,
      });
    });

    it('accepts the boundaries: title of 200 characters (emoji count as one), progress 0 and 100', async () => {
      const title = '😀'.repeat(200);
      expect((await create({ title })).title).toBe(title);
      await create({ title: 'p0', progress_percent: 0 });
      await create({ title: 'p100', progress_percent: 100 });
      await create({ title: 'd', description: 'x'.repeat(10_000) });
    });

    const invalid: [string, object, string][] = [
      ['a missing title', {}, 'title'],
      ['an empty title', { title: '' }, 'title'],
      ['a blank title', { title: '   ' }, 'title'],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
      ['a title with NUL', { title: 'a\u0000b' }, 'title'],
      ['a numeric title', { title: 42 }, 'title'],
      ['a null title', { title: null }, 'title'],
      [
        'a description over 10 000 characters',
        { title: 't', description: 'x'.repeat(10_001) },
        'description',
      ],
      ['an unknown status', { title: 't', status: 'done' }, 'status'],
      ['a null status', { title: 't', status: null }, 'status'],
      ['an unknown priority', { title: 't', priority: 'urgent' }, 'priority'],
      ['progress below 0', { title: 't', progress_percent: -1 }, 'progress_percent'],
      ['progress above 100', { title: 't', progress_percent: 101 }, 'progress_percent'],
      ['fractional progress', { title: 't', progress_percent: 5.5 }, 'progress_percent'],
      ['progress as a string', { title: 't', progress_percent: '50' }, 'progress_percent'],
      [
        'assigned_to over 255 characters',
        { title: 't', assigned_to: 'x'.repeat(256) },
        'assigned_to',
      ],
      [
        'project_slug over 100 characters',
        { title: 't', project_slug: 'x'.repeat(101) },
        'project_slug',
      ],
      ['a negative parent_id', { title: 't', parent_id: -3 }, 'parent_id'],
      ['a parent_id beyond int32', { title: 't', parent_id: 2 ** 31 }, 'parent_id'],
      ['a parent_id as a string', { title: 't', parent_id: '1' }, 'parent_id'],
      ['a due date that is not a date', { title: 't', due_date: 'tomorrow' }, 'due_date'],
      ['a due date that does not exist', { title: 't', due_date: '2026-02-30' }, 'due_date'],
      ['a due date in a non-ISO format', { title: 't', due_date: '12/01/2026' }, 'due_date'],
      ['a server-owned id', { title: 't', id: 5 }, 'id'],
      ['a server-owned created_by', { title: 't', created_by: 'mallory' }, 'created_by'],
      [
        'a server-owned created_at',
        { title: 't', created_at: '2020-01-01T00:00:00Z' },
        'created_at',
      ],
      [
        'a server-owned updated_at',
        { title: 't', updated_at: '2020-01-01T00:00:00Z' },
        'updated_at',
      ],
      ['an unknown field', { title: 't', colour: 'red' }, 'colour'],
    ];

    it.each(invalid)('rejects %s with 422 naming the field', async (_case, body, field) => {
      const res = await alice.post('/api/tasks', body).expect(422);
      expect(res.body).toMatchObject({
        status_code: 422,
        error: expect.stringContaining('Validation failed'),
      });
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
    });

    it('rejects a body that is not an object with 422', async () => {
      for (const body of ['[1,2]', '"text"', '42', 'null']) {
        const res = await alice.postText('/api/tasks', body).expect(422);
        expect(res.body.details).toEqual([
          { field: 'body', message: 'body must be a JSON object' },
        ]);
      }
    });

    it('rejects a parent that does not exist with 422', async () => {
      const res = await alice
        .post('/api/tasks', { title: 'Orphan', parent_id: 999_999 })
        .expect(422);
      expect(res.body.details).toEqual([
        { field: 'parent_id', message: 'parent_id 999999: no such task' },
      ]);
    });

    it('answers malformed JSON with 400', async () => {
      const res = await alice.postText('/api/tasks', '{"title": ').expect(400);
      expect(res.body).toEqual({
        error: expect.stringContaining('Malformed JSON'),
        status_code: 400,
        code: 'malformed_json',
      });
    });

    it('answers a JSON body that tries prototype pollution with 400', async () => {
      await alice.postText('/api/tasks', '{"title":"x","__proto__":{"admin":true}}').expect(400);
    });

    // Found by the fuzzer: class-transformer skips keys that name Object.prototype members, so
    // the whitelist never saw them and these bodies were a 201.
    it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf'])(
      'refuses the key %s like any unknown field (422)',
      async (key) => {
        const res = await alice.post('/api/tasks', { title: 'x', [key]: 1 }).expect(422);
        expect(res.body.details).toEqual([{ field: key, message: `${key} is not a known field` }]);
      },
    );

    // Found by the fuzzer: a few thousand levels of nesting overflowed the stack (a 500).
    it.each([
      ['arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`],
      ['objects', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
    ])('refuses a body with thousands of nested %s with 422', async (_kind, nested) => {
      const res = await alice.postText('/api/tasks', `{"title":${nested}}`).expect(422);
      expect(res.body).toEqual({
        error: 'Validation failed: body is nested more than 32 levels deep',
        status_code: 422,
        code: 'validation_failed',
        details: [{ field: 'body', message: 'body is nested more than 32 levels deep' }],
      });
    });

    // Found by the fuzzer: 1 MB of unknown keys took seconds of CPU and an 8 MB list to refuse.
    it('refuses a body with thousands of fields with one short 422', async () => {
      const keys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1]));
      const res = await alice.post('/api/tasks', { title: 'x', ...keys }).expect(422);
      expect(res.body.details).toEqual([
        { field: 'body', message: 'body has more than 1000 fields and items in all' },
      ]);
    });

    it('answers a body in another content type with 415', async () => {
      const text = await alice.postText('/api/tasks', 'title=x', 'text/plain').expect(415);
      expect(text.body).toEqual({
        error: 'Content-Type must be application/json',
        status_code: 415,
        code: 'unsupported_media_type',
      });
      await alice
        .postText('/api/tasks', 'title=x', 'application/x-www-form-urlencoded')
        .expect(415);
    });

    it('answers a body over 1 MB with 413, and accepts one just under', async () => {
      const big = JSON.stringify({ title: 'big', description: 'x'.repeat(1024 * 1024) });
      const res = await alice.postText('/api/tasks', big).expect(413);
      expect(res.body).toEqual({
        error: 'Request body is larger than the 1 MB limit',
        status_code: 413,
        code: 'payload_too_large',
      });
      // Just under the limit, the body is parsed and validated (the description is too long: 422).
      const under = JSON.stringify({ title: 'big', description: 'x'.repeat(1024 * 1024 - 100) });
      await alice.postText('/api/tasks', under).expect(422);
    });
  });

  describe('GET /api/tasks/:id', () => {
    it('returns the task', async () => {
      const task = await create({ title: 'Find me' });
      const res = await alice.get(`/api/tasks/${task.id}`).expect(200);
      expect(res.body).toEqual({ ...task, blocked_by: [] });
    });

    it('answers a missing task with 404', async () => {
      const res = await alice.get('/api/tasks/987654').expect(404);
      expect(res.body).toEqual({
        error: 'Task 987654 not found',
        status_code: 404,
        code: 'task_not_found',
      });
    });

    it.each(['abc', '-1', '0', '1e9', '1.5', '2147483648', '99999999999999999999'])(
      'answers the path id %s with 422',
      async (id) => {
        const res = await alice.get(`/api/tasks/${id}`).expect(422);
        expect(res.body.details).toEqual([
          { field: 'id', message: 'id must be a positive integer' },
        ]);
      },
    );

    // Found by the fuzzer: Fastify's router answered these itself, 400 with its own body.
    it.each(['%zz', '%', '%E0%A4%A', '%C0%AE'])(
      'answers the path %s (not UTF-8 once decoded) with the 422 envelope',
      async (id) => {
        const res = await alice.get(`/api/tasks/${id}`).expect(422);
        expect(res.body).toEqual({
          error: 'Validation failed: the path is not valid percent-encoded UTF-8',
          status_code: 422,
          code: 'validation_failed',
          details: [{ field: 'path', message: 'the path is not valid percent-encoded UTF-8' }],
        });
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
      },
    );
  });

  describe('PATCH /api/tasks/:id', () => {
    it('changes only the fields sent', async () => {
      const task = await create({ title: 'Before', priority: 'low', project_slug: 'p' });
      const res = await alice.patch(`/api/tasks/${task.id}`, { title: 'After' }).expect(200);
      expect(res.body).toMatchObject({ title: 'After', priority: 'low', project_slug: 'p' });
      expect(new Date(res.body.updated_at).getTime()).toBeGreaterThanOrEqual(
        new Date(task.updated_at).getTime(),
      );
    });

    it('clears nullable fields with null or "" and rejects null for required ones', async () => {
      const task = await create({ title: 'Clear', assigned_to: 'alice', description: 'd' });
      const res = await alice
        .patch(`/api/tasks/${task.id}`, { assigned_to: '', description: null })
        .expect(200);
      expect(res.body).toMatchObject({ assigned_to: null, description: null });
      for (const field of ['title', 'status', 'priority', 'progress_percent']) {
        const bad = await alice.patch(`/api/tasks/${task.id}`, { [field]: null }).expect(422);
        expect(bad.body.details[0].field).toBe(field);
      }
    });

    it('treats an empty body as no change', async () => {
      const task = await create({ title: 'Same' });
      const res = await alice.patch(`/api/tasks/${task.id}`, {}).expect(200);
      expect(res.body).toEqual(task);
    });

    it('moves status only by the move that reaches it, else 409 naming the current status', async () => {
      const task = await create({ title: 'Flow' });
      await alice.patch(`/api/tasks/${task.id}`, { status: 'in_progress' }).expect(200);
      await alice.patch(`/api/tasks/${task.id}`, { status: 'review' }).expect(200);
      // Approving is someone else's move.
      const own = await alice.patch(`/api/tasks/${task.id}`, { status: 'completed' }).expect(403);
      expect(own.body.code).toBe('reviewer_is_assignee');
      await bob.patch(`/api/tasks/${task.id}`, { status: 'completed' }).expect(200);
      const res = await alice.patch(`/api/tasks/${task.id}`, { status: 'pending' }).expect(409);
      expect(res.body).toEqual({
        error: expect.stringContaining(
          `Task ${task.id} is 'completed' and cannot move to 'pending'`,
        ),
        status_code: 409,
        code: 'invalid_transition',
      });
      const unchanged = await alice.get(`/api/tasks/${task.id}`).expect(200);
      expect(unchanged.body.status).toBe('completed');
    });

    it('rejects server-owned and unknown fields', async () => {
      const task = await create({ title: 'Owned' });
      await alice.patch(`/api/tasks/${task.id}`, { created_by: 'mallory' }).expect(422);
      await alice.patch(`/api/tasks/${task.id}`, { id: 1 }).expect(422);
      await alice.patch(`/api/tasks/${task.id}`, { nope: 1 }).expect(422);
    });

    it('answers a missing task with 404 and a bad id with 422', async () => {
      await alice.patch('/api/tasks/987654', { title: 'x' }).expect(404);
      await alice.patch('/api/tasks/abc', { title: 'x' }).expect(422);
    });

    it('refuses a parent that is the task itself or one of its descendants', async () => {
      const a = await create({ title: 'A' });
      const b = await create({ title: 'B', parent_id: a.id });
      const c = await create({ title: 'C', parent_id: b.id });

      const self = await alice.patch(`/api/tasks/${a.id}`, { parent_id: a.id }).expect(422);
      expect(self.body.details[0]).toEqual({
        field: 'parent_id',
        message: 'parent_id cannot be the task itself',
      });
      const cycle = await alice.patch(`/api/tasks/${a.id}`, { parent_id: c.id }).expect(422);
      expect(cycle.body.details[0].message).toContain('cycle');
      await alice.patch(`/api/tasks/${a.id}`, { parent_id: 999_999 }).expect(422);

      // Moving within the tree the legal way still works, and 0 detaches.
      await alice.patch(`/api/tasks/${c.id}`, { parent_id: a.id }).expect(200);
      const detached = await alice.patch(`/api/tasks/${c.id}`, { parent_id: 0 }).expect(200);
      expect(detached.body.parent_id).toBeNull();
    });

    it('never lets two concurrent moves build a cycle', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await create({ title: `ra${round}` });
        const b = await create({ title: `rb${round}` });
        const results = await Promise.all([
          alice.patch(`/api/tasks/${a.id}`, { parent_id: b.id }),
          alice.patch(`/api/tasks/${b.id}`, { parent_id: a.id }),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 422]);
      }
    });
  });

  describe('DELETE /api/tasks/:id', () => {
    it('deletes a task (204), after which it is 404', async () => {
      const task = await create({ title: 'Delete me' });
      const res = await alice.delete(`/api/tasks/${task.id}`).expect(204);
      expect(res.text).toBe('');
      await alice.get(`/api/tasks/${task.id}`).expect(404);
      await alice.delete(`/api/tasks/${task.id}`).expect(404);
    });

    it('answers 409 while the task has subtasks', async () => {
      const parent = await create({ title: 'Parent' });
      const child = await create({ title: 'Child', parent_id: parent.id });
      const res = await alice.delete(`/api/tasks/${parent.id}`).expect(409);
      expect(res.body.error).toContain('has subtasks');
      await alice.delete(`/api/tasks/${child.id}`).expect(204);
      await alice.delete(`/api/tasks/${parent.id}`).expect(204);
    });
  });

  describe('GET /api/tasks/:id/subtasks', () => {
    it('lists direct subtasks by id with X-Total-Count, 404 for a missing task', async () => {
      const parent = await create({ title: 'Root' });
      const kids = [];
      for (let i = 0; i < 3; i++)
        kids.push(await create({ title: `Kid ${i}`, parent_id: parent.id }));
      await create({ title: 'Grandkid', parent_id: kids[0].id });
      const res = await alice.get(`/api/tasks/${parent.id}/subtasks`).expect(200);
      expect(res.body.map((k: { id: number }) => k.id)).toEqual(kids.map((k) => k.id));
      expect(res.headers['x-total-count']).toBe('3');
      const page = await alice.get(`/api/tasks/${parent.id}/subtasks?limit=1&offset=1`).expect(200);
      expect(page.body.map((k: { id: number }) => k.id)).toEqual([kids[1].id]);
      await alice.get('/api/tasks/987654/subtasks').expect(404);
    });
  });

  describe('GET /api/tasks (filters, sort, pagination)', () => {
    let ids: Record<string, number>;

    beforeAll(async () => {
      await db.query('DELETE FROM tasks WHERE parent_id IS NOT NULL');
      await db.query('DELETE FROM tasks');
      // Created through the API, then put in their status directly: the arrangement, not the
      // subject (create takes pending or blocked only; the moves have their own tests).
      const make = async (key: string, { status, ...body }: Record<string, unknown>) => {
        const { id } = await create(body);
        if (status) await db.query('UPDATE tasks SET status = $1 WHERE id = $2', [status, id]);
        return [key, id as number] as const;
      };
      const entries = [
        await make('a', {
          title: 'Alpha launch plan',
          project_slug: 'list',
          priority: 'low',
          status: 'pending',
          due_date: '2027-03-01T00:00:00Z',
        }),
        await make('b', {
          title: 'Beta',
          description: 'has 100% coverage',
          project_slug: 'list',
          priority: 'critical',
          status: 'in_progress',
          assigned_to: 'bob',
        }),
        await make('c', {
          title: 'Gamma',
          project_slug: 'other',
          priority: 'high',
          status: 'in_progress',
          assigned_to: 'carol',
          due_date: '2027-01-01T00:00:00Z',
        }),
        await make('d', {
          title: 'Delta LAUNCH',
          project_slug: 'list',
          priority: 'medium',
          status: 'review',
        }),
      ];
      ids = Object.fromEntries(entries);
      await create({ title: 'Epsilon child', parent_id: ids.a, project_slug: 'kids' }).then((e) => {
        ids.e = e.id as number;
      });
    });

    const list = async (query: string) => {
      const res = await alice.get(`/api/tasks${query}`).expect(200);
      return {
        ids: res.body.map((t: { id: number }) => t.id) as number[],
        total: Number(res.headers['x-total-count']),
      };
    };

    it('orders by id ascending by default and reports the total', async () => {
      const res = await list('');
      expect(res.ids).toEqual([ids.a, ids.b, ids.c, ids.d, ids.e]);
      expect(res.total).toBe(5);
    });

    it.each([
      ['?status=in_progress', ['b', 'c']],
      ['?priority=critical', ['b']],
      ['?assigned_to=carol', ['c']],
      ['?project=list', ['a', 'b', 'd']],
      ['?project=list&status=in_progress', ['b']],
      ['?parent_id=PARENT', ['e']],
      ['?q=launch', ['a', 'd']],
      ['?q=100%25', ['b']],
      ['?q=_', []],
      ['?q=nothing-matches', []],
    ])('filters %s', async (query, expected) => {
      const res = await list(query.replace('PARENT', String(ids.a)));
      expect(res.ids).toEqual(expected.map((k) => ids[k]));
      expect(res.total).toBe(expected.length);
    });

    it.each([
      ['id', ['a', 'b', 'c', 'd', 'e']],
      ['-id', ['e', 'd', 'c', 'b', 'a']],
      ['priority', ['a', 'd', 'e', 'c', 'b']],
      ['-priority', ['b', 'c', 'e', 'd', 'a']],
      ['due_date', ['c', 'a', 'b', 'd', 'e']],
      ['-due_date', ['a', 'c', 'e', 'd', 'b']],
      ['created_at', ['a', 'b', 'c', 'd', 'e']],
      ['-created_at', ['e', 'd', 'c', 'b', 'a']],
    ])('sorts by %s (ties by id in the same direction, undated last)', async (sort, expected) => {
      const res = await list(`?sort=${sort}`);
      expect(res.ids).toEqual(expected.map((k) => ids[k]));
    });

    it('sorts by updated_at, newest first with -updated_at', async () => {
      await alice.patch(`/api/tasks/${ids.c}`, { title: 'Gamma (edited)' }).expect(200);
      const res = await list('?sort=-updated_at&limit=1');
      expect(res.ids).toEqual([ids.c]);
      const asc = await list('?sort=updated_at');
      expect(asc.ids[asc.ids.length - 1]).toBe(ids.c);
    });

    it('pages with limit and offset, keeping X-Total-Count of the whole result', async () => {
      expect(await list('?limit=2')).toEqual({ ids: [ids.a, ids.b], total: 5 });
      expect(await list('?limit=2&offset=2')).toEqual({ ids: [ids.c, ids.d], total: 5 });
      expect(await list('?limit=2&offset=4')).toEqual({ ids: [ids.e], total: 5 });
      expect(await list('?offset=5')).toEqual({ ids: [], total: 5 });
      expect((await list('?limit=1')).ids).toHaveLength(1);
      expect((await list('?limit=100')).ids).toHaveLength(5);
    });

    it('defaults to 50 per page', async () => {
      await db.query(
        `INSERT INTO tasks (title, created_by) SELECT 'bulk ' || g, 'alice' FROM generate_series(1, 60) g`,
      );
      const res = await list('');
      expect(res.ids).toHaveLength(50);
      expect(res.total).toBe(65);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1e2', 'limit'],
      ['limit=5&limit=6', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=1.5', 'offset'],
      ['status=done', 'status'],
      ['priority=urgent', 'priority'],
      ['sort=title', 'sort'],
      ['sort=--id', 'sort'],
      ['parent_id=0', 'parent_id'],
      ['parent_id=x', 'parent_id'],
      ['q=', 'q'],
      ['unknown=1', 'unknown'],
      // Found by the fuzzer: names of Object.prototype members slipped past the whitelist.
      ['constructor=1', 'constructor'],
      ['toString=1', 'toString'],
      ['__proto__=1', '__proto__'],
    ])('answers ?%s with 422 naming %s', async (query, field) => {
      const res = await alice.get(`/api/tasks?${query}`).expect(422);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('errors the contract promises everywhere', () => {
    it('answers an unknown route with the 404 envelope', async () => {
      const res = await alice.get('/api/nothing-here').expect(404);
      expect(res.body).toEqual({
        error: 'No route GET /api/nothing-here',
        status_code: 404,
        code: 'route_not_found',
      });
      await alice.delete('/api/tasks').expect(404);
    });

    it('hides internals in a 500 and names the request id', async () => {
      await db.query(`
        CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'secret internal detail in table tasks'; END $$;
        CREATE TRIGGER explode BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION explode();`);
      try {
        const res = await alice.post('/api/tasks', { title: 'Boom' }).expect(500);
        expect(res.body).toEqual({
          error: 'Internal server error',
          status_code: 500,
          code: 'internal_error',
        });
        expect(JSON.stringify(res.body)).not.toMatch(/secret|tasks|stack/);
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
      } finally {
        await db.query('DROP TRIGGER explode ON tasks; DROP FUNCTION explode();');
      }
    });
  });
});
