import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import {
  auditRows,
  createKey,
  createProject,
  createTaskId,
  maxAuditId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { EventWatcher } from './support/events';
import { DELIVERING_ENV, WebhookReceiver, eventually } from './support/webhook-receiver';
import { Actor, TestApp } from './support/test-app';

/**
 * Issue 29 on the server: comments and hand-off notes, artifacts, asking a person, the inbox and
 * a project's sign-off rule, on real PostgreSQL with real tokens, through HTTP only (SQL reads
 * what the API cannot say about itself, and arranges what only time would: an expired lease).
 */
let t: TestApp;
let db: Client;
let url: string;
let admin: Actor;
/** People: ada owns the project, bob is a member, vic a viewer, eve an outsider. */
let ada: Actor;
let bob: Actor;
let vic: Actor;
let eve: Actor;
/** Registered agents, members of the project. */
let bot: Actor;
let bot2: Actor;
let receiver: WebhookReceiver;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

beforeAll(async () => {
  ({ t, db } = await startApp({ env: DELIVERING_ENV }));
  receiver = await WebhookReceiver.start();
  url = await t.listen();
  admin = await signInAdmin(t);
  [ada, bob, vic, eve] = await Promise.all(['ada', 'bob', 'vic', 'eve'].map((id) => t.actor(id)));
  bot = await registerWorker(t, admin, { id: 'bot', name: 'Bot', type: 'agent' });
  bot2 = await registerWorker(t, admin, { id: 'bot2', name: 'Bot 2', type: 'agent' });
  for (const slug of ['site', 'signoff']) {
    await createProject(ada, slug, {
      members: [
        [bob, 'member'],
        [vic, 'viewer'],
        [bot, 'member'],
        [bot2, 'member'],
      ],
    });
  }
  await ada.patch('/api/projects/signoff', { review_policy: 'human' }).expect(200);
});

afterAll(async () => {
  await stopApp(t, db);
  await receiver.stop();
});

/** A task of project `slug` that `holder` has claimed. */
async function claimed(holder: Actor, slug = 'site'): Promise<number> {
  const id = await createTaskId(ada, { title: `work for ${holder.id}`, project_slug: slug });
  await holder.post(`/api/tasks/${id}/start`).expect(200);
  return id;
}

describe('comments', () => {
  it('appends a comment, note by default, with its author and type, audited with its hash', async () => {
    const id = await claimed(bot);
    const res = await bot.post(`/api/tasks/${id}/comments`, { body: 'Looking at it' }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      task_id: id,
      author_id: 'bot',
      author_type: 'agent',
      kind: 'note',
      body: 'Looking at it',
      reply_to: null,
      created_at: expect.any(String),
    });
    const reply = await ada
      .post(`/api/tasks/${id}/comments`, {
        body: 'Thanks',
        kind: 'decision',
        reply_to: res.body.id,
      })
      .expect(201);
    expect(reply.body).toMatchObject({
      author_type: 'human',
      kind: 'decision',
      reply_to: res.body.id,
    });
    const entries = await auditRows(db, id, 'action, actor_id, actor_type, context');
    expect(entries.slice(-2)).toEqual([
      {
        action: 'commented',
        actor_id: 'bot',
        actor_type: 'agent',
        context: { comment_id: res.body.id, kind: 'note', body_sha256: sha256('Looking at it') },
      },
      {
        action: 'commented',
        actor_id: 'ada',
        actor_type: 'human',
        context: { comment_id: reply.body.id, kind: 'decision', body_sha256: sha256('Thanks') },
      },
    ]);
  });

  it('refuses bad input with the envelope and a code', async () => {
    const id = await claimed(bot);
    const other = await claimed(bob);
    const { body: elsewhere } = await bob
      .post(`/api/tasks/${other}/comments`, { body: 'elsewhere' })
      .expect(201);
    for (const bad of [
      {},
      { body: '' },
      { body: '   ' },
      { body: 'x'.repeat(10_001) },
      { body: 'ok', kind: 'rant' },
      { body: 'ok', reply_to: elsewhere.id },
      { body: 'ok', reply_to: 0 },
      { body: 'ok', author_id: 'mallory' },
    ]) {
      const res = await bot.post(`/api/tasks/${id}/comments`, bad);
      expect([JSON.stringify(bad).slice(0, 40), res.status, res.body.code]).toEqual([
        JSON.stringify(bad).slice(0, 40),
        422,
        'validation_failed',
      ]);
    }
    await bot.post(`/api/tasks/${id}/comments`, { body: 'x'.repeat(10_000) }).expect(201);
    await bot.post('/api/tasks/999999/comments', { body: 'nobody' }).expect(404);
  });

  it('lists oldest first, paged by cursor with Link and X-Total-Count', async () => {
    const id = await claimed(bob);
    for (let i = 1; i <= 5; i++) {
      await bob.post(`/api/tasks/${id}/comments`, { body: `c${i}` }).expect(201);
    }
    const seen: string[] = [];
    let next: string | undefined = `/api/tasks/${id}/comments?limit=2`;
    while (next) {
      const res: { body: { body: string }[]; headers: Record<string, string> } = await vic
        .get(next)
        .expect(200);
      expect(res.headers['x-total-count']).toBe('5');
      seen.push(...res.body.map((c: { body: string }) => c.body));
      next = /<([^>]+)>; rel="next"/.exec(res.headers.link ?? '')?.[1];
    }
    expect(seen).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    const bad = await vic.get(`/api/tasks/${id}/comments?cursor=nonsense`).expect(422);
    expect(bad.body.code).toBe('invalid_cursor');
  });

  it('is append-only: the API role cannot change a comment, and the owner leaves a trace', async () => {
    const id = await claimed(bot);
    const { body: comment } = await bot
      .post(`/api/tasks/${id}/comments`, { body: 'The original text' })
      .expect(201);
    // Even the owner is refused while the trigger stands.
    await expect(
      db.query(`UPDATE task_comments SET body = 'forged' WHERE id = $1`, [comment.id]),
    ).rejects.toMatchObject({ code: '42501' });

    // Tamper evidence: the owner switches the trigger off and edits the text.
    await db.query('ALTER TABLE task_comments DISABLE TRIGGER task_comments_no_update_delete');
    try {
      await db.query(`UPDATE task_comments SET body = 'A forged text' WHERE id = $1`, [comment.id]);
      const [entry] = (
        await db.query(
          `SELECT id FROM audit_entries WHERE action = 'commented' AND context ->> 'comment_id' = $1`,
          [String(comment.id)],
        )
      ).rows;
      const broken = await admin.get(`/api/audit/verify?task_id=${id}`).expect(200);
      expect(broken.body).toMatchObject({
        ok: false,
        first_broken: { id: Number(entry.id), task_id: id, reason: 'comment_changed' },
      });
      await db.query(`UPDATE task_comments SET body = 'The original text' WHERE id = $1`, [
        comment.id,
      ]);
    } finally {
      await db.query('ALTER TABLE task_comments ENABLE TRIGGER task_comments_no_update_delete');
    }
    const intact = await admin.get(`/api/audit/verify?task_id=${id}`).expect(200);
    expect(intact.body).toMatchObject({ ok: true, first_broken: null });
  });
});

