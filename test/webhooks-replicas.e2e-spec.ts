import { sql } from './support/database';
import { createTaskId, logOrderSince, signInAdmin, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';
import {
  DELIVERING_ENV,
  WebhookReceiver,
  eventually,
  signatureValid,
} from './support/webhook-receiver';

const DELIVERING = DELIVERING_ENV;
const SECRET = 'replica-secret-0123456789';

/**
 * Waits until the webhook's cursor stands at `entryId`, the last entry of the log in its order:
 * every attempt is recorded by then.
 */
async function recorded(admin: Actor, webhookId: string, entryId: number): Promise<void> {
  await eventually(`webhook ${webhookId} at ${entryId}`, async () => {
    const w = (await admin.get(`/api/webhooks/${webhookId}`).expect(200)).body;
    return w.cursor === entryId ? true : undefined;
  });
}

describe('Webhooks across replicas (e2e)', () => {
  it("three replicas deliver each of 200 events to each webhook exactly once, in the log's order", async () => {
    const first = await TestApp.start({ env: DELIVERING });
    const others = await Promise.all(
      [1, 2].map(() =>
        TestApp.start({
          identity: first.identity,
          databaseUrl: first.databaseUrl,
          env: DELIVERING,
        }),
      ),
    );
    const replicas = [first, ...others];
    const db = await sql(first.databaseUrl);
    const receivers = await Promise.all([1, 2].map(() => WebhookReceiver.start()));
    try {
      const admins = await Promise.all(replicas.map((r) => signInAdmin(r)));
      const hooks: { id: string; start: number }[] = [];
      for (const receiver of receivers) {
        const res = await admins[0]
          .post('/api/webhooks', { url: receiver.url, secret: SECRET })
          .expect(201);
        hooks.push({ id: res.body.id, start: res.body.cursor });
      }
      // 200 writes spread over the replicas, ten at a time, so ids commit out of order: delivery
      // follows the log's order (writing transaction, then id) and reads only entries whose
      // transactions are all finished, so none is skipped or sent twice (docs/events.md).
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            createTaskId(admins[(batch * 10 + j) % 3], { title: `write ${batch * 10 + j}` }),
          ),
        );
      }
      const logOrders = await Promise.all(hooks.map((hook) => logOrderSince(db, hook.start)));
      for (const [i, receiver] of receivers.entries()) {
        const expected = logOrders[i];
        expect(expected.length).toBeGreaterThanOrEqual(200);
        await eventually(
          `webhook ${i} to deliver ${expected.length} entries`,
          () => (receiver.delivered.length >= expected.length ? true : undefined),
          60_000,
        );
        const got = receiver.received;
        // The receiver always answers 2xx, so any repeat would be a duplicate delivery.
        const deliveryIds = got.map((r) => r.headers['x-taskflow-delivery']);
        expect(new Set(deliveryIds).size).toBe(got.length);
        const ids = got.map((r) => r.entry.id);
        expect(ids).toEqual(expected);
        for (const r of got) {
          expect(signatureValid(SECRET, r.headers['x-taskflow-signature'] as string, r.body)).toBe(
            true,
          );
        }
      }
      for (const [i, hook] of hooks.entries()) {
        await recorded(admins[0], hook.id, logOrders[i].at(-1)!);
      }
      // The database agrees: one attempt per event and webhook, each a success.
      const { rows } = await db.query(
        `SELECT webhook_id, count(*)::int AS attempts, count(DISTINCT delivery_id)::int AS deliveries,
                count(*) FILTER (WHERE status_code = 200)::int AS ok
           FROM webhook_deliveries GROUP BY webhook_id ORDER BY webhook_id`,
      );
      for (const row of rows) expect(row.attempts).toBe(row.deliveries);
      for (const row of rows) expect(row.ok).toBe(row.attempts);
    } finally {
      for (const receiver of receivers) await receiver.stop();
      await db.end();
      for (const replica of others) await replica.close();
      await first.close();
    }
  });

  it('a replica shutting down mid-call finishes the call and records it: nothing is posted twice', async () => {
    const { t: quiet, db } = await startApp({
      env: { ...DELIVERING, WEBHOOK_POLL_INTERVAL_MS: '0' },
    });
    const receiver = await WebhookReceiver.start();
    let doomed: TestApp | undefined;
    let heir: TestApp | undefined;
    try {
      const admin = await signInAdmin(quiet);
      const { id } = (
        await admin
          .post('/api/webhooks', { url: receiver.url, secret: SECRET, events: ['created'] })
          .expect(201)
      ).body;
      receiver.hold = true;
      await createTaskId(admin, { title: 'in flight at shutdown' });
      doomed = await TestApp.start({
        identity: quiet.identity,
        databaseUrl: quiet.databaseUrl,
        env: DELIVERING,
      });
      await eventually('the call in flight', () => (receiver.waiting > 0 ? true : undefined));
      const closing = doomed.close();
      doomed = undefined;
      // The stop waits for the receiver (up to WEBHOOK_TIMEOUT_MS) instead of cutting the call.
      const early = await Promise.race([
        closing.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300)),
      ]);
      expect(early).toBe('still waiting');
      receiver.release();
      await closing;
      // Recorded as delivered and the lease given back before the replica let go.
      const { rows } = await db.query(
        `SELECT w.failure_count, w.lease_token, w.cursor::int AS cursor,
                (SELECT count(*)::int FROM webhook_deliveries d WHERE d.webhook_id = w.id) AS attempts
           FROM webhooks w WHERE w.id = $1`,
        [id],
      );
      expect(receiver.delivered).toHaveLength(1);
      const first = receiver.delivered[0];
      expect(rows).toEqual([
        { failure_count: 0, lease_token: null, cursor: first.entry.id, attempts: 1 },
      ]);

      // Another replica carries on after it: the next event only, never the first one again.
      heir = await TestApp.start({
        identity: quiet.identity,
        databaseUrl: quiet.databaseUrl,
        env: DELIVERING,
      });
      await createTaskId(admin, { title: 'after the stop' });
      await eventually('the next delivery', () =>
        receiver.delivered.length > 1 ? true : undefined,
      );
      await recorded(admin, id, receiver.delivered[1].entry.id);
      expect(receiver.received.map((r) => r.entry.id)).toEqual([
        first.entry.id,
        receiver.delivered[1].entry.id,
      ]);
      expect(receiver.delivered[1].entry.id).toBeGreaterThan(first.entry.id);
      const attempts = (await admin.get(`/api/webhooks/${id}/deliveries`).expect(200)).body;
      expect(attempts).toHaveLength(2);
      for (const a of attempts)
        expect(a).toMatchObject({ attempt: 1, status_code: 200, error: null });
      expect(attempts.map((a: { delivery_id: string }) => a.delivery_id).sort()).toEqual(
        receiver.delivered.map((r) => r.headers['x-taskflow-delivery']).sort(),
      );
    } finally {
      await receiver.stop();
      if (doomed) await doomed.close();
      if (heir) await heir.close();
      await stopApp(quiet, db);
    }
  });

  it('checks the address again at delivery: a replica without the flag refuses a private one', async () => {
    // The webhook is arranged by a replica that allows private addresses; the strict one delivers.
    const { t: lenient, db } = await startApp({
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '0' },
    });
    const receiver = await WebhookReceiver.start();
    const strict = await TestApp.start({
      identity: lenient.identity,
      databaseUrl: lenient.databaseUrl,
      env: {
        WEBHOOK_POLL_INTERVAL_MS: '50',
        WEBHOOK_BACKOFF_BASE_MS: '20',
        WEBHOOK_BACKOFF_MAX_MS: '40',
        WEBHOOK_MAX_FAILURES: '2',
      },
    });
    try {
      const admin: Actor = await signInAdmin(lenient);
      const { id } = (
        await admin.post('/api/webhooks', { url: receiver.url, events: ['created'] }).expect(201)
      ).body;
      await createTaskId(admin, { title: 'to a private address' });
      const failing = await eventually('failing', async () => {
        const w = (await admin.get(`/api/webhooks/${id}`).expect(200)).body;
        return w.status === 'failing' ? w : undefined;
      });
      expect(failing.failure_count).toBe(2);
      const attempts = (await admin.get(`/api/webhooks/${id}/deliveries`).expect(200)).body;
      expect(attempts).toHaveLength(2);
      for (const a of attempts) {
        expect(a).toMatchObject({ status_code: null });
        expect(a.error).toMatch(/^refused: host 127\.0\.0\.1 resolves to 127\.0\.0\.1/);
      }
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.stop();
      await strict.close();
      await stopApp(lenient, db);
    }
  });
});
