import { createProject, createTaskId, registerWorker, signInAdmin } from './support/board';
import { CompiledCli, compileCli, ok, runAs } from './support/cli';
import { Actor, TestApp } from './support/test-app';

/** `taskflow comment/comments/ask/answer/artifact/inbox` and the hand-off `--note`s (e2e). */
describe('taskflow CLI: comments, questions, artifacts, inbox and hand-off notes (e2e)', () => {
  let cli: CompiledCli;
  let t: TestApp;
  let baseUrl: string;
  let ada: Actor;
  let eve: Actor;
  let bot: Actor;
  let bot2: Actor;

  beforeAll(async () => {
    cli = compileCli();
    t = await TestApp.start();
    baseUrl = await t.listen();
    const admin = await signInAdmin(t);
    [ada, eve] = await Promise.all(['ada', 'eve'].map((id) => t.actor(id)));
    bot = await registerWorker(t, admin, { id: 'bot', name: 'Bot', type: 'agent' });
    bot2 = await registerWorker(t, admin, { id: 'bot2', name: 'Bot 2', type: 'agent' });
    // Private, so that eve, who is no member, may not even see its tasks.
    for (const slug of ['cli-talk', 'cli-handoff']) {
      await createProject(ada, slug, {
        visibility: 'private',
        members: [
          [bot, 'member'],
          [bot2, 'member'],
        ],
      });
    }
  });

  afterAll(async () => {
    await t?.close();
    cli?.remove();
  });

  const { as, json } = runAs(() => ({ cli, baseUrl }));

  /** A task of `slug` that `holder` has claimed. */
  const claimed = async (holder: Actor, slug = 'cli-talk') => {
    const id = await createTaskId(ada, { title: `work for ${holder.id}`, project_slug: slug });
    await holder.post(`/api/tasks/${id}/start`).expect(200);
    return String(id);
  };

  it('an agent comments and asks, a person finds the question in the inbox and answers it', async () => {
    const id = await claimed(bot);
    const note = ok(await as(bot, 'comment', id, 'Looking at the export'));
    expect(note.stdout).toMatch(/^Kind\s+note$/m);
    expect(note.stdout).toMatch(/^Author\s+bot \(agent\)$/m);
    expect(note.stdout).toMatch(/^Body\s+Looking at the export$/m);

    const asked = ok(await as(bot, 'ask', id, 'Include archived projects?'));
    expect(asked.stdout).toMatch(/^Awaiting input\s+yes/m);

    const inbox = ok(await as(ada, 'inbox'));
    expect(inbox.stdout).toMatch(/^REASON\s+ID\s+STATUS\s+PRIORITY\s+ASSIGNEE\s+PROJECT\s+TITLE$/m);
    expect(inbox.stdout).toMatch(
      new RegExp(
        `^awaiting_input\\s+${id}\\s+in_progress\\s+medium\\s+bot\\s+cli-talk\\s+work for bot$`,
        'm',
      ),
    );
    expect(await json(ada, 'inbox')).toEqual((await ada.get('/api/inbox').expect(200)).body);

    const thread = await json(bot, 'comments', id);
    const question = thread.find((c: { kind: string }) => c.kind === 'question');
    expect(question).toMatchObject({ author_id: 'bot', body: 'Include archived projects?' });
    const answer = ok(
      await as(ada, 'answer', id, 'No, active ones only', '--reply-to', String(question.id)),
    );
    expect(answer.stdout).toMatch(/^Kind\s+answer$/m);
    expect(answer.stdout).toMatch(new RegExp(`^Reply to\\s+${question.id}$`, 'm'));
    expect(ok(await as(bot, 'show', id)).stdout).toMatch(/^Awaiting input\s+-$/m);
    expect(
      (await json(ada, 'inbox')).map((item: { task: { id: number } }) => item.task.id),
    ).not.toContain(Number(id));

    const decision = await json(ada, 'comment', id, 'Ship it Friday', '--kind', 'decision');
    expect(decision).toMatchObject({ kind: 'decision', author_type: 'human', reply_to: null });

    // The thread, oldest first, as a table and by pages.
    const table = ok(await as(bot, 'comments', id));
    expect(table.stdout).toMatch(/^ID\s+TIME\s+AUTHOR\s+TYPE\s+KIND\s+REPLY TO\s+BODY$/m);
    expect(table.stdout).toMatch(
      new RegExp(`\\sada\\s+human\\s+answer\\s+${question.id}\\s+No, active ones only$`, 'm'),
    );
    expect(table.stdout).toMatch(/^4 of 4 comments$/m);
    const first = ok(await as(bot, 'comments', id, '--limit', '3')).stdout;
    expect(first).toMatch(/^3 of 4 comments$/m);
    const cursor = /^next page: --cursor (\S+)/m.exec(first)?.[1];
    expect(cursor).toBeDefined();
    expect(ok(await as(bot, 'comments', id, '--limit', '3', '--cursor', cursor!)).stdout).toMatch(
      /^1 of 4 comments$/m,
    );
    const all = await json(bot, 'comments', id, '--limit', '3', '--all');
    expect(all.map((c: { kind: string }) => c.kind)).toEqual([
      'note',
      'question',
      'answer',
      'decision',
    ]);
  });

  it('refuses with the exit codes: bad input 2, not allowed 3, not visible 4, wrong state 5', async () => {
    const id = await claimed(bot);
    expect((await as(bot, 'comment', id, 'x', '--kind', 'gossip')).code).toBe(2);
    const blank = await as(bot, 'comment', id, '   ');
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain('body');
    // Only the assignee asks, and only while it works on the task; a task nobody may see is
    // not found.
    expect((await as(bot2, 'ask', id, 'Mine?')).code).toBe(3);
    expect((await as(eve, 'comment', id, 'hello')).code).toBe(4);
    expect((await as(eve, 'comments', id)).code).toBe(4);
    const inReview = await claimed(bot);
    await bot.post(`/api/tasks/${inReview}/review`).expect(200);
    expect((await as(bot, 'ask', inReview, 'Too late?')).code).toBe(5);
    const ftp = await as(bot, 'artifact', 'add', id, 'ftp://example.com/log.txt');
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('url');
  });

  it('artifact add and remove: what the work produced, on the task', async () => {
    const id = await claimed(bot);
    const pr = 'https://github.com/acme/site/pull/7';
    const added = ok(
      await as(bot, 'artifact', 'add', id, pr, '--kind', 'pr', '--title', 'Fix the export'),
    );
    expect(added.stdout).toMatch(new RegExp(`^Artifacts\\s+pr  ${pr}  Fix the export$`, 'm'));
    // The same URL replaces its entry; --kind defaults to url.
    const log = 'https://ci.example.com/runs/42';
    ok(await as(bot, 'artifact', 'add', id, log));
    const task = await json(bot, 'artifact', 'add', id, pr, '--kind', 'pr', '--title', 'Fixed');
    expect(task.artifacts).toEqual([
      expect.objectContaining({ kind: 'pr', url: pr, title: 'Fixed', added_by: 'bot' }),
      expect.objectContaining({ kind: 'url', url: log, title: null }),
    ]);
    expect((await json(bot, 'artifact', 'remove', id, pr)).artifacts).toEqual([
      expect.objectContaining({ url: log }),
    ]);
    expect((await as(bot, 'artifact', 'remove', id, pr)).code).toBe(4);
    expect((await as(eve, 'artifact', 'add', id, pr)).code).toBe(4);
  });

  it('review, complete, release and block take a --note: the next holder reads it as the last hand-off', async () => {
    const id = await claimed(bot, 'cli-handoff');
    const released = ok(
      await as(
        bot,
        'release',
        id,
        '--note',
        'Schema done; the API part is left.\nStart from src/tasks.',
      ),
    );
    expect(released.stdout).toMatch(/^Status\s+pending$/m);
    expect(released.stdout).toMatch(/^Last hand-off\s+bot, \S+ \S+Z:$/m);
    expect(released.stdout).toMatch(/^\s+Schema done; the API part is left\.$/m);

    const next = await json(bot2, 'next', '--project', 'cli-handoff');
    expect(next).toMatchObject({
      id: Number(id),
      last_handoff: {
        author_id: 'bot',
        body: 'Schema done; the API part is left.\nStart from src/tasks.',
      },
    });
    const review = await json(bot2, 'review', id, '--note', 'Ready: see the PR');
    expect(review).toMatchObject({
      status: 'review',
      last_handoff: { author_id: 'bot2', body: 'Ready: see the PR' },
    });
    await ada.post(`/api/tasks/${id}/reject`, { reason: 'tests' }).expect(200);
    expect(
      await json(bot2, 'block', id, '--reason', 'CI down', '--note', 'Rerun when CI is back'),
    ).toMatchObject({
      status: 'blocked',
      last_handoff: { body: 'Rerun when CI is back' },
    });
    await bot2.post(`/api/tasks/${id}/unblock`).expect(200);
    expect(await json(bot2, 'complete', id, '--note', 'Done')).toMatchObject({
      status: 'completed',
      last_handoff: { body: 'Done' },
    });

    const handoffs = (await json(ada, 'comments', id)).filter(
      (c: { kind: string }) => c.kind === 'handoff',
    );
    expect(handoffs.map((c: { author_id: string; body: string }) => [c.author_id, c.body])).toEqual(
      [
        ['bot', 'Schema done; the API part is left.\nStart from src/tasks.'],
        ['bot2', 'Ready: see the PR'],
        ['bot2', 'Rerun when CI is back'],
        ['bot2', 'Done'],
      ],
    );
    const audit = await json(ada, 'audit', id, '--limit', '100');
    const released2 = audit.find((e: { action: string }) => e.action === 'released');
    expect(released2.context).toMatchObject({ comment_id: handoffs[0].id });
  });

  it("project create and edit take --review-policy: under human, an agent's work is signed off by a person", async () => {
    const created = ok(
      await as(
        ada,
        'project',
        'create',
        'cli-signoff',
        '--name',
        'Sign-off',
        '--review-policy',
        'human',
      ),
    );
    expect(created.stdout).toMatch(/^Review policy\s+human$/m);
    expect(
      (await as(ada, 'project', 'create', 'cli-x', '--name', 'X', '--review-policy', 'robots'))
        .code,
    ).toBe(2);
    await ada
      .post('/api/projects/cli-signoff/members', { worker_id: 'bot', role: 'member' })
      .expect(201);
    await ada
      .post('/api/projects/cli-signoff/members', { worker_id: 'bot2', role: 'member' })
      .expect(201);

    const id = await claimed(bot, 'cli-signoff');
    const early = await as(bot, 'complete', id, '--note', 'done');
    expect(early.code).toBe(5);
    expect(early.stderr).toContain('review');
    ok(await as(bot, 'review', id, '--note', 'please check'));
    expect((await as(bot2, 'approve', id)).code).toBe(3);
    expect(ok(await as(ada, 'approve', id)).stdout).toMatch(/^Status\s+completed$/m);

    expect(
      ok(await as(ada, 'project', 'edit', 'cli-signoff', '--review-policy', 'other')).stdout,
    ).toMatch(/^Review policy\s+other$/m);
  });
});