describe('hand-off notes', () => {
  it('records the note of review, complete, release and block as a handoff comment named by the move', async () => {
    for (const [move, expectedAction] of [
      ['review', 'review_requested'],
      ['complete', 'completed'],
      ['release', 'released'],
      ['block', 'blocked'],
    ] as const) {
      const id = await claimed(bob);
      const note = `note with ${move}`;
      const res = await bob.post(`/api/tasks/${id}/${move}`, { note }).expect(200);
      const [comment] = (await bob.get(`/api/tasks/${id}/comments`).expect(200)).body;
      expect(comment).toMatchObject({ kind: 'handoff', body: note, author_id: 'bob' });
      expect(res.body.last_handoff).toEqual({
        comment_id: comment.id,
        author_id: 'bob',
        body: note,
        created_at: comment.created_at,
      });
      const entries = await auditRows(db, id, 'action, context');
      expect(entries.slice(-2)).toEqual([
        { action: 'commented', context: expect.objectContaining({ comment_id: comment.id }) },
        {
          action: expectedAction,
          context:
            move === 'block'
              ? { reason: null, comment_id: comment.id }
              : { comment_id: comment.id },
        },
      ]);
    }
  });

  it('a move with a note and artifacts writes the task once: its version goes up by one', async () => {
    const pr = { kind: 'pr', url: 'https://github.com/acme/site/pull/9', title: null };
    for (const [move, body] of [
      ['review', { note: 'see the PR', artifacts: [pr] }],
      ['complete', { note: 'done', artifacts: [pr] }],
      ['complete', { artifacts: [pr] }],
      ['release', { note: 'half done' }],
      ['block', { note: 'waiting on infra', reason: 'infra' }],
      ['block', {}],
    ] as const) {
      const id = await claimed(bob);
      const { version } = (await bob.get(`/api/tasks/${id}`).expect(200)).body;
      const res = await bob.post(`/api/tasks/${id}/${move}`, body).expect(200);
      expect([move, res.body.version]).toEqual([move, version + 1]);
      const read = (await bob.get(`/api/tasks/${id}`).expect(200)).body;
      expect(read).toMatchObject({
        version: version + 1,
        artifacts: 'artifacts' in body ? [{ ...pr, added_by: 'bob' }] : [],
        last_handoff: 'note' in body ? { body: body.note, author_id: 'bob' } : null,
      });
    }
  });

  it('refuses a blank or too long note, and a refused move writes no comment', async () => {
    const id = await claimed(bob);
    for (const note of ['', ' ', 'x'.repeat(10_001)]) {
      const res = await bob.post(`/api/tasks/${id}/release`, { note });
      expect([res.status, res.body.code]).toEqual([422, 'validation_failed']);
    }
    const refused = await ada.post(`/api/tasks/${id}/release`, { note: 'not mine' });
    expect([refused.status, refused.body.code]).toEqual([403, 'not_assignee']);
    const comments = await bob.get(`/api/tasks/${id}/comments`).expect(200);
    expect(comments.headers['x-total-count']).toBe('0');
  });

  it("a released task's note reaches the next agent through claim-next (last_handoff)", async () => {
    const id = await createTaskId(ada, {
      title: 'Hand over',
      project_slug: 'site',
      priority: 'critical',
    });
    await bot.post(`/api/tasks/${id}/start`).expect(200);
    await bot
      .post(`/api/tasks/${id}/release`, { note: 'Schema done; the API part is left.' })
      .expect(200);
    const next = await bot2.post('/api/tasks/claim-next', { project: 'site' }).expect(200);
    expect(next.body).toMatchObject({
      id,
      assigned_to: 'bot2',
      last_handoff: {
        author_id: 'bot',
        body: 'Schema done; the API part is left.',
        comment_id: expect.any(Number),
      },
    });
  });
});

