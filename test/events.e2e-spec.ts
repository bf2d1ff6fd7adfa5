import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Client } from 'pg';
import { StreamMessage, parseEventStream } from '../src/client/event-stream';
import { EventFeed } from '../src/events/event-feed';
import {
  auditEntriesSince,
  createKey,
  createProject,
  createTaskId,
  maxAuditId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { EventWatcher, StreamToEnd, openRawStream, streamToEnd } from './support/events';
import { Actor, TestApp } from './support/test-app';

/**
 * `GET /api/events`: the audit log as a live stream, on real PostgreSQL with real tokens, read
 * through the same client the CLI and the MCP server use.
 */
let t: TestApp;
let db: Client;
let url: string;
let admin: Actor;
let alice: Actor;
let bob: Actor;
let agent: Actor;
const watchers: EventWatcher[] = [];

const watch = (actor: Actor, query = {}, after?: number) => {
  const watcher = new EventWatcher(url, actor.token, query, after);
  watchers.push(watcher);
  return watcher;
};

/** The entries after `since` as `GET /api/audit` returns them to `actor` (JSON round trip). */
async function auditAsServed(actor: Actor, since: number): Promise<any[]> {
  const all = (await actor.get('/api/audit?limit=100&offset=0').expect(200)).body as any[];
  let total = all.length;
  const entries = [...all];
  for (let offset = 100; total === 100; offset += 100) {
    const page = (await actor.get(`/api/audit?limit=100&offset=${offset}`).expect(200))
      .body as any[];
    entries.push(...page);
    total = page.length;
  }
  return entries.filter((e) => e.id > since);
}

beforeAll(async () => {
  ({ t, db } = await startApp());
  url = await t.listen();
  admin = await signInAdmin(t);
  alice = await registerWorker(t, admin, { id: 'alice', name: 'Alice' });
  bob = await registerWorker(t, admin, { id: 'bob', name: 'Bob' });
  agent = await registerWorker(t, admin, { id: 'agent-1', name: 'Agent', type: 'agent' });
  await createProject(alice, 'secret', { visibility: 'private', members: [[agent, 'member']] });
  await createProject(alice, 'open');
});

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
});

afterAll(() => stopApp(t, db));

