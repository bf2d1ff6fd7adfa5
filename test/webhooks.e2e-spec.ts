import { Client } from 'pg';
import { createTaskId, maxAuditId, signInAdmin, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';
import { WebhookReceiver, eventually, signatureValid } from './support/webhook-receiver';

/** Delivery settings small enough for a test: quick polls, tiny backoff, few failures. */
const FAST = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_BACKOFF_BASE_MS: '20',
  WEBHOOK_BACKOFF_MAX_MS: '80',
  WEBHOOK_MAX_FAILURES: '3',
  WEBHOOK_TIMEOUT_MS: '3000',
};
const SECRET = 'test-secret-0123456789';

type Entry = { id: number; action: string } & Record<string, unknown>;

/** Every audit entry after `after` as GET /api/audit answers it (the admin sees all). */
async function auditAfter(admin: Actor, after: number): Promise<Entry[]> {
  const all: Entry[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await admin.get(`/api/audit?limit=100&offset=${offset}`).expect(200))
      .body as Entry[];
    all.push(...page.filter((e) => e.id > after));
    if (page.length < 100) return all;
  }
}

describe('Webhooks (e2e)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let user: Actor;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    ({ t, db } = await startApp({ env: FAST }));
    admin = await signInAdmin(t);
    user = await t.actor('plain-user');
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await stopApp(t, db);
  });

  const create = (body: object) => admin.post('/api/webhooks', { secret: SECRET, ...body });

  describe('the routes', () => {
    it('creates, reads, lists, updates and deletes a webhook, auditing each change', async () => {
      const before = await maxAuditId(db);
      const created = await admin
        .post('/api/webhooks', { url: `${receiver.url}?token=abc`, events: ['created'] })
        .expect(201);
      const id = created.body.id as string;
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: `${receiver.url}?token=abc`,
        events: ['created'],
        project: null,
        status: 'active',
        failure_count: 0,
        cursor: before,
        next_attempt_at: expect.any(String),
        created_by: 'root',
        created_at: expect.any(String),
        updated_at: expect.any(String),
        secret: expect.stringMatching(/^whsec_[0-9a-f]{64}$/),
      });

      const got = await admin.get(`/api/webhooks/${id}`).expect(200);
      expect(got.body).not.toHaveProperty('secret');
      const { secret: _secret, ...shown } = created.body;
      expect(got.body).toEqual(shown);
      const list = await admin.get('/api/webhooks?limit=100').expect(200);
      expect(list.headers['x-total-count']).toBe(String(list.body.length));
      expect(list.body.find((w: { id: string }) => w.id === id)).toEqual(shown);
      for (const w of list.body) expect(w).not.toHaveProperty('secret');

      const patched = await admin
        .patch(`/api/webhooks/${id}`, { events: [], status: 'paused', secret: SECRET })
        .expect(200);
      expect(patched.body).toMatchObject({ events: [], status: 'paused' });
      expect(patched.body).not.toHaveProperty('secret');
      // Nothing sent differs: nothing recorded.
      await admin.patch(`/api/webhooks/${id}`, { status: 'paused' }).expect(200);

      await admin.delete(`/api/webhooks/${id}`).expect(204);
      const gone = await admin.get(`/api/webhooks/${id}`).expect(404);
      expect(gone.body).toEqual({
        error: `Webhook ${id} not found`,
        status_code: 404,
        code: 'webhook_not_found',
      });

      const { rows } = await db.query(
        `SELECT action, actor_id, context FROM audit_entries
          WHERE id > $1 AND action LIKE 'webhook_%' ORDER BY id`,
        [before],
      );
      const origin = new URL(receiver.url).origin;
      expect(rows).toEqual([
        {
          action: 'webhook_created',
          actor_id: 'root',
          context: {
            webhook_id: id,
            url_origin: origin,
            events: ['created'],
            project: null,
            status: 'active',
          },
        },
        {
          action: 'webhook_updated',
          actor_id: 'root',
          context: {
            webhook_id: id,
            events: { from: ['created'], to: [] },
            status: { from: 'active', to: 'paused' },
            secret_rotated: true,
          },
        },
        {
          action: 'webhook_deleted',
          actor_id: 'root',
          context: {
            webhook_id: id,
            url_origin: origin,
            events: [],
            project: null,
            status: 'paused',
          },
        },
      ]);
      // The generated secret went nowhere but the one answer.
      expect(JSON.stringify(rows)).not.toContain(created.body.secret);
    });

    it('finding 11: an Idempotency-Key replay never answers the secret again, even after a delete, and idempotency_keys never holds it', async () => {
      const keyRows = async () =>
        JSON.stringify((await db.query(`SELECT * FROM idempotency_keys`)).rows);
      const send = (body: object, key: string) =>
        admin.post('/api/webhooks', body).set('Idempotency-Key', key);

      // A generated secret, and one the caller chose.
      for (const [body, key] of [
        [{ url: receiver.url, status: 'paused' }, 'hook-generated-secret'],
        [{ url: receiver.url, status: 'paused', secret: 'chosen-secret-0123456789' }, 'hook-own'],
      ] as const) {
        const first = await send(body, key).expect(201);
        const secret = first.body.secret as string;
        expect(secret).toMatch(/^(whsec_[0-9a-f]{64}|chosen-secret-0123456789)$/);
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        expect(await keyRows()).toContain(key);
        expect(await keyRows()).not.toContain(secret);

        const { secret: _shown, ...withoutSecret } = first.body;
        const replay = await send(body, key).expect(201);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body).toEqual(withoutSecret);

        await admin.delete(`/api/webhooks/${first.body.id}`).expect(204);
        const afterDelete = await send(body, key).expect(201);
        expect(afterDelete.body).toEqual(withoutSecret);
        expect(JSON.stringify(afterDelete.body)).not.toContain(secret);
        expect(await keyRows()).not.toContain(secret);
      }
    });

    it.each([
      [{ url: 'ftp://example.com/x' }, 'url', 'url must be an http or https URL'],
      [{ url: 'not a url' }, 'url', 'url must be an absolute http or https URL'],
      [{ url: 'http://u:p@127.0.0.1/x' }, 'url', expect.stringContaining('user or password')],
      [{ url: `http://127.0.0.1/${'a'.repeat(2048)}` }, 'url', expect.stringContaining('2048')],
      [{}, 'url', expect.stringContaining('url must be a string')],
      [
        { url: 'http://127.0.0.1/x', events: ['nope'] },
        'events',
        expect.stringContaining('each event must be one of'),
      ],
      [
        { url: 'http://127.0.0.1/x', events: ['created', 'created'] },
        'events',
        'events must not repeat an action',
      ],
      [
        { url: 'http://127.0.0.1/x', project: 'Not A Slug' },
        'project',
        expect.stringContaining('project must be'),
      ],
      [
        { url: 'http://127.0.0.1/x', secret: 'short' },
        'secret',
        expect.stringContaining('16 to 200'),
      ],
      [
        { url: 'http://127.0.0.1/x', status: 'failing' },
        'status',
        'status must be one of active, paused',
      ],
    ])('refuses bad body %# with a 422 on %s', async (body, field, message) => {
      const res = await admin.post('/api/webhooks', body).expect(422);
      expect(res.body).toMatchObject({ status_code: 422, code: 'validation_failed' });
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, message }]));
    });

    it('answers 422 to an id that is no UUID and 404 to an unknown one', async () => {
      const bad = await admin.get('/api/webhooks/42').expect(422);
      expect(bad.body.details).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const call of [
        admin.get(`/api/webhooks/${unknown}`),
        admin.patch(`/api/webhooks/${unknown}`, { status: 'paused' }),
        admin.delete(`/api/webhooks/${unknown}`),
        admin.post(`/api/webhooks/${unknown}/resume`),
        admin.get(`/api/webhooks/${unknown}/deliveries`),
      ]) {
        expect((await call.expect(404)).body.code).toBe('webhook_not_found');
      }
    });

    it('refuses every route to a caller who is not an admin (403)', async () => {
      const id = (await create({ url: receiver.url, status: 'paused' }).expect(201)).body.id;
      for (const call of [
        user.post('/api/webhooks', { url: receiver.url }),
        user.get('/api/webhooks'),
        user.get(`/api/webhooks/${id}`),
        user.patch(`/api/webhooks/${id}`, { status: 'active' }),
        user.delete(`/api/webhooks/${id}`),
        user.post(`/api/webhooks/${id}/resume`),
        user.get(`/api/webhooks/${id}/deliveries`),
      ]) {
        const res = await call.expect(403);
        expect(res.body).toMatchObject({ code: 'admin_required' });
      }
      await admin.delete(`/api/webhooks/${id}`).expect(204);
    });
  });

  describe('without WEBHOOK_ALLOW_PRIVATE', () => {
    let strict: TestApp;
    let strictAdmin: Actor;
    beforeAll(async () => {
      strict = await TestApp.start({
        identity: t.identity,
        databaseUrl: t.databaseUrl,
        env: { WEBHOOK_POLL_INTERVAL_MS: '0' },
      });
      strictAdmin = await signInAdmin(strict);
    });
    afterAll(() => strict.close());

    it.each([
      ['http://127.0.0.1:8080/hook', '127.0.0.1'],
      ['http://10.1.2.3/hook', '10.1.2.3'],
      ['http://192.168.0.10/hook', '192.168.0.10'],
      ['http://172.20.0.1/hook', '172.20.0.1'],
      ['http://169.254.169.254/latest/meta-data', '169.254.169.254'],
      ['http://100.64.0.1/hook', '100.64.0.1'],
      ['http://0.0.0.0/hook', '0.0.0.0'],
      ['http://[::1]/hook', '::1'],
      ['http://[fd00::1]/hook', 'fd00::1'],
      ['http://[fe80::1]/hook', 'fe80::1'],
      ['http://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1'],
      ['http://2130706433/hook', '127.0.0.1'], // 127.0.0.1 spelled as one number
      ['http://localhost:8080/hook', 'localhost'],
    ])('refuses %s (422 on url)', async (url, shown) => {
      const res = await strictAdmin.post('/api/webhooks', { url }).expect(422);
      expect(res.body.details).toEqual([
        { field: 'url', message: expect.stringContaining(`url refused: host`) },
      ]);
      expect(res.body.details[0].message).toContain(shown);
    });

    it.each([
      ['http://[64:ff9b::a9fe:a9fe]/latest/meta-data', '169.254.169.254'], // NAT64
      ['http://[64:ff9b::7f00:1]:8080/hook', '127.0.0.1'], // NAT64
      ['http://[64:ff9b:1::a9fe:a9fe]/hook', 'rfc8215'], // local-use NAT64
      ['http://[2002:a9fe:a9fe::1]/hook', '169.254.169.254'], // 6to4
      ['http://[::ffff:0:7f00:1]/hook', '127.0.0.1'], // SIIT
      ['http://[2001::1]/hook', 'teredo'],
      ['http://[100::1]/hook', 'discard'],
    ])('finding 12: refuses the IPv6 transition form %s (422 on url)', async (url, shown) => {
      const res = await strictAdmin.post('/api/webhooks', { url }).expect(422);
      expect(res.body.details).toEqual([
        { field: 'url', message: expect.stringContaining('url refused: host') },
      ]);
      expect(res.body.details[0].message).toContain(shown);
    });

    it('refuses a private URL on update too', async () => {
      const id = (await create({ url: receiver.url, status: 'paused' }).expect(201)).body.id;
      const res = await strictAdmin
        .patch(`/api/webhooks/${id}`, { url: 'http://10.0.0.1/x' })
        .expect(422);
      expect(res.body.details[0].field).toBe('url');
      await admin.delete(`/api/webhooks/${id}`).expect(204);
    });
  });

  describe('delivery', () => {
    /** Waits until the webhook's cursor has passed `entryId`: its attempt is recorded by then. */
    async function recorded(id: string, entryId: number): Promise<void> {
      await eventually(`webhook ${id} past ${entryId}`, async () => {
        const w = (await admin.get(`/api/webhooks/${id}`).expect(200)).body;
        return w.cursor >= entryId ? true : undefined;
      });
    }

    /** Creates a webhook to `receiver`; returns its id and the audit id it starts after. */
    async function hook(target: WebhookReceiver, body: object = {}) {
      const res = await create({ url: target.url, ...body }).expect(201);
      return { id: res.body.id as string, start: res.body.cursor as number };
    }

    it('posts each wanted entry once, signed, in id order, as GET /api/audit shows it', async () => {
      const target = await WebhookReceiver.start();
      try {
        const { id, start } = await hook(target);
        for (let i = 0; i < 5; i++) await createTaskId(admin, { title: `signed ${i}` });
        const expected = await auditAfter(admin, start);
        expect(expected.map((e) => e.action)).toEqual([
          'webhook_created',
          ...Array(5).fill('created'),
        ]);
        await eventually('every entry', () =>
          target.delivered.length >= expected.length ? true : undefined,
        );
        const got = target.delivered;
        expect(got.map((r) => r.entry)).toEqual(expected);
        await recorded(id, expected[expected.length - 1].id);
        for (const r of got) {
          expect(r.headers['content-type']).toBe('application/json');
          expect(r.headers['x-taskflow-event']).toBe(r.entry.action);
          expect(signatureValid(SECRET, r.headers['x-taskflow-signature'] as string, r.body)).toBe(
            true,
          );
          expect(
            signatureValid(
              'another-secret-123',
              r.headers['x-taskflow-signature'] as string,
              r.body,
            ),
          ).toBe(false);
        }
        const deliveries = await admin.get(`/api/webhooks/${id}/deliveries`).expect(200);
        expect(deliveries.headers['x-total-count']).toBe(String(expected.length));
        expect(deliveries.body).toEqual(
          got.map((r) => ({
            id: expect.any(Number),
            webhook_id: id,
            delivery_id: r.headers['x-taskflow-delivery'],
            audit_entry_id: r.entry.id,
            event: r.entry.action,
            attempt: 1,
            status_code: 200,
            error: null,
            latency_ms: expect.any(Number),
            attempted_at: expect.any(String),
          })),
        );
        expect(new Set(got.map((r) => r.headers['x-taskflow-delivery'])).size).toBe(got.length);
        const after = await admin.get(`/api/webhooks/${id}`).expect(200);
        expect(after.body.cursor).toBeGreaterThanOrEqual(expected[expected.length - 1].id);
        await admin.delete(`/api/webhooks/${id}`).expect(204);
      } finally {
        await target.stop();
      }
    });

    it('delivers only the actions and the project it asks for', async () => {
      const target = await WebhookReceiver.start();
      try {
        await admin.post('/api/projects', { slug: 'hooked', name: 'Hooked' }).expect(201);
        const { id, start } = await hook(target, {
          events: ['created', 'deleted'],
          project: 'hooked',
        });
        const inProject = await createTaskId(admin, { title: 'in', project_slug: 'hooked' });
        await createTaskId(admin, { title: 'outside' });
        await admin.patch(`/api/tasks/${inProject}`, { title: 'renamed' }).expect(200);
        await admin.delete(`/api/tasks/${inProject}`).expect(204);
        const marker = await createTaskId(admin, { title: 'last', project_slug: 'hooked' });
        const expected = (await auditAfter(admin, start)).filter(
          (e) => ['created', 'deleted'].includes(e.action) && e.project_slug === 'hooked',
        );
        expect(expected.map((e) => [e.action, e.task_id])).toEqual([
          ['created', inProject],
          ['deleted', inProject],
          ['created', marker],
        ]);
        await eventually('the marker', () =>
          target.delivered.some((r) => r.entry.task_id === marker) ? true : undefined,
        );
        expect(target.delivered.map((r) => r.entry)).toEqual(expected);
        await admin.delete(`/api/webhooks/${id}`).expect(204);
      } finally {
        await target.stop();
      }
    });

    it('retries a failing receiver with backoff and delivers once it answers 2xx', async () => {
      const target = await WebhookReceiver.start();
      target.answer = ({ count }) => (count < 2 ? 500 : 204);
      try {
        const { id, start } = await hook(target, { events: ['created'] });
        const task = await createTaskId(admin, { title: 'retried' });
        await eventually('a success', () => (target.delivered.length > 0 ? true : undefined));
        await recorded(id, target.delivered[0].entry.id);
        const [event] = (await auditAfter(admin, start)).filter((e) => e.action === 'created');
        expect(event.task_id).toBe(task);
        expect(target.received.map((r) => [r.entry.id, r.status])).toEqual([
          [event.id, 500],
          [event.id, 500],
          [event.id, 204],
        ]);
        const deliveryIds = new Set(target.received.map((r) => r.headers['x-taskflow-delivery']));
        expect(deliveryIds.size).toBe(1);
        const attempts = (await admin.get(`/api/webhooks/${id}/deliveries`).expect(200)).body;
        expect(
          attempts.map((a: any) => [a.attempt, a.status_code, a.error, a.delivery_id]),
        ).toEqual([
          [1, 500, 'receiver answered 500', [...deliveryIds][0]],
          [2, 500, 'receiver answered 500', [...deliveryIds][0]],
          [3, 204, null, [...deliveryIds][0]],
        ]);
        const after = (await admin.get(`/api/webhooks/${id}`).expect(200)).body;
        expect(after).toMatchObject({ status: 'active', failure_count: 0, cursor: event.id });
        await admin.delete(`/api/webhooks/${id}`).expect(204);
      } finally {
        await target.stop();
      }
    });

    it('marks a webhook failing after N failures; resume delivers everything from its cursor', async () => {
      const target = await WebhookReceiver.start();
      target.answer = () => 503;
      try {
        const { id, start } = await hook(target, { events: ['created'] });
        await createTaskId(admin, { title: 'first' });
        const failing = await eventually('failing', async () => {
          const w = (await admin.get(`/api/webhooks/${id}`).expect(200)).body;
          return w.status === 'failing' ? w : undefined;
        });
        expect(failing.failure_count).toBe(3);
        expect(target.received).toHaveLength(3);
        // Written while it is failing: kept for it, not dropped.
        for (let i = 0; i < 3; i++) await createTaskId(admin, { title: `meanwhile ${i}` });
        target.answer = () => 200;
        const resumed = await admin.post(`/api/webhooks/${id}/resume`).expect(200);
        expect(resumed.body).toMatchObject({ status: 'active', failure_count: 0 });
        const expected = (await auditAfter(admin, start)).filter((e) => e.action === 'created');
        expect(expected).toHaveLength(4);
        await eventually('all four', () => (target.delivered.length >= 4 ? true : undefined));
        expect(target.delivered.map((r) => r.entry)).toEqual(expected);
        const { rows } = await db.query(
          `SELECT action, context FROM audit_entries WHERE action = 'webhook_updated' AND context->>'webhook_id' = $1`,
          [id],
        );
        expect(rows).toEqual([
          {
            action: 'webhook_updated',
            context: { webhook_id: id, status: { from: 'failing', to: 'active' } },
          },
        ]);
        await admin.delete(`/api/webhooks/${id}`).expect(204);
      } finally {
        await target.stop();
      }
    });

    it('does not deliver to a paused webhook, and delivers what it missed once active', async () => {
      const target = await WebhookReceiver.start();
      const witness = await WebhookReceiver.start();
      try {
        const { id } = await hook(target, { events: ['created'], status: 'paused' });
        const other = await hook(witness, { events: ['created'] });
        const task = await createTaskId(admin, { title: 'while paused' });
        await eventually('the witness', () => (witness.delivered.length > 0 ? true : undefined));
        const attempts = await admin.get(`/api/webhooks/${id}/deliveries`).expect(200);
        expect(attempts.body).toEqual([]);
        expect(target.received).toEqual([]);
        await admin.patch(`/api/webhooks/${id}`, { status: 'active' }).expect(200);
        await eventually('the missed one', () => (target.delivered.length > 0 ? true : undefined));
        expect(target.delivered.map((r) => r.entry.task_id)).toEqual([task]);
        await admin.delete(`/api/webhooks/${id}`).expect(204);
        await admin.delete(`/api/webhooks/${other.id}`).expect(204);
      } finally {
        await target.stop();
        await witness.stop();
      }
    });
  });
});