describe('artifacts', () => {
  const pr = { kind: 'pr', url: 'https://github.com/acme/site/pull/7', title: 'Fix it' };

  it('adds, replaces by URL and removes, audited each time', async () => {
    const id = await claimed(bot);
    const added = await bot.post(`/api/tasks/${id}/artifacts`, pr).expect(200);
    expect(added.body.artifacts).toEqual([
      { ...pr, added_by: 'bot', added_at: expect.any(String) },
    ]);
    const log = { kind: 'log', url: 'http://ci.example/run/1' };
    await bob.post(`/api/tasks/${id}/artifacts`, log).expect(200);
    const replaced = await bot
      .post(`/api/tasks/${id}/artifacts`, { ...pr, title: 'Fix it, take 2' })
      .expect(200);
    expect(replaced.body.artifacts.map((a: { title: string | null }) => a.title)).toEqual([
      'Fix it, take 2',
      null,
    ]);
    const removed = await ada
      .delete(`/api/tasks/${id}/artifacts?url=${encodeURIComponent(log.url)}`)
      .expect(200);
    expect(removed.body.artifacts).toHaveLength(1);
    const missing = await ada.delete(
      `/api/tasks/${id}/artifacts?url=${encodeURIComponent(log.url)}`,
    );
    expect([missing.status, missing.body.code]).toEqual([404, 'artifact_not_found']);
    const actions = (await auditRows(db, id, 'action, actor_id')).slice(-4);
    expect(actions).toEqual([
      { action: 'artifact_added', actor_id: 'bot' },
      { action: 'artifact_added', actor_id: 'bob' },
      { action: 'artifact_added', actor_id: 'bot' },
      { action: 'artifact_removed', actor_id: 'ada' },
    ]);
  });

  it('refuses bad artifacts, and a 51st, with a code', async () => {
    const id = await claimed(bot);
    for (const bad of [
      { kind: 'pr', url: 'ftp://example.com/x' },
      { kind: 'pr', url: 'not a url' },
      { kind: 'image', url: 'https://example.com' },
      { kind: 'url', url: `https://example.com/${'x'.repeat(2048)}` },
      { kind: 'url', url: 'https://example.com', title: 'x'.repeat(201) },
    ]) {
      const res = await bot.post(`/api/tasks/${id}/artifacts`, bad);
      expect([res.status, res.body.code]).toEqual([422, 'validation_failed']);
    }
    for (let i = 0; i < 50; i++) {
      await bot
        .post(`/api/tasks/${id}/artifacts`, { kind: 'commit', url: `https://git.example/c/${i}` })
        .expect(200);
    }
    const full = await bot.post(`/api/tasks/${id}/artifacts`, {
      kind: 'commit',
      url: 'https://git.example/c/50',
    });
    expect([full.status, full.body.code]).toEqual([409, 'too_many_artifacts']);
    // Replacing one of the fifty is still fine.
    await bot
      .post(`/api/tasks/${id}/artifacts`, { kind: 'pr', url: 'https://git.example/c/0' })
      .expect(200);
  });

  it('comes with review and complete, in the move’s transaction', async () => {
    const id = await claimed(bob);
    const res = await bob
      .post(`/api/tasks/${id}/complete`, { artifacts: [pr], note: 'Done, see the PR' })
      .expect(200);
    expect(res.body).toMatchObject({ status: 'completed', artifacts: [pr] });
    const actions = (await auditRows(db, id, 'action')).map((e) => e.action).slice(-3);
    expect(actions).toEqual(['artifact_added', 'commented', 'completed']);
    // A refused move adds nothing.
    const other = await claimed(bob);
    const refused = await ada.post(`/api/tasks/${other}/review`, { artifacts: [pr] });
    expect([refused.status, refused.body.code]).toEqual([403, 'not_assignee']);
    expect((await ada.get(`/api/tasks/${other}`).expect(200)).body.artifacts).toEqual([]);
  });

  it('is for the assignee, writers and admins: a viewer gets 403', async () => {
    const id = await claimed(bot);
    const res = await vic.post(`/api/tasks/${id}/artifacts`, pr);
    expect([res.status, res.body.code]).toEqual([403, 'not_project_member']);
    await admin.post(`/api/tasks/${id}/artifacts`, pr).expect(200);
  });
});

