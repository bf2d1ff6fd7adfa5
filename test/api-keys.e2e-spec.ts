import type { Client } from 'pg';
import {
  auditRows,
  createKey,
  createProject,
  createTaskId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { Actor, TestApp } from './support/test-app';
import { eventually } from './support/webhook-receiver';

/** Every text column of every row of `table`, as one string per row, that contains `needle`. */
async function rowsContaining(db: Client, table: string, needle: string): Promise<string[]> {
  const { rows } = await db.query<{ row: string }>(
    `SELECT row_to_json(x)::text AS row FROM ${table} x WHERE row_to_json(x)::text LIKE '%' || $1 || '%'`,
    [needle],
  );
  return rows.map((r) => r.row);
}

describe('API keys: agents as accounts of their own (real PostgreSQL, real HTTP)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let agent: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-k', name: 'Keyed agent', type: 'agent' });
  });
  afterAll(() => stopApp(t, db));

  it('an agent works with a key alone; the log says agent and names the key; the key is shown once', async () => {
    const { key: created, actor: keyed } = await createKey(t, admin, 'agent-k', {
      name: 'ci runner',
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      worker_id: 'agent-k',
      name: 'ci runner',
      key: expect.stringMatching(/^tf_[A-Za-z0-9_-]{43}$/),
      prefix: (created.key as string).slice(3, 11),
      scopes: ['read', 'write'],
      projects: null,
      expires_at: expect.any(String),
      created_at: expect.any(String),
      last_used_at: null,
    });
    const days = (Date.parse(created.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    const me = await keyed.get('/api/me').expect(200);
    expect(me.body).toMatchObject({ id: 'agent-k', is_admin: false, worker_type: 'agent' });

    const id = await createTaskId(keyed, { title: 'Work done with a key' });
    await keyed.post(`/api/tasks/${id}/start`).expect(200);
    await keyed.post(`/api/tasks/${id}/progress`, { percent: 50, note: 'half' }).expect(200);
    const done = await keyed.post(`/api/tasks/${id}/complete`).expect(200);
    expect(done.body.status).toBe('completed');

    const rows = await auditRows(db, id, 'action, actor_id, actor_type, key_id');
    expect(rows).toEqual(
      ['created', 'started', 'progressed', 'completed'].map((action) => ({
        action,
        actor_id: 'agent-k',
        actor_type: 'agent',
        key_id: created.id,
      })),
    );
    const trail = await keyed.get(`/api/tasks/${id}/audit`).expect(200);
    expect(trail.body.map((e: { key_id: string }) => e.key_id)).toEqual(Array(4).fill(created.id));
    // The key's creation is on the worker's chain, made with a login token (no key_id).
    const made = await db.query(
      `SELECT actor_id, key_id, context FROM audit_entries WHERE action = 'key_created'
        AND context ->> 'key_id' = $1`,
      [created.id],
    );
    expect(made.rows).toEqual([
      {
        actor_id: 'root',
        key_id: null,
        context: {
          worker_id: 'agent-k',
          key_id: created.id,
          name: 'ci runner',
          prefix: created.prefix,
          scopes: ['read', 'write'],
          projects: null,
          expires_at: new Date(created.expires_at).toISOString(),
        },
      },
    ]);

    const listed = await admin.get('/api/workers/agent-k/keys').expect(200);
    const mine = listed.body.find((k: { id: string }) => k.id === created.id);
    expect(mine).toEqual({ ...created, key: undefined, last_used_at: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect(JSON.stringify(trail.body)).not.toContain(created.key);

    const verify = await admin.get('/api/audit/verify').expect(200);
    expect(verify.body.first_broken).toBeNull();
  });

  it('an Idempotency-Key replay of the creation answers without the key', async () => {
    const first = await admin
      .post('/api/workers/agent-k/keys', { name: 'replayed' })
      .set('Idempotency-Key', 'key-once')
      .expect(201);
    const replay = await admin
      .post('/api/workers/agent-k/keys', { name: 'replayed' })
      .set('Idempotency-Key', 'key-once')
      .expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...first.body, key: undefined });
    expect(first.body.key).toMatch(/^tf_/);
  });

  it('the secret is in no table: keys hold its hash, audit entries and idempotency keys neither', async () => {
    const { key, actor } = await createKey(t, admin, 'agent-k', { name: 'grepped' });
    await createTaskId(actor, { title: 'leaves traces' });
    await admin
      .post('/api/workers/agent-k/keys', { name: 'grepped too' })
      .set('Idempotency-Key', 'grep-me')
      .expect(201);
    const secret = key.key as string;
    for (const table of ['api_keys', 'audit_entries', 'idempotency_keys']) {
      expect(await rowsContaining(db, table, secret)).toEqual([]);
      expect(await rowsContaining(db, table, secret.slice(3))).toEqual([]);
    }
    const stored = await db.query(`SELECT secret_hash FROM api_keys WHERE id = $1`, [key.id]);
    expect(stored.rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
    const hashes = await db.query(
      `SELECT count(*)::int AS n FROM audit_entries WHERE context::text LIKE '%' || $1 || '%'`,
      [stored.rows[0].secret_hash],
    );
    expect(hashes.rows[0].n).toBe(0);
  });

  describe('who manages keys', () => {
    it('a worker manages its own keys; not another worker’s (403); an unknown worker is 404', async () => {
      const ada = await registerWorker(t, admin, { id: 'ada', name: 'Ada' });
      const { key } = await createKey(t, ada, 'ada', { name: 'my scripts' });
      expect((await ada.get('/api/workers/ada/keys').expect(200)).body).toHaveLength(1);
      const other = await ada.post('/api/workers/agent-k/keys', { name: 'x' }).expect(403);
      expect(other.body.code).toBe('admin_required');
      await ada.get('/api/workers/agent-k/keys').expect(403);
      const missing = await admin.post('/api/workers/ghost/keys', { name: 'x' }).expect(404);
      expect(missing.body.code).toBe('worker_not_found');
      await admin.get('/api/workers/ghost/keys').expect(404);
      await ada.delete(`/api/workers/ada/keys/${key.id}`).expect(204);
      expect((await ada.get('/api/workers/ada/keys').expect(200)).body).toEqual([]);
      const again = await ada.delete(`/api/workers/ada/keys/${key.id}`).expect(404);
      expect(again.body.code).toBe('api_key_not_found');
    });

    it('a key never creates a key, nor carries admin rights', async () => {
      const { actor } = await createKey(t, admin, 'agent-k');
      const refused = await actor.post('/api/workers/agent-k/keys', { name: 'child' }).expect(403);
      expect(refused.body.code).toBe('forbidden');
      await admin.post('/api/workers', { name: 'Root' }).expect(201);
      const { actor: adminKey } = await createKey(t, admin, 'root', { name: 'root script' });
      const patch = await adminKey.patch('/api/workers/agent-k', { name: 'renamed' }).expect(403);
      expect(patch.body.code).toBe('admin_required');
    });

    it.each([
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'k', scopes: [] }, 'scopes'],
      [{ name: 'k', scopes: ['admin'] }, 'scopes'],
      [{ name: 'k', projects: [] }, 'projects'],
      [{ name: 'k', projects: ['Not A Slug'] }, 'projects'],
      [{ name: 'k', expires_at: new Date(Date.now() - 60_000).toISOString() }, 'expires_at'],
      [
        { name: 'k', expires_at: new Date(Date.now() + 367 * 86_400_000).toISOString() },
        'expires_at',
      ],
    ])('refuses %j (422 on %s)', async (body, field) => {
      const res = await admin.post('/api/workers/agent-k/keys', body).expect(422);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('refusals', () => {
    it('a key id that is not a UUID is a 422 on key_id, not a database error', async () => {
      const res = await admin.delete('/api/workers/agent-k/keys/not-a-uuid').expect(422);
      expect(res.body.details).toEqual([{ field: 'key_id', message: 'key_id must be a UUID' }]);
    });

    it("a key of a worker registered as system:sweeper before the id was reserved is a 401: no one acts as the API's sweeper", async () => {
      await db.query(
        `INSERT INTO workers (id, name, type) VALUES ('system:sweeper', 'Registered earlier', 'human')`,
      );
      const { actor } = await createKey(t, admin, 'system:sweeper');
      const res = await actor.get('/api/me').expect(401);
      expect(res.body).toEqual({
        error: "API key's worker system:sweeper is reserved for the API's own sweeper",
        status_code: 401,
        code: 'unauthenticated',
      });
    });

    it('a read-only key reads, and is refused every write with 403 insufficient_scope', async () => {
      const { actor } = await createKey(t, admin, 'agent-k', { scopes: ['read'] });
      const id = await createTaskId(agent, { title: 'read me' });
      await actor.get(`/api/tasks/${id}`).expect(200);
      for (const res of [
        await actor.post('/api/tasks', { title: 'no' }),
        await actor.patch(`/api/tasks/${id}`, { title: 'no' }),
        await actor.delete(`/api/tasks/${id}`),
        await actor.post(`/api/tasks/${id}/start`),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('insufficient_scope');
      }
    });

    it('a key limited to a project sees nothing elsewhere, the shared board included, and claims nothing else', async () => {
      await createProject(admin, 'alpha', { members: [['agent-k', 'member']] });
      await createProject(admin, 'beta', { members: [['agent-k', 'member']] });
      const { actor } = await createKey(t, admin, 'agent-k', { projects: ['alpha'] });
      const inAlpha = await createTaskId(agent, { title: 'alpha work', project_slug: 'alpha' });
      const inBeta = await createTaskId(agent, { title: 'beta work', project_slug: 'beta' });
      const shared = await createTaskId(agent, { title: 'shared work' });

      await actor.get(`/api/tasks/${inAlpha}`).expect(200);
      for (const id of [inBeta, shared]) {
        expect((await actor.get(`/api/tasks/${id}`).expect(404)).body.code).toBe('task_not_found');
        await actor.post(`/api/tasks/${id}/start`).expect(404);
        await actor.get(`/api/tasks/${id}/audit`).expect(404);
      }
      const listed = await actor.get('/api/tasks?limit=100').expect(200);
      expect(
        new Set(listed.body.map((task: { project_slug: string }) => task.project_slug)),
      ).toEqual(new Set(['alpha']));
      await actor.get('/api/projects/beta').expect(404);
      const onBoard = await actor.post('/api/tasks', { title: 'no' }).expect(403);
      expect(onBoard.body.code).toBe('not_project_member');
      await actor.post('/api/tasks', { title: 'no', project_slug: 'beta' }).expect(422);

      // claim-next offers alpha's task and then nothing, though beta and the board have work.
      const first = await actor.post('/api/tasks/claim-next').expect(200);
      expect(first.body.id).toBe(inAlpha);
      await actor.post('/api/tasks/claim-next').expect(204);
      // The same worker with its login token still sees everything.
      await agent.get(`/api/tasks/${inBeta}`).expect(200);
      await agent.get(`/api/tasks/${shared}`).expect(200);
    });

    const expectRefused = async (actor: Actor, message: RegExp) => {
      const res = await actor.get('/api/me').expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(res.body.code).toBe('unauthenticated');
      expect(res.body.error).toMatch(message);
      expect(JSON.stringify(res.body) + res.headers['www-authenticate']).not.toContain(
        actor.token.slice(3),
      );
    };

    it('an expired key, a revoked key and an unknown key are 401s that never echo the key', async () => {
      const expired = await createKey(t, admin, 'agent-k', { name: 'expires' });
      await db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        expired.key.id,
      ]);
      // Not seen by this replica before: checked against the table now.
      await expectRefused(expired.actor, /^API key expired$/);

      const revoked = await createKey(t, admin, 'agent-k', { name: 'revoked' });
      await revoked.actor.get('/api/me').expect(200);
      await admin.delete(`/api/workers/agent-k/keys/${revoked.key.id}`).expect(204);
      await expectRefused(revoked.actor, /^API key revoked$/);
      const entry = await db.query(
        `SELECT context ->> 'worker_id' AS worker_id, key_id FROM audit_entries
          WHERE action = 'key_revoked' AND context ->> 'key_id' = $1`,
        [revoked.key.id],
      );
      expect(entry.rows).toEqual([{ worker_id: 'agent-k', key_id: null }]);

      await expectRefused(t.keyActor('agent-k', `tf_${'A'.repeat(43)}`), /^Invalid API key$/);
      await expectRefused(t.keyActor('agent-k', 'tf_short'), /^Malformed API key$/);
    });

    it('deleting a worker revokes its keys', async () => {
      await registerWorker(t, admin, { id: 'temp-agent', name: 'Temp', type: 'agent' });
      const { actor } = await createKey(t, admin, 'temp-agent');
      await actor.get('/api/me').expect(200);
      await admin.delete('/api/workers/temp-agent').expect(204);
      await admin
        .post('/api/workers', { id: 'temp-agent', name: 'Again', type: 'agent' })
        .expect(201);
      await expectRefused(actor, /^API key revoked$/);
    });
  });

  it('a key revoked on one replica is refused by another within 5 seconds', async () => {
    const second = await TestApp.start({ identity: t.identity, databaseUrl: t.databaseUrl });
    try {
      const { key } = await createKey(t, admin, 'agent-k', { name: 'two replicas' });
      const onSecond = second.keyActor('agent-k', key.key as string);
      // The second replica has checked the key and trusts it for a while.
      await onSecond.get('/api/me').expect(200);
      await onSecond.get('/api/me').expect(200);
      await admin.delete(`/api/workers/agent-k/keys/${key.id}`).expect(204);
      const revokedAt = Date.now();
      let status = 200;
      while (status === 200 && Date.now() - revokedAt < 5000) {
        status = (await onSecond.get('/api/me')).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(5000);
    } finally {
      await second.close();
    }
  });
});

describe('API keys: rate limits and last use (real PostgreSQL, real HTTP)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '5' } }));
    admin = await signInAdmin(t);
    await registerWorker(t, admin, { id: 'agent-r', name: 'Limited agent', type: 'agent' });
  });
  afterAll(() => stopApp(t, db));

  const lastUsed = async (id: string): Promise<string | null> => {
    const { rows } = await db.query<{ at: string | null }>(
      `SELECT last_used_at::text AS at FROM api_keys WHERE id = $1`,
      [id],
    );
    return rows[0].at;
  };

  it('counts each key on its own, and writes last_used_at once a minute, not per request', async () => {
    const one = await createKey(t, admin, 'agent-r', { name: 'one' });
    const two = await createKey(t, admin, 'agent-r', { name: 'two' });
    // A credential's first request is counted for the client address (it is not checked yet),
    // the rest for the key.
    await one.actor.get('/api/me').expect(200);
    for (let i = 0; i < 5; i++) await one.actor.get('/api/tasks').expect(200);
    const limited = await one.actor.get('/api/tasks').expect(429);
    expect(limited.body.code).toBe('rate_limited');
    // The same worker's other key has a budget of its own.
    await two.actor.get('/api/me').expect(200);
    await two.actor.get('/api/tasks').expect(200);

    const first = await eventually(
      'last_used_at to be written',
      async () => (await lastUsed(two.key.id as string)) ?? undefined,
      5_000,
    );
    for (let i = 0; i < 3; i++) await two.actor.get('/api/tasks').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lastUsed(two.key.id as string)).toBe(first);
  });
});
