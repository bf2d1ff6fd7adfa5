import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { createProject, createTaskId, registerWorker, signInAdmin } from './support/board';
import { callTool, connectInProcess, expectWaitProgress, startMcpClient } from './support/mcp';
import { eventually } from './support/webhook-receiver';
import { Actor, TestApp } from './support/test-app';

const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** The collab tools and the hand-off notes of the core moves, driven as an agent runtime does. */
describe('MCP server: comments, questions, artifacts and hand-offs (e2e: stdio, real API)', () => {
  let t: TestApp;
  let ada: Actor;
  let bot: Actor;
  let bot2: Actor;
  let client: Client;
  let baseUrl: string;

  const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const result = await callTool(client, name, args);
    if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
    return result.structuredContent;
  };
  const failure = async (name: string, args: Record<string, unknown>) => {
    const result = await callTool(client, name, args);
    expect(result.isError).toBe(true);
    return { text: textOf(result), body: result.structuredContent };
  };

  /** A task of `slug` that the agent behind the MCP server (bot) has claimed. */
  const claimed = async (slug = 'talk') => {
    const id = await createTaskId(ada, { title: 'agent work', project_slug: slug });
    await bot.post(`/api/tasks/${id}/start`).expect(200);
    return id;
  };

  beforeAll(async () => {
    t = await TestApp.start();
    baseUrl = await t.listen();
    const admin = await signInAdmin(t);
    ada = await t.actor('ada');
    bot = await registerWorker(t, admin, { id: 'bot', name: 'Bot', type: 'agent' });
    bot2 = await registerWorker(t, admin, { id: 'bot2', name: 'Bot 2', type: 'agent' });
    for (const slug of ['talk', 'signoff']) {
      await createProject(ada, slug, {
        visibility: 'private',
        members: [
          [bot, 'member'],
          [bot2, 'member'],
        ],
      });
    }
    await createProject(ada, 'closed', { visibility: 'private', members: [[bot, 'viewer']] });
    await createProject(ada, 'secret', { visibility: 'private' });
    await ada.patch('/api/projects/signoff', { review_policy: 'human' }).expect(200);
    client = await startMcpClient(baseUrl, bot.token, 'collab-e2e');
  });

  afterAll(async () => {
    await client?.close();
    await t?.close();
  });

  it('comment_task and list_comments: the thread, oldest first, paged by cursor', async () => {
    const id = await claimed();
    const note = await data('comment_task', { id, body: 'Starting with the schema' });
    expect(note).toEqual({
      id: expect.any(Number),
      task_id: id,
      author_id: 'bot',
      author_type: 'agent',
      kind: 'note',
      body: 'Starting with the schema',
      reply_to: null,
      created_at: expect.any(String),
    });
    await ada.post(`/api/tasks/${id}/comments`, { body: 'Keep it small' }).expect(201);
    const decision = await data('comment_task', {
      id,
      body: 'One table, no views',
      kind: 'decision',
      reply_to: note.id,
      idempotency_key: 'decide-1',
    });
    expect(decision).toMatchObject({ kind: 'decision', reply_to: note.id });
    // A retry with the same key is the same comment, not a second one.
    expect(
      await data('comment_task', {
        id,
        body: 'One table, no views',
        kind: 'decision',
        reply_to: note.id,
        idempotency_key: 'decide-1',
      }),
    ).toEqual(decision);

    const first = await data('list_comments', { id, limit: 2 });
    expect(first).toMatchObject({ task_id: id, total: 3, next_cursor: expect.any(String) });
    expect(first.comments.map((c: { author_id: string }) => c.author_id)).toEqual(['bot', 'ada']);
    const rest = await data('list_comments', { id, limit: 2, cursor: first.next_cursor });
    expect(rest).toMatchObject({ total: 3, next_cursor: null });
    expect(rest.comments).toEqual([decision]);

    const blank = await failure('comment_task', { id, body: '  ' });
    expect(blank.text).toContain('body must not be blank');
    // A private project's task: a viewer may not write to it, a non-member does not see it.
    const readOnly = await createTaskId(ada, { title: 'read only', project_slug: 'closed' });
    const viewer = await failure('comment_task', { id: readOnly, body: 'hi' });
    expect(viewer.body).toMatchObject({ status_code: 403, code: 'not_project_member' });
    const secret = await createTaskId(ada, { title: 'secret', project_slug: 'secret' });
    for (const [name, args] of [
      ['comment_task', { id: secret, body: 'hi' }],
      ['list_comments', { id: secret }],
      ['add_artifact', { id: secret, kind: 'url', url: 'https://example.com' }],
    ] as const) {
      expect((await failure(name, args)).body).toMatchObject({ status_code: 404 });
    }
  });

  it('ask_human records the question; with wait_seconds it returns the answer a person gives', async () => {
    const id = await claimed();
    const asked = await data('ask_human', { id, question: 'Which locale, en-GB or en-US?' });
    expect(asked).toMatchObject({ task: { id, awaiting_input: true }, answer: null });
    const inbox = (await ada.get('/api/inbox').expect(200)).body;
    expect(inbox).toContainEqual({
      task: expect.objectContaining({ id }),
      reason: 'awaiting_input',
    });
    await ada.post(`/api/tasks/${id}/comments`, { body: 'en-GB', kind: 'answer' }).expect(201);

    const waiting = callTool(client, 'ask_human', {
      id,
      question: 'And the date format?',
      wait_seconds: 120,
    });
    await eventually('the second question', async () => {
      const task = (await ada.get(`/api/tasks/${id}`).expect(200)).body;
      return task.awaiting_input ? true : undefined;
    });
    const answer = await ada
      .post(`/api/tasks/${id}/comments`, { body: 'ISO 8601', kind: 'answer' })
      .expect(201);
    const result = await waiting;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      task: { id, awaiting_input: false },
      answer: { id: answer.body.id, body: 'ISO 8601', author_id: 'ada', kind: 'answer' },
    });

    const audit = (await ada.get(`/api/tasks/${id}/audit?limit=100`).expect(200)).body;
    expect(
      audit
        .filter((e: { action: string }) => ['asked', 'answered'].includes(e.action))
        .map((e: { action: string; actor_type: string }) => [e.action, e.actor_type]),
    ).toEqual([
      ['asked', 'agent'],
      ['answered', 'human'],
      ['asked', 'agent'],
      ['answered', 'human'],
    ]);
  });

  it('ask_human reports progress while it waits for the answer when the call asks for it', async () => {
    const id = await claimed();
    const { client: local, close } = await connectInProcess(baseUrl, bot.token, {
      progressMs: 100,
    });
    const errors: Error[] = [];
    local.onerror = (error) => errors.push(error);
    try {
      const progress: Progress[] = [];
      const waiting = local.callTool(
        { name: 'ask_human', arguments: { id, question: 'Tabs or spaces?', wait_seconds: 120 } },
        undefined,
        { onprogress: (report) => progress.push(report), timeout: 120_000 },
      );
      // The answer comes once the wait has reported a few times, so it ends a reporting wait.
      await eventually('progress reports', () => (progress.length >= 3 ? true : undefined));
      await ada.post(`/api/tasks/${id}/comments`, { body: 'Spaces', kind: 'answer' }).expect(201);
      const result = (await waiting) as CallToolResult;
      expect(result.structuredContent).toMatchObject({
        task: { id, awaiting_input: false },
        answer: { body: 'Spaces', author_id: 'ada' },
      });
      expectWaitProgress(progress, 120, 'waiting for an answer');
      // Nothing after the answer: a notification sent later, for a call the client has closed,
      // would come back here as an error within a few intervals.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('ask_human that gets no answer in time says so, and the task keeps waiting', async () => {
    const id = await claimed();
    const result = await data('ask_human', { id, question: 'Anyone there?', wait_seconds: 1 });
    expect(result).toMatchObject({ task: { id, awaiting_input: true }, answer: null });
    expect(result.message).toMatch(/^no answer within 1 s/);
    const other = await failure('ask_human', {
      id: await createTaskId(ada, { title: 'x' }),
      question: 'Mine?',
    });
    expect(other.text).toMatch(/^(403|409) /);
  });

  it('add_artifact, then request_review with a note and artifacts; a person approves under review_policy human', async () => {
    const id = await claimed('signoff');
    const pr = 'https://github.com/acme/site/pull/7';
    const task = await data('add_artifact', { id, kind: 'pr', url: pr, title: 'Fix the export' });
    expect(task.artifacts).toEqual([
      expect.objectContaining({ kind: 'pr', url: pr, title: 'Fix the export', added_by: 'bot' }),
    ]);
    const ftp = await failure('add_artifact', { id, kind: 'log', url: 'ftp://example.com/x' });
    expect(ftp.text).toContain('url must be an http or https URL');

    // Under review_policy human, an agent's work is finished through a person's review only.
    const early = await failure('complete_task', { id, note: 'done' });
    expect(early.body).toMatchObject({ status_code: 409, code: 'review_required' });
    expect(early.text).toContain("— this project's review policy is human: request_review");

    const log = 'https://ci.example.com/runs/42';
    const review = await data('request_review', {
      id,
      note: 'Ready: the PR and the CI run are attached',
      artifacts: [{ kind: 'log', url: log }],
    });
    expect(review).toMatchObject({
      status: 'review',
      last_handoff: { author_id: 'bot', body: 'Ready: the PR and the CI run are attached' },
    });
    expect(review.artifacts.map((a: { url: string }) => a.url)).toEqual([pr, log]);

    const agentReview = await startMcpClient(baseUrl, bot2.token, 'collab-e2e-reviewer');
    try {
      const refused = await callTool(agentReview, 'approve_task', { id });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toMatchObject({ code: 'human_review_required' });
      expect(textOf(refused)).toMatch(/^403 Forbidden: .* — this project's review policy is human/);
    } finally {
      await agentReview.close();
    }
    await ada.post(`/api/tasks/${id}/approve`).expect(200);
  });

  it('release_task and complete_task with a note: the next agent reads last_handoff through claim_next_task', async () => {
    const id = await claimed();
    const released = await data('release_task', { id, note: 'Half done: the parser is left' });
    expect(released).toMatchObject({ status: 'pending', last_handoff: { author_id: 'bot' } });
    const audit = (await ada.get(`/api/tasks/${id}/audit?limit=100`).expect(200)).body;
    const entry = audit.find((e: { action: string }) => e.action === 'released');
    expect(entry.context).toEqual({ comment_id: released.last_handoff.comment_id });

    const next = await bot2.post('/api/tasks/claim-next', { project: 'talk' }).expect(200);
    expect(next.body).toMatchObject({
      id,
      last_handoff: { author_id: 'bot', body: 'Half done: the parser is left' },
    });
    await bot2.post(`/api/tasks/${id}/release`).expect(200);
    await data('claim_task', { id });
    expect(
      await data('complete_task', {
        id,
        note: 'Parser done',
        artifacts: [{ kind: 'commit', url: 'https://github.com/acme/site/commit/abc123' }],
      }),
    ).toMatchObject({ status: 'completed', last_handoff: { body: 'Parser done' } });
    const blocked = await claimed();
    expect(
      await data('block_task', { id: blocked, reason: 'CI down', note: 'Rerun it' }),
    ).toMatchObject({
      status: 'blocked',
      last_handoff: { body: 'Rerun it' },
    });
  });
});