describe('asking a person', () => {
  it('only the assignee of a task in progress asks', async () => {
    const id = await claimed(bot);
    const other = await bob.post(`/api/tasks/${id}/ask`, { question: 'mine?' });
    expect([other.status, other.body.code]).toEqual([403, 'not_assignee']);
    const viewer = await vic.post(`/api/tasks/${id}/ask`, { question: 'mine?' });
    expect([viewer.status, viewer.body.code]).toEqual([403, 'not_project_member']);
    const pending = await createTaskId(ada, { title: 'not started', project_slug: 'site' });
    const early = await ada.post(`/api/tasks/${pending}/ask`, { question: 'now?' });
    expect([early.status, early.body.code]).toEqual([409, 'invalid_transition']);
    const blank = await bot.post(`/api/tasks/${id}/ask`, { question: ' ' });
    expect([blank.status, blank.body.code]).toEqual([422, 'validation_failed']);
  });

  it("holds the task while it waits: the lease does not run out, and only someone else's answer clears it", async () => {
    const id = await createTaskId(ada, { title: 'Question', project_slug: 'site' });
    await bot.post(`/api/tasks/${id}/start`, { lease_seconds: 60 }).expect(200);
    const asked = await bot
      .post(`/api/tasks/${id}/ask`, { question: 'Which time zone?' })
      .expect(200);
    expect(asked.body.awaiting_input).toBe(true);
    // Long past its lease: still the agent's.
    await db.query(`UPDATE tasks SET lease_expires_at = now() - interval '1 hour' WHERE id = $1`, [
      id,
    ]);
    const grab = await bot2.post(`/api/tasks/${id}/start`);
    expect([grab.status, grab.body.code]).toEqual([409, 'task_claimed']);
    expect((await bot2.post('/api/tasks/claim-next', { project: 'site' })).body.id).not.toBe(id);

    // The assignee's own answer does not count.
    await bot.post(`/api/tasks/${id}/comments`, { body: 'UTC?', kind: 'answer' }).expect(201);
    expect((await bot.get(`/api/tasks/${id}`).expect(200)).body.awaiting_input).toBe(true);

    const { body: answer } = await bob
      .post(`/api/tasks/${id}/comments`, { body: 'UTC.', kind: 'answer' })
      .expect(201);
    const after = (await bot.get(`/api/tasks/${id}`).expect(200)).body;
    expect(after.awaiting_input).toBe(false);
    // The answer gives the holder a fresh lease to read it in.
    expect(new Date(after.lease_expires_at).getTime()).toBeGreaterThan(Date.now());
    const entries = await auditRows(db, id, 'action, actor_id, context');
    expect(entries.filter((e) => ['asked', 'answered'].includes(e.action))).toEqual([
      { action: 'asked', actor_id: 'bot', context: { comment_id: expect.any(Number) } },
      { action: 'answered', actor_id: 'bob', context: { comment_id: answer.id } },
    ]);
  });

  it('a question stands only while its asker holds the task in progress', async () => {
    const id = await claimed(bot);
    await bot.post(`/api/tasks/${id}/ask`, { question: 'Which API?' }).expect(200);
    const released = await bot.post(`/api/tasks/${id}/release`).expect(200);
    expect(released.body.awaiting_input).toBe(false);
  });
});

