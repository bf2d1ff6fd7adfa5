import { signInAdmin } from './support/board';
import { Actor, TestApp } from './support/test-app';

describe('Workers (e2e)', () => {
  let t: TestApp;
  let admin: Actor;
  let alice: Actor;
  let bob: Actor;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await signInAdmin(t);
    alice = await t.actor('alice');
    bob = await t.actor('bob');
  });

  afterAll(() => t.close());

  describe('POST /api/workers', () => {
    it('lets a user register itself as a human, the id defaulting to its sub', async () => {
      const res = await alice.post('/api/workers', { name: 'Alice' }).expect(201);
      expect(res.body).toEqual({
        id: 'alice',
        name: 'Alice',
        type: 'human',
        capabilities: [],
        created_at: expect.stringMatching(/Z$/),
      });
    });

    it('refuses a user registering someone else, or itself as an agent (403)', async () => {
      const other = await bob.post('/api/workers', { id: 'carol', name: 'Carol' }).expect(403);
      expect(other.body).toEqual({
        error: 'Only admins may register another worker',
        status_code: 403,
        code: 'admin_required',
      });
      const agent = await bob.post('/api/workers', { name: 'Bob', type: 'agent' }).expect(403);
      expect(agent.body.error).toBe('Only admins may register agents');
      await admin.get('/api/workers/bob').expect(404);
    });

    it('lets an admin register anyone, including agents, with capabilities', async () => {
      const res = await admin
        .post('/api/workers', {
          id: 'agent-1',
          name: 'Triage bot',
          type: 'agent',
          capabilities: ['python', 'triage'],
        })
        .expect(201);
      expect(res.body).toMatchObject({
        id: 'agent-1',
        type: 'agent',
        capabilities: ['python', 'triage'],
      });
      await admin.post('/api/workers', { id: 'dave', name: 'Dave' }).expect(201);
    });

    it.each([
      ['a newline', 'bot\nadmin'],
      ['an ESC', 'bot\u001b[31m'],
      ['a right-to-left override', 'bot\u202etxt.exe'],
      ['a right-to-left mark', 'bot\u200f'],
    ])(
      'refuses an id with %s, in the body and in the path (422), as tokens do',
      async (_what, id) => {
        const res = await admin.post('/api/workers', { id, name: 'Sneaky' }).expect(422);
        expect(res.body.details).toEqual([
          { field: 'id', message: expect.stringMatching(/bidirectional/) },
        ]);
        await admin.get(`/api/workers/${encodeURIComponent(id)}`).expect(422);
      },
    );

    it("refuses system:sweeper, the API's own identity, with 422", async () => {
      const res = await admin
        .post('/api/workers', { id: 'system:sweeper', name: 'Sweeper', type: 'agent' })
        .expect(422);
      expect(res.body.details).toEqual([
        { field: 'id', message: "id system:sweeper is reserved for the API's own sweeper" },
      ]);
      await admin.get('/api/workers/system:sweeper').expect(404);
    });

    it('answers a duplicate id with 409', async () => {
      await admin.post('/api/workers', { id: 'dup', name: 'First' }).expect(201);
      const res = await admin.post('/api/workers', { id: 'dup', name: 'Second' }).expect(409);
      expect(res.body).toEqual({
        error: 'Worker dup is already registered',
        status_code: 409,
        code: 'worker_exists',
      });
    });

    it.each([
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'n', type: 'robot' }, 'type'],
      [{ name: 'n', type: null }, 'type'],
      [{ name: 'n', capabilities: 'python' }, 'capabilities'],
      [{ name: 'n', capabilities: [1] }, 'capabilities'],
      [{ name: 'n', capabilities: [''] }, 'capabilities'],
      [{ name: 'n', capabilities: Array.from({ length: 51 }, (_, i) => `c${i}`) }, 'capabilities'],
      [{ name: 'n', id: 'x'.repeat(256) }, 'id'],
      // Found by the fuzzer: these were registered, then unreachable at /api/workers/{id} (422).
      [{ name: 'n', id: 'tab\there' }, 'id'],
      [{ name: 'n', id: 'bell\u0007' }, 'id'],
      [{ name: 'n', created_at: '2020-01-01T00:00:00Z' }, 'created_at'],
      [{ name: 'n', colour: 'red' }, 'colour'],
    ])('rejects %j with 422 naming %s', async (body, field) => {
      const res = await admin.post('/api/workers', body).expect(422);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('GET /api/workers', () => {
    it('lists by id, filters by type, and reports X-Total-Count', async () => {
      const all = await bob.get('/api/workers').expect(200);
      const ids = all.body.map((w: { id: string }) => w.id);
      expect(ids).toEqual([...ids].sort());
      expect(Number(all.headers['x-total-count'])).toBe(ids.length);

      const agents = await bob.get('/api/workers?type=agent').expect(200);
      expect(agents.body.map((w: { id: string }) => w.id)).toEqual(['agent-1']);
      expect(agents.headers['x-total-count']).toBe('1');
      await bob.get('/api/workers?type=robot').expect(422);
      await bob.get('/api/workers?limit=0').expect(422);
    });

    it('gets one worker, 404 when missing, 422 for an impossible id', async () => {
      const res = await bob.get('/api/workers/agent-1').expect(200);
      expect(res.body.name).toBe('Triage bot');
      await bob.get('/api/workers/nobody').expect(404);
      await bob.get(`/api/workers/${'x'.repeat(256)}`).expect(422);
    });

    // Found by the fuzzer: the router refused parameters over 500 UTF-16 units with its own 414.
    it('reaches a worker whose id is 255 emoji, and answers a longer path id with 422', async () => {
      const id = '😀'.repeat(255);
      await admin.post('/api/workers', { id, name: 'Emoji' }).expect(201);
      const res = await bob.get(`/api/workers/${encodeURIComponent(id)}`).expect(200);
      expect(res.body.id).toBe(id);
      const tooLong = await bob.get(`/api/workers/${encodeURIComponent('😀'.repeat(300))}`);
      expect(tooLong.status).toBe(422);
      expect(tooLong.body.status_code).toBe(422);
    });
  });

  describe('PATCH and DELETE /api/workers/:id (admins only)', () => {
    it('lets an admin change name, type and capabilities', async () => {
      const res = await admin
        .patch('/api/workers/dave', { type: 'agent', capabilities: ['go'] })
        .expect(200);
      expect(res.body).toMatchObject({
        id: 'dave',
        name: 'Dave',
        type: 'agent',
        capabilities: ['go'],
      });
    });

    it('refuses everyone else with 403, before revealing whether the worker exists', async () => {
      const res = await alice.patch('/api/workers/dave', { name: 'Hacked' }).expect(403);
      expect(res.body).toEqual({
        error: 'Only admins may do this',
        status_code: 403,
        code: 'admin_required',
      });
      await alice.patch('/api/workers/nobody', { name: 'x' }).expect(403);
      await alice.delete('/api/workers/dave').expect(403);
      await alice.patch('/api/workers/alice', { type: 'agent' }).expect(403);
    });

    it('validates the body and refuses to change the id', async () => {
      await admin.patch('/api/workers/dave', { id: 'other' }).expect(422);
      await admin.patch('/api/workers/dave', { name: null }).expect(422);
      await admin.patch('/api/workers/dave', { type: 'robot' }).expect(422);
    });

    it('answers 404 for a missing worker', async () => {
      await admin.patch('/api/workers/nobody', { name: 'x' }).expect(404);
      await admin.delete('/api/workers/nobody').expect(404);
    });

    it('deletes a worker (204)', async () => {
      await admin.post('/api/workers', { id: 'temp', name: 'Temp' }).expect(201);
      await admin.delete('/api/workers/temp').expect(204);
      await admin.get('/api/workers/temp').expect(404);
    });
  });

  describe('GET /api/me', () => {
    it('reports the worker type from the registry', async () => {
      const agent = await t.actor('agent-1');
      expect((await agent.get('/api/me').expect(200)).body.worker_type).toBe('agent');
      expect((await alice.get('/api/me').expect(200)).body.worker_type).toBe('human');
      const stranger = await t.actor('never-registered');
      expect((await stranger.get('/api/me').expect(200)).body.worker_type).toBe('human');
    });
  });
});