describe('the stream', () => {
  it('sends each committed change with its audit id, action and the entry as GET /api/audit has it', async () => {
    const since = await maxAuditId(db);
    const w = watch(alice);
    await w.opened();
    const id = await createTaskId(alice, { title: 'Streamed' });
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    const rows = await auditEntriesSince(db, since);
    expect(rows.map((r) => r.action)).toEqual(['created', 'started']);
    await w.reached(rows[1].id);

    expect(w.ids).toEqual(rows.map((r) => r.id));
    expect(w.entries).toEqual(await auditAsServed(alice, since));
  });

  it('answers text/event-stream, unbuffered and uncached, with a retry delay first', async () => {
    const { response, abort } = await openRawStream(url, alice.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^retry: \d+\n\n/);
    abort.abort();
  });

  /** `HEAD /api/events`, given up after 3 s: an answer that has not come by then never will. */
  const head = (path: string, token?: string) =>
    fetch(`${url}${path}`, {
      method: 'HEAD',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(3000),
    });

  it('finding 13: HEAD answers the stream headers at once, with no body, and subscribes nothing', async () => {
    const feed = t.app.get(EventFeed);
    // Streams that earlier tests aborted leave once the server sees their sockets close.
    while (feed.subscribers > 0) await new Promise((r) => setTimeout(r, 20));
    const response = await head('/api/events?project=open', alice.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    // The stream has no length: a Content-Length (even 0) would misstate the GET's body.
    expect(response.headers.get('content-length')).toBeNull();
    expect(await response.text()).toBe('');
    await new Promise((r) => setTimeout(r, 200));
    expect(feed.subscribers).toBe(0);
  });

  it('HEAD is refused where GET is: 401 without a token, 422 for a bad filter', async () => {
    expect((await head('/api/events')).status).toBe(401);
    expect((await head('/api/events?action=nope', alice.token)).status).toBe(422);
    const badHeader = await fetch(`${url}/api/events`, {
      method: 'HEAD',
      headers: { Authorization: `Bearer ${alice.token}`, 'Last-Event-ID': 'abc' },
      signal: AbortSignal.timeout(3000),
    });
    expect(badHeader.status).toBe(422);
  });

  it('filters by task, action, project and actor type', async () => {
    const mine = await createTaskId(alice, { title: 'Mine' });
    const since = await maxAuditId(db);
    const task = watch(alice, { task_id: mine }, since);
    const started = watch(alice, { action: 'started' }, since);
    const open = watch(alice, { project: 'open' }, since);
    const agents = watch(admin, { actor_type: 'agent' }, since);
    await Promise.all([task, started, open, agents].map((w) => w.opened()));

    const other = await createTaskId(alice, { title: 'Other', project_slug: 'open' });
    await alice.post(`/api/tasks/${mine}/start`).expect(200);
    const agentTask = await createTaskId(agent, { title: 'By the agent' });
    await alice.post(`/api/tasks/${other}/start`).expect(200);
    const rows = await auditEntriesSince(db, since);
    const expected = {
      task: rows.filter((r) => r.task_id === mine),
      started: rows.filter((r) => r.action === 'started'),
      open: rows.filter((r) => r.project_slug === 'open'),
      agents: rows.filter((r) => r.actor_type === 'agent'),
    };
    // Each waits for its own last entry; then every list must be exact, in order.
    await task.reached(expected.task.at(-1).id);
    await started.reached(expected.started.at(-1).id);
    await open.reached(expected.open.at(-1).id);
    await agents.reached(expected.agents.at(-1).id);
    expect(task.ids).toEqual(expected.task.map((r) => r.id));
    expect(started.ids).toEqual(expected.started.map((r) => r.id));
    expect(open.ids).toEqual(expected.open.map((r) => r.id));
    expect(agents.ids).toEqual(expected.agents.map((r) => r.id));
    expect(expected.task.map((r) => r.action)).toEqual(['started']);
    expect(expected.started).toHaveLength(2);
    expect(expected.open).toHaveLength(2);
    expect(expected.agents.map((r) => r.task_id)).toEqual([agentTask]);
  });

  it('401 without a token, and never reads one from the query string', async () => {
    const anonymous = await openRawStream(url, undefined);
    expect(anonymous.response.status).toBe(401);
    expect(((await anonymous.response.json()) as any).code).toBe('unauthenticated');
    const inQuery = await openRawStream(url, undefined, `/api/events?access_token=${alice.token}`);
    expect(inQuery.response.status).toBe(401);
  });

  it.each([
    ['/api/events?action=nope', 'action'],
    ['/api/events?task_id=abc', 'task_id'],
    ['/api/events?actor_type=robot', 'actor_type'],
    ['/api/events?after=-1', 'after'],
    ['/api/events?after=1.5', 'after'],
    ['/api/events?token=x', 'token'],
  ])('422 in the envelope for %s', async (path, field) => {
    const { response } = await openRawStream(url, alice.token, path);
    expect(response.status).toBe(422);
    const body = (await response.json()) as any;
    expect(body.code).toBe('validation_failed');
    expect(body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it.each(['abc', '-3', '1e3', '99999999999999999'])('422 for Last-Event-ID %p', async (header) => {
    const { response } = await openRawStream(url, alice.token, '/api/events', {
      'Last-Event-ID': header,
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'Last-Event-ID' }],
    });
  });
});

describe('resuming', () => {
  it('with Last-Event-ID or ?after= sends exactly the entries after it, then new ones', async () => {
    const since = await maxAuditId(db);
    const ids = [];
    for (let i = 0; i < 4; i += 1) ids.push(await createTaskId(alice, { title: `Missed ${i}` }));
    const missed = await auditEntriesSince(db, since);
    const from = missed[0].id;

    // Last-Event-ID, through the client (which sends it as the header), and ?after= by hand.
    const byHeader = watch(alice, {}, from);
    const { response, abort } = await openRawStream(url, alice.token, `/api/events?after=${from}`);
    const received: number[] = [];
    const reading = (async () => {
      for await (const m of parseEventStream(response.body!)) {
        received.push(JSON.parse(m.data).id);
      }
    })().catch(() => undefined);

    await byHeader.opened();
    await alice.post(`/api/tasks/${ids[0]}/start`).expect(200);
    const all = await auditEntriesSince(db, from);
    await byHeader.reached(all.at(-1).id);
    while (!received.includes(all.at(-1).id)) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await reading;

    expect(byHeader.ids).toEqual(all.map((r) => r.id));
    expect(received).toEqual(all.map((r) => r.id));
  });

  it('Last-Event-ID wins over ?after=', async () => {
    const since = await maxAuditId(db);
    await createTaskId(alice, { title: 'One' });
    await createTaskId(alice, { title: 'Two' });
    const [first, second] = await auditEntriesSince(db, since);
    const { response, abort } = await openRawStream(url, alice.token, `/api/events?after=0`, {
      'Last-Event-ID': String(first.id),
    });
    const messages = parseEventStream(response.body!);
    const next = await messages.next();
    expect(JSON.parse(next.value!.data).id).toBe(second.id);
    abort.abort();
  });

  it('after a dropped connection the client resumes with no gap and no duplicate', async () => {
    const since = await maxAuditId(db);
    const w = watch(admin, {}, since);
    await w.opened();
    await createTaskId(alice, { title: 'Before the drop' });
    await w.reached(since + 1);
    // Every open stream of this replica is cut, as a proxy restart would.
    t.app.get(EventFeed).closeAll();
    for (let i = 0; i < 3; i += 1) await createTaskId(alice, { title: `During ${i}` });
    await w.opened(2);
    await createTaskId(alice, { title: 'After' });
    const rows = await auditEntriesSince(db, since);
    await w.reached(rows.at(-1).id);
    expect(w.ids).toEqual(rows.map((r) => r.id));
    expect(w.disconnects.length).toBeGreaterThanOrEqual(1);
  });
});

describe('who sees what', () => {
  it("never sends a private project's entries to a non-member; members and admins get them", async () => {
    const since = await maxAuditId(db);
    const outsider = watch(bob, {}, since);
    const member = watch(agent, {}, since);
    const root = watch(admin, {}, since);
    await Promise.all([outsider, member, root].map((w) => w.opened()));
    const hidden = await createTaskId(agent, { title: 'Hidden', project_slug: 'secret' });
    await agent.post(`/api/tasks/${hidden}/start`).expect(200);
    const shared = await createTaskId(alice, { title: 'Shared' });
    const rows = await auditEntriesSince(db, since);
    const last = rows.at(-1).id;
    await Promise.all([outsider, member, root].map((w) => w.reached(last)));

    expect(root.ids).toEqual(rows.map((r) => r.id));
    expect(member.ids).toEqual(rows.map((r) => r.id));
    expect(outsider.ids).toEqual(rows.filter((r) => r.project_slug !== 'secret').map((r) => r.id));
    expect(outsider.entries.map((e) => e.task_id)).toEqual([shared]);
  });

  it('a non-member catching up from the table sees no private entry either', async () => {
    await createTaskId(agent, { title: 'Hidden again', project_slug: 'secret' });
    const marker = await createTaskId(alice, { title: 'Marker' });
    const last = await maxAuditId(db);
    // A replica started now keeps nothing older in memory: resuming from 0 reads the table.
    const fresh = await TestApp.start({ identity: t.identity, databaseUrl: t.databaseUrl });
    try {
      const late = new EventWatcher(await fresh.listen(), bob.token, {}, 0);
      watchers.push(late);
      await late.reached(last);
      expect(late.entries.some((e) => e.project_slug === 'secret')).toBe(false);
      expect(late.entries.at(-1)!.task_id).toBe(marker);
      expect(late.entries).toEqual(await auditAsServed(bob, 0));
      await late.stop();
    } finally {
      await fresh.close();
    }
  });

  it('a membership change takes effect on the open stream', async () => {
    const since = await maxAuditId(db);
    // Visibility is decided when the replica reads an entry: the admin's stream says when it has.
    const root = watch(admin, {}, since);
    const settled = async () => root.reached(await maxAuditId(db));
    const w = watch(bob, { project: 'secret', action: 'created' }, since);
    await w.opened();
    await createTaskId(agent, { title: 'Before bob joins', project_slug: 'secret' });
    await settled();
    await alice
      .post('/api/projects/secret/members', { worker_id: 'bob', role: 'viewer' })
      .expect(201);
    const seen = await createTaskId(agent, { title: 'Bob sees this', project_slug: 'secret' });
    await w.until((x) => x.entries.length >= 1, 'the first task');
    expect(w.entries.map((e) => e.task_id)).toEqual([seen]);

    await alice.delete('/api/projects/secret/members/bob').expect(204);
    await createTaskId(agent, { title: 'Bob no longer sees this', project_slug: 'secret' });
    await settled();
    await alice
      .post('/api/projects/secret/members', { worker_id: 'bob', role: 'viewer' })
      .expect(201);
    const back = await createTaskId(agent, { title: 'Bob is back', project_slug: 'secret' });
    await settled();
    await w.until((x) => x.entries.length >= 2, 'the second task');
    expect(w.entries.map((e) => e.task_id)).toEqual([seen, back]);
    await alice.delete('/api/projects/secret/members/bob').expect(204);
  });
});

describe('keeping the connection', () => {
  let quick: TestApp;
  let quickUrl: string;

  beforeAll(async () => {
    quick = await TestApp.start({
      identity: t.identity,
      databaseUrl: t.databaseUrl,
      env: { EVENTS_HEARTBEAT_SECONDS: '1', EVENTS_MAX_BUFFER_BYTES: '65536' },
    });
    quickUrl = await quick.listen();
  });
  afterAll(() => quick.close());

  it('sends a keep-alive comment on a quiet stream', async () => {
    const { response, abort } = await openRawStream(quickUrl, alice.token);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(': keep-alive\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(text).toMatch(/^retry: \d+\n\n: keep-alive\n\n/);
  });

  it('ends a stream whose client stops reading with an overflow event naming the last id sent', async () => {
    // Arranged in SQL: enough entries (about 16 MB) to fill every socket buffer on the way.
    const since = await maxAuditId(db);
    await db.query(
      `INSERT INTO audit_entries (actor_id, actor_type, action, context)
       SELECT 'bulk', 'human', 'worker_updated',
              jsonb_build_object('worker_id', 'bulk', 'pad', repeat('x', 4000))
         FROM generate_series(1, 4000)`,
    );
    const feed = quick.app.get(EventFeed);
    const before = feed.subscribers;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const port = new URL(quickUrl).port;
      httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/events',
          headers: { Authorization: `Bearer ${alice.token}`, 'Last-Event-ID': String(since) },
        },
        resolve,
      )
        .on('error', reject)
        .end();
    });
    response.pause();
    // Not reading: the server gives up on this client and drops its subscription.
    while (feed.subscribers > before) await new Promise((r) => setTimeout(r, 50));

    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    await new Promise((resolve) => response.on('end', resolve).resume());
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const overflow = /event: overflow\ndata: (.*)\n\n$/.exec(text);
    expect(overflow).not.toBeNull();
    const data = JSON.parse(overflow![1]);
    expect(data.reason).toBe('overflow');
    expect(data.last_event_id).toBe(ids.at(-1));
    expect(ids.length).toBeLessThan(4000);
    expect(ids).toEqual((await auditEntriesSince(db, since)).slice(0, ids.length).map((r) => r.id));
  });
});