describe('the inbox', () => {
  it('lists what waits on the caller, most urgent first, paged', async () => {
    await createProject(ada, 'inbox', {
      members: [
        [bob, 'member'],
        [bot, 'member'],
      ],
    });
    const waiting = await claimed(bot, 'inbox');
    await bot.post(`/api/tasks/${waiting}/ask`, { question: 'Which colour?' }).expect(200);
    const inReview = await claimed(bot, 'inbox');
    await bot.post(`/api/tasks/${inReview}/review`).expect(200);
    const mine = await claimed(bob, 'inbox');
    const urgent = await createTaskId(ada, {
      title: 'Urgent',
      project_slug: 'inbox',
      priority: 'critical',
    });
    await bob.post(`/api/tasks/${urgent}/start`).expect(200);
    const done = await claimed(bob, 'inbox');
    await bob.post(`/api/tasks/${done}/complete`).expect(200);

    const inbox = await bob.get('/api/inbox?limit=100').expect(200);
    const ours = inbox.body
      .filter((item: { task: { project_slug: string } }) => item.task.project_slug === 'inbox')
      .map((item: { task: { id: number }; reason: string }) => [item.task.id, item.reason]);
    expect(ours).toEqual([
      [waiting, 'awaiting_input'],
      [inReview, 'review'],
      [urgent, 'assigned'],
      [mine, 'assigned'],
    ]);
    const first = await bob.get('/api/inbox?limit=1').expect(200);
    expect(first.body).toHaveLength(1);
    expect(Number(first.headers['x-total-count'])).toBe(inbox.body.length);

    // The agent that asked sees its own task as assigned, not as a question for itself.
    const agentInbox = (await bot.get('/api/inbox?limit=100').expect(200)).body;
    expect(
      agentInbox.find((item: { task: { id: number } }) => item.task.id === waiting)?.reason,
    ).toBe('assigned');
    // Someone who cannot write there is asked nothing.
    const outsider = (await eve.get('/api/inbox?limit=100').expect(200)).body;
    expect(outsider.map((item: { task: { id: number } }) => item.task.id)).not.toContain(waiting);
  });
});

