import type { Client } from 'pg';
import {
  logOrderSince,
  auditEntriesSince,
  maxAuditId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { EventWatcher, rawEventIds } from './support/events';
import { Actor, TestApp } from './support/test-app';

/**
 * Fan-out through PostgreSQL: three API processes' worth of apps on one database, each with its
 * own LISTEN connection, and ids allocated in commit order under concurrent writers.
 */
let a: TestApp;
let db: Client;
let b: TestApp;
let c: TestApp;
const urls: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
let admin: Actor;
let writers: Actor[];

beforeAll(async () => {
  ({ t: a, db } = await startApp());
  const shared = { identity: a.identity, databaseUrl: a.databaseUrl };
  b = await TestApp.start(shared);
  c = await TestApp.start(shared);
  urls.a = await a.listen();
  urls.b = await b.listen();
  urls.c = await c.listen();
  admin = await signInAdmin(a);
  writers = [];
  for (let i = 0; i < 4; i += 1) {
    writers.push(await registerWorker(a, admin, { id: `writer-${i}`, name: `Writer ${i}` }));
  }
});

afterAll(async () => {
  await c.close();
  await b.close();
  await stopApp(a, db);
});

/** `fetch` as a writer against one replica (supertest would go to the in-process server). */
async function createVia(url: string, writer: Actor, title: string): Promise<number> {
  const response = await fetch(`${url}/api/tasks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${writer.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

async function startVia(url: string, writer: Actor, id: number): Promise<void> {
  const response = await fetch(`${url}/api/tasks/${id}/start`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${writer.token}` },
  });
  expect(response.status).toBe(200);
}

it('a client on one replica sees, in id order, every change made through the others', async () => {
  const since = await maxAuditId(db);
  const watcher = new EventWatcher(urls.a, admin.token, {}, since);
  try {
    await watcher.opened();
    const viaB = await createVia(urls.b, writers[0], 'Through B');
    const viaC = await createVia(urls.c, writers[1], 'Through C');
    await startVia(urls.c, writers[0], viaB);
    await startVia(urls.b, writers[1], viaC);
    const rows = await auditEntriesSince(db, since);
    await watcher.reached(rows.at(-1).id);
    expect(watcher.ids).toEqual(rows.map((r) => r.id));
    expect(new Set(watcher.entries.map((e) => e.task_id))).toEqual(new Set([viaB, viaC]));
  } finally {
    await watcher.stop();
  }
});

it('a replica that restarts: its client resumes from its last id and misses nothing', async () => {
  const since = await maxAuditId(db);
  let current = urls.b;
  const watcher = new EventWatcher(() => current, admin.token, {}, since);
  try {
    await watcher.opened();
    await createVia(urls.c, writers[0], 'Before the restart');
    await watcher.reached(since + 1);

    // B goes away (its streams end, its LISTEN connection closes); writes go on through C and A.
    await b.close();
    for (let i = 0; i < 5; i += 1) {
      await createVia(i % 2 ? urls.c : urls.a, writers[i % writers.length], `While B is down ${i}`);
    }
    b = await TestApp.start({ identity: a.identity, databaseUrl: a.databaseUrl });
    current = await b.listen();
    urls.b = current;
    await createVia(urls.c, writers[2], 'After the restart');

    const rows = await auditEntriesSince(db, since);
    await watcher.reached(rows.at(-1).id);
    expect(watcher.ids).toEqual(rows.map((r) => r.id));
    expect(watcher.opens).toBeGreaterThanOrEqual(2);
  } finally {
    await watcher.stop();
  }
});

it("under concurrent writers, a subscriber gets every committed entry once, in the log's order", async () => {
  const since = await maxAuditId(db);
  const watchers = [
    rawEventIds(urls.a, admin.token, since),
    rawEventIds(urls.b, admin.token, since),
  ];
  try {
    await Promise.all(watchers.map((w) => w.opened));
    const replicas = [urls.a, urls.b, urls.c];
    const tasks = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createVia(replicas[i % 3], writers[i % writers.length], `Concurrent ${i}`),
      ),
    );
    for (let round = 0; round < 5; round += 1) {
      // 20 writers at once: half create, half make a move on a task of their own.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const replica = replicas[(i + round) % 3];
          const writer = writers[i % writers.length];
          return i % 2 === 0 || round > 0
            ? createVia(replica, writer, `Round ${round} ${i}`)
            : startVia(replica, writer, tasks[i]);
        }),
      );
    }
    // Ids commit out of order under concurrent writers; the stream follows the log's order
    // (writing transaction, then id), the same on every replica.
    const expected = await logOrderSince(db, since);
    expect(expected.length).toBeGreaterThanOrEqual(120);
    for (const watcher of watchers) {
      for (let waited = 0; watcher.ids.length < expected.length; waited += 20) {
        if (waited > 20_000) {
          throw new Error(
            `got ${watcher.ids.length} of ${expected.length}: ${watcher.ids.join(',')} / ${expected.join(',')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(watcher.ids).toEqual(expected);
    }
  } finally {
    await Promise.all(watchers.map((w) => w.stop()));
  }
});
