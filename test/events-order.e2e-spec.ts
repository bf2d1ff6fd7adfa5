import type { Client } from 'pg';
import { UnitOfWork } from '../src/audit/unit-of-work';
import type { AuthUser } from '../src/auth/auth-user';
import { TasksService } from '../src/tasks/tasks.service';
import {
  auditRows,
  createTaskId,
  maxAuditId,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { EventWatcher } from './support/events';
import { Actor, TestApp } from './support/test-app';
import { DELIVERING_ENV, WebhookReceiver, eventually } from './support/webhook-receiver';

/**
 * The log's order when ids commit out of order. Writers share no lock, so an entry can get the
 * smaller id and commit after one with a larger id. Readers follow (writing transaction, id) and
 * read only entries whose transactions have all finished (docs/events.md, "Order"): neither entry
 * is skipped or sent twice, every reader sends them in the same order, and a resume from either
 * one is exact.
 */
describe('Event order without a global lock (e2e)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let receiver: WebhookReceiver;
  let url: string;
  const root: AuthUser = { id: 'root', email: null, role: 'admin', isAdmin: true };

  beforeAll(async () => {
    ({ t, db } = await startApp({ env: DELIVERING_ENV }));
    admin = await signInAdmin(t);
    receiver = await WebhookReceiver.start();
    url = await t.listen();
  });

  /** The id of a task's `created` entry: the first of its trail. */
  const createdEntryId = async (taskId: number): Promise<number> => {
    const [created] = await auditRows(db, taskId, 'id, action');
    expect(created.action).toBe('created');
    return Number(created.id);
  };

  afterAll(async () => {
    await receiver.stop();
    await stopApp(t, db);
  });

  it('two writes that commit out of id order reach the stream and a webhook once each, in one order, and resume exactly', async () => {
    await admin
      .post('/api/webhooks', { url: receiver.url, secret: 'order-secret-0123456789' })
      .expect(201);
    const since = await maxAuditId(db);
    // The webhook's own `webhook_created` entry comes first; the writes under test follow.
    const delivered = () => receiver.delivered.map((r) => r.entry.id).filter((id) => id > since);
    const live = new EventWatcher(url, admin.token, {}, since);
    await live.opened();

    // The first write appends its entry (a nested unit of work) and then waits, uncommitted,
    // while a second write draws a larger id and commits.
    const uow = t.app.get(UnitOfWork);
    const tasks = t.app.get(TasksService);
    let appended!: () => void;
    const firstAppended = new Promise<void>((resolve) => (appended = resolve));
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    const first = uow.run({ actorId: 'root', action: 'created' }, async () => {
      const task = await uow.run({ actorId: 'root', action: 'created' }, () =>
        tasks.create({ title: 'Commits last' }, root),
      );
      appended();
      await gate;
      return task;
    });
    await firstAppended;
    // Whatever happens below, the first transaction must end, or the app cannot close.
    const ends = setTimeout(() => commit(), 20_000);
    const secondTask = await createTaskId(admin, { title: 'Commits first' });
    const secondId = await createdEntryId(secondTask);
    // Committed and readable, but behind a transaction still running: no reader sends it yet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(live.ids).not.toContain(secondId);
    expect(delivered()).not.toContain(secondId);
    commit();

    const firstTask = (await first).id;
    clearTimeout(ends);
    const firstId = await createdEntryId(firstTask);
    expect(firstId).toBeLessThan(secondId); // the smaller id committed second
    const order = [firstId, secondId]; // its transaction began first

    await live.until((w) => w.ids.length >= 2, 'both entries');
    expect(live.ids).toEqual(order);
    await eventually(
      'the webhook to receive both entries',
      () => (delivered().length >= 2 ? true : undefined),
      15_000,
    );
    expect(delivered()).toEqual(order);

    // Resuming: from before both, from the first, from the second.
    const resumes = [
      { after: since, expected: order },
      { after: firstId, expected: [secondId] },
      { after: secondId, expected: [] },
    ];
    const marker = await createTaskId(admin, { title: 'After both' });
    const markerId = await createdEntryId(marker);
    await live.reached(markerId);
    for (const { after, expected } of resumes) {
      const resumed = new EventWatcher(url, admin.token, {}, after);
      try {
        await resumed.reached(markerId);
        expect(resumed.ids).toEqual([...expected, markerId]);
      } finally {
        await resumed.stop();
      }
    }
    await live.stop();
    expect(live.ids).toEqual([...order, markerId]);
  });
});