describe('who finds what in the inbox', () => {
  /** The caller's inbox as reasons by task id; each task at most once. */
  const inboxOf = async (actor: Actor): Promise<Map<number, string>> => {
    const res = await actor.get('/api/inbox?limit=100').expect(200);
    const items = res.body as { task: { id: number }; reason: string }[];
    expect(Number(res.headers['x-total-count'])).toBe(items.length);
    const reasons = new Map(items.map((item) => [item.task.id, item.reason]));
    expect(reasons.size).toBe(items.length);
    return reasons;
  };

  it('the shared board asks everyone; admins are asked everywhere, readers nothing', async () => {
    const shared = await createTaskId(ada, { title: 'Shared question' });
    await bot.post(`/api/tasks/${shared}/start`).expect(200);
    await bot.post(`/api/tasks/${shared}/ask`, { question: 'Anyone?' }).expect(200);
    const inReview = await claimed(bot2);
    await bot2.post(`/api/tasks/${inReview}/review`).expect(200);

    for (const actor of [bob, vic, eve, admin]) {
      expect((await inboxOf(actor)).get(shared)).toBe('awaiting_input');
    }
    expect((await inboxOf(bob)).get(inReview)).toBe('review');
    // Not a member of the project, an admin may sign it off; a viewer may not.
    expect((await inboxOf(admin)).get(inReview)).toBe('review');
    expect((await inboxOf(vic)).has(inReview)).toBe(false);
    expect((await inboxOf(eve)).has(inReview)).toBe(false);
    // Work of its own in review: an admin may sign it off, and finds it once, as review.
    const ownByAdmin = await createTaskId(ada, { title: 'Admin work', project_slug: 'site' });
    await admin.post(`/api/tasks/${ownByAdmin}/start`).expect(200);
    await admin.post(`/api/tasks/${ownByAdmin}/review`).expect(200);
    expect((await inboxOf(admin)).get(ownByAdmin)).toBe('review');
    // Anyone else's own work in review is theirs, assigned.
    const ownByBob = await claimed(bob);
    await bob.post(`/api/tasks/${ownByBob}/review`).expect(200);
    expect((await inboxOf(bob)).get(ownByBob)).toBe('assigned');
    expect((await inboxOf(ada)).get(ownByBob)).toBe('review');
  });

  it("under human, an agent is asked to review a person's work, not an agent's", async () => {
    const byBob = await claimed(bob, 'signoff');
    await bob.post(`/api/tasks/${byBob}/review`).expect(200);
    const byBot = await claimed(bot, 'signoff');
    await bot.post(`/api/tasks/${byBot}/review`).expect(200);
    const inbox = await inboxOf(bot2);
    expect(inbox.get(byBob)).toBe('review');
    expect(inbox.has(byBot)).toBe(false);
    expect((await inboxOf(bob)).get(byBot)).toBe('review');
  });

  it("a key limited to projects finds only their tasks, not the shared board's", async () => {
    const shared = await createTaskId(ada, { title: 'Another shared question' });
    await bot.post(`/api/tasks/${shared}/start`).expect(200);
    await bot.post(`/api/tasks/${shared}/ask`, { question: 'Still anyone?' }).expect(200);
    const inSite = await claimed(bot, 'site');
    await bot.post(`/api/tasks/${inSite}/review`).expect(200);
    const inSignoff = await claimed(bob, 'signoff');
    await bob.post(`/api/tasks/${inSignoff}/review`).expect(200);

    const everywhere = await inboxOf(bot2);
    expect([everywhere.get(shared), everywhere.get(inSite), everywhere.get(inSignoff)]).toEqual([
      'awaiting_input',
      'review',
      'review',
    ]);
    const { actor: limited } = await createKey(t, admin, 'bot2', { projects: ['site'] });
    const inbox = await inboxOf(limited);
    expect(inbox.get(inSite)).toBe('review');
    expect(inbox.has(shared) || inbox.has(inSignoff)).toBe(false);
  });
});

describe('the sign-off rule (review_policy)', () => {
  it('is set where projects are created and updated, and audited', async () => {
    const created = await ada
      .post('/api/projects', { slug: 'policy', name: 'Policy', review_policy: 'human' })
      .expect(201);
    expect(created.body.review_policy).toBe('human');
    const bad = await ada.patch('/api/projects/policy', { review_policy: 'robots' });
    expect([bad.status, bad.body.code]).toEqual([422, 'validation_failed']);
    await ada.patch('/api/projects/policy', { review_policy: 'other' }).expect(200);
    const entries = (
      await db.query(
        `SELECT action, context FROM audit_entries WHERE project_slug = 'policy' ORDER BY id`,
      )
    ).rows;
    expect(entries[0].context.review_policy).toBe('human');
    expect(entries.at(-1)).toEqual({
      action: 'project_updated',
      context: { review_policy: { from: 'human', to: 'other' } },
    });
  });

  it("under human, an agent's work is completed only through a person's review", async () => {
    const id = await claimed(bot, 'signoff');
    for (const res of [
      await bot.post(`/api/tasks/${id}/complete`),
      await bot.patch(`/api/tasks/${id}`, { status: 'completed' }),
    ]) {
      expect([res.status, res.body.code]).toEqual([409, 'review_required']);
    }
    // A person's own work there is not concerned.
    const own = await claimed(bob, 'signoff');
    await bob.post(`/api/tasks/${own}/complete`).expect(200);
  });
});