describe('a stream opened with an API key', () => {
  const opened: StreamToEnd[] = [];
  const open = (baseUrl: string, key: Record<string, any>) => {
    const stream = streamToEnd(baseUrl, key.key as string);
    opened.push(stream);
    return stream;
  };
  /** Waits until `app`'s feed has exactly `count` subscribers (streams subscribed, or gone). */
  const subscribers = async (app: TestApp, count: number) => {
    const feed = app.app.get(EventFeed);
    while (feed.subscribers !== count) await new Promise((r) => setTimeout(r, 20));
  };
  /** The data of a stream's last message, which must be the server's end event `reason`. */
  const endOf = (messages: StreamMessage[], reason: string) => {
    const last = messages.at(-1)!;
    expect(last.event).toBe(reason);
    const data = JSON.parse(last.data);
    expect(Object.keys(data).sort()).toEqual(['last_event_id', 'message', 'reason']);
    expect(data.reason).toBe(reason);
    return data as { last_event_id: number | null };
  };

  afterEach(() => {
    for (const stream of opened.splice(0)) stream.stop();
  });

  it("ends on every replica once the key is revoked, after the revocation's own entry; the worker's other key streams on", async () => {
    const revoked = (await createKey(t, admin, 'agent-1', { name: 'revoked while streaming' })).key;
    const kept = await createKey(t, admin, 'agent-1', { name: 'kept' });
    const other = await TestApp.start({ identity: t.identity, databaseUrl: t.databaseUrl });
    try {
      await subscribers(t, 0);
      const here = open(url, revoked);
      const there = open(await other.listen(), revoked);
      const since = await maxAuditId(db);
      const keeps = watch(kept.actor, {}, since);
      expect(await here.opened).toBe(200);
      expect(await there.opened).toBe(200);
      await keeps.opened();
      await subscribers(t, 2);
      await subscribers(other, 1);

      await admin.delete(`/api/workers/agent-1/keys/${revoked.id}`).expect(204);
      const [entry] = (await auditEntriesSince(db, since)).filter(
        (r) => r.action === 'key_revoked',
      );
      expect(entry.context.key_id).toBe(revoked.id);
      for (const messages of await Promise.all([here.ended(), there.ended()])) {
        const end = endOf(messages, 'token_revoked');
        // The revocation is the last entry sent: nothing written after it reaches the stream.
        expect(messages.at(-2)).toMatchObject({ event: 'key_revoked', lastEventId: `${entry.id}` });
        expect(end.last_event_id).toBe(entry.id);
      }
      await subscribers(t, 1);
      await subscribers(other, 0);

      const after = await createTaskId(alice, { title: 'After the revocation' });
      const rows = await auditEntriesSince(db, since);
      await keeps.reached(rows.at(-1).id);
      expect(keeps.entries.map((e) => e.task_id)).toContain(after);
      expect(keeps.ids).toContain(entry.id);
      expect(keeps.opens).toBe(1);
      expect(keeps.disconnects).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('ends when the key expires, with token_expired', async () => {
    const expiresAt = Date.now() + 5000;
    const { key } = await createKey(t, admin, 'agent-1', {
      name: 'short-lived',
      expires_at: new Date(expiresAt).toISOString(),
    });
    const stream = open(url, key);
    expect(await stream.opened).toBe(200);
    const messages = await stream.ended();
    // Not before the key's expiry (a second's grace for timer and clock rounding).
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 1000);
    expect(endOf(messages, 'token_expired').last_event_id).toBeNull();
    expect(messages.filter((m) => m.event !== 'token_expired')).toEqual([]);
  });

  it('ends at once when the key was revoked before the stream subscribed', async () => {
    // The guard trusts a key it checked for a moment (VERIFIED_KEY_TTL_MS): a stream it admits
    // in that moment must learn the revocation from the table. Revoked in SQL, so no entry on
    // the feed announces it; a key the guard has stopped trusting meanwhile is tried again.
    let messages: StreamMessage[] | undefined;
    for (let attempt = 0; attempt < 5 && !messages; attempt += 1) {
      const { key, actor } = await createKey(t, admin, 'agent-1', {
        name: `pre-revoked ${attempt}`,
      });
      await actor.get('/api/me').expect(200);
      await db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [key.id]);
      const stream = open(url, key);
      if ((await stream.opened) === 200) messages = await stream.ended();
    }
    expect(messages).toBeDefined();
    expect(endOf(messages!, 'token_revoked').last_event_id).toBeNull();
    expect(messages!.filter((m) => m.event !== 'token_revoked')).toEqual([]);
  });

  it("ends when the key's worker is deleted (which revokes its keys)", async () => {
    await registerWorker(t, admin, { id: 'agent-gone', name: 'Gone', type: 'agent' });
    const { key } = await createKey(t, admin, 'agent-gone');
    await subscribers(t, 0);
    const stream = open(url, key);
    expect(await stream.opened).toBe(200);
    await subscribers(t, 1);
    await admin.delete('/api/workers/agent-gone').expect(204);
    const messages = await stream.ended();
    expect(messages.at(-2)?.event).toBe('worker_deleted');
    endOf(messages, 'token_revoked');
  });
});