it('the hand-off, end to end: claim, comment, ask, answer, artifact, review, a person signs off', async () => {
  await admin.post('/api/webhooks', { url: receiver.url, project: 'signoff' }).expect(201);
  const since = await maxAuditId(db);
  const stream = new EventWatcher(url, ada.token, { project: 'signoff' }, since);
  try {
    await stream.opened();
    const id = await createTaskId(ada, { title: 'Ship the export', project_slug: 'signoff' });
    await bot.post(`/api/tasks/${id}/start`, { lease_seconds: 300 }).expect(200);
    await bot
      .post(`/api/tasks/${id}/comments`, { body: 'Starting with the CSV writer' })
      .expect(201);
    await bot
      .post(`/api/tasks/${id}/ask`, { question: 'Should archived projects be exported?' })
      .expect(200);
    expect((await bot.get(`/api/tasks/${id}`).expect(200)).body.awaiting_input).toBe(true);

    // A person finds the question in their inbox and answers it.
    const reasonFor = async (actor: Actor) =>
      (await actor.get('/api/inbox?limit=100').expect(200)).body.find(
        (item: { task: { id: number } }) => item.task.id === id,
      )?.reason;
    expect(await reasonFor(ada)).toBe('awaiting_input');
    await ada
      .post(`/api/tasks/${id}/comments`, { body: 'No, only live ones.', kind: 'answer' })
      .expect(201);
    expect((await bot.get(`/api/tasks/${id}`).expect(200)).body.awaiting_input).toBe(false);

    await bot
      .post(`/api/tasks/${id}/artifacts`, {
        kind: 'pr',
        url: 'https://github.com/acme/site/pull/12',
        title: 'CSV export',
      })
      .expect(200);
    await bot
      .post(`/api/tasks/${id}/review`, { note: 'Ready: live projects only, as asked.' })
      .expect(200);
    expect(await reasonFor(ada)).toBe('review');
    // Another agent may not sign it off, and does not even find it in its inbox.
    const byAgent = await bot2.post(`/api/tasks/${id}/approve`);
    expect([byAgent.status, byAgent.body.code]).toEqual([403, 'human_review_required']);
    const rejectByAgent = await bot2.post(`/api/tasks/${id}/reject`, { reason: 'no' });
    expect([rejectByAgent.status, rejectByAgent.body.code]).toEqual([403, 'human_review_required']);
    expect(await reasonFor(bot2)).toBeUndefined();
    const approved = await ada.post(`/api/tasks/${id}/approve`).expect(200);
    expect(approved.body).toMatchObject({
      status: 'completed',
      artifacts: [{ kind: 'pr', url: 'https://github.com/acme/site/pull/12' }],
      last_handoff: { author_id: 'bot', body: 'Ready: live projects only, as asked.' },
    });

    const steps: [string, string, string][] = [
      ['created', 'ada', 'human'],
      ['started', 'bot', 'agent'],
      ['commented', 'bot', 'agent'],
      ['commented', 'bot', 'agent'],
      ['asked', 'bot', 'agent'],
      ['commented', 'ada', 'human'],
      ['answered', 'ada', 'human'],
      ['artifact_added', 'bot', 'agent'],
      ['commented', 'bot', 'agent'],
      ['review_requested', 'bot', 'agent'],
      ['approved', 'ada', 'human'],
    ];
    const trail = (await ada.get(`/api/tasks/${id}/audit?limit=100`).expect(200)).body;
    expect(
      trail.map((e: { action: string; actor_id: string; actor_type: string }) => [
        e.action,
        e.actor_id,
        e.actor_type,
      ]),
    ).toEqual(steps);
    await stream.until(
      (w) => w.entries.filter((e) => e.task_id === id).length === steps.length,
      'every step on the stream',
    );
    expect(
      stream.entries
        .filter((e) => e.task_id === id)
        .map((e) => [e.action, e.actor_id, e.actor_type]),
    ).toEqual(steps);
    // And to the webhook, in the same order.
    const delivered = await eventually('every step at the webhook', () => {
      const ours = receiver.delivered.filter((r) => r.entry.task_id === id);
      return ours.length === steps.length ? ours : undefined;
    });
    expect(delivered.map((r) => [r.entry.action, r.entry.actor_id, r.entry.actor_type])).toEqual(
      steps,
    );
  } finally {
    await stream.stop();
  }
});
