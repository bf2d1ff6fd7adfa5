import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { createProject, createTask, registerWorker, signInAdmin } from './support/board';
import {
  COLLAB_TOOLS,
  connectInProcess,
  CORE_TOOLS,
  expectWaitProgress,
  runMcpToExit,
} from './support/mcp';
import { Actor, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
/** The server from source: ts-node without type checking starts in well under a second. */
const SERVER_COMMAND = process.execPath;
const SERVER_ARGS = ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'];

/** The default groups: core and collab. */
const TOOLS = [...CORE_TOOLS, ...COLLAB_TOOLS].sort();

const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('MCP server (e2e: stdio, real API, real PostgreSQL)', () => {
  let t: TestApp;
  let baseUrl: string;
  let alice: Actor;
  let agentToken: string;
  let client: Client;
  let serverLog = '';

  /** Calls a tool the way an agent runtime does, and keeps the result whatever it says. */
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  /** A successful call's structured result, after checking the text says the same. */
  const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const result = await call(name, args);
    if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
    return result.structuredContent;
  };

  beforeAll(async () => {
    t = await TestApp.start();
    baseUrl = await t.listen();
    const admin = await signInAdmin(t);
    const agent = await registerWorker(t, admin, {
      id: 'agent-mcp',
      name: 'MCP agent',
      type: 'agent',
    });
    agentToken = agent.token;
    alice = await t.actor('alice');
    // The projects the agent's runs below work in: alice owns them, the agent is a member.
    for (const slug of ['mcp-run', 'mcp-next', 'mcp-pages', 'mcp-wait']) {
      await createProject(alice, slug, { members: [[agent, 'member']] });
    }

    const transport = new StdioClientTransport({
      command: SERVER_COMMAND,
      args: SERVER_ARGS,
      cwd: ROOT,
      env: { TASKFLOW_URL: baseUrl, TASKFLOW_TOKEN: agentToken },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    client = new Client({ name: 'taskflow-mcp-e2e', version: '1.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    await t?.close();
  });

  it('starts over stdio, logging only to stderr', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'taskflow' });
    expect(client.getInstructions()).toContain('claim_task');
    // stderr is another pipe than stdout: the line may trail the initialize answer a little.
    for (let i = 0; i < 50 && !serverLog.includes('ready'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(serverLog).toBe(`taskflow-mcp: ready (stdio), API ${baseUrl}, tools core,collab\n`);
  });

  it('lists every tool, each with a described input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description).toBeTruthy();
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.inputSchema).toMatchObject({ additionalProperties: false });
      // As a triple, so a failure names the tool and field whose description is missing.
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect([tool.name, field, (schema as { description?: string }).description]).toEqual([
          tool.name,
          field,
          expect.any(String),
        ]);
      }
    }
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(byName.update_progress.inputSchema).toMatchObject({
      required: ['id', 'percent'],
      properties: { percent: { type: 'integer', minimum: 0, maximum: 100 } },
    });
    expect(byName.list_tasks.inputSchema.properties).toMatchObject({
      status: { enum: ['pending', 'in_progress', 'review', 'completed', 'blocked', 'failed'] },
      priority: { enum: ['low', 'medium', 'high', 'critical'] },
      limit: { minimum: 1, maximum: 100 },
      offset: { minimum: 0 },
    });
    expect((byName.list_tasks.inputSchema.properties as any).sort.enum).toHaveLength(10);
    expect(byName.create_task.inputSchema.required).toEqual(['title']);
    expect(byName.update_task.inputSchema.required).toEqual(['id']);
    expect(byName.whoami.inputSchema.properties).toEqual({});
    expect(byName.list_tasks.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.claim_task.annotations).toMatchObject({ readOnlyHint: false });
  });

  it('whoami: the agent as itself', async () => {
    expect(await data('whoami')).toMatchObject({
      id: 'agent-mcp',
      worker_type: 'agent',
      is_admin: false,
    });
  });

  it('list_tasks pages by next_cursor until it is null', async () => {
    const ids: number[] = [];
    for (const title of ['a', 'b', 'c', 'd', 'e']) {
      // Blocked, so that no claim_next_task below takes them.
      const task = { title, project_slug: 'mcp-pages', tags: ['paged'], status: 'blocked' };
      ids.push((await data('create_task', task)).id);
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await data('list_tasks', { tag: ['paged'], sort: '-id', limit: 2, cursor });
      expect(result).toMatchObject({ total: 5, total_estimated: false, limit: 2 });
      expect(result.offset).toBe(cursor === undefined ? 0 : undefined);
      seen.push(...result.tasks.map((task: { id: number }) => task.id));
      if (result.next_cursor === null) break;
      cursor = result.next_cursor;
    }
    expect(seen).toEqual([...ids].reverse());

    const mismatch = await call('list_tasks', { tag: ['other'], cursor });
    expect(mismatch.isError).toBe(true);
    expect(textOf(mismatch)).toMatch(/cursor/);
  });

  it('a full agent run: create, find, claim, progress, complete, and the audit trail says who', async () => {
    const created = await data('create_task', {
      title: 'Summarise the incident',
      priority: 'high',
      project_slug: 'mcp-run',
    });
    expect(created).toMatchObject({
      status: 'pending',
      created_by: 'agent-mcp',
      assigned_to: null,
    });

    const page = await data('list_tasks', { project: 'mcp-run', status: 'pending', limit: 10 });
    expect(page).toMatchObject({ total: 1, limit: 10, offset: 0 });
    expect(page.tasks.map((task: { id: number }) => task.id)).toEqual([created.id]);

    expect(await data('claim_task', { id: created.id })).toMatchObject({
      status: 'in_progress',
      assigned_to: 'agent-mcp',
    });
    expect(
      await data('update_progress', { id: created.id, percent: 40, note: 'timeline drafted' }),
    ).toMatchObject({ status: 'in_progress', progress_percent: 40 });
    expect(await data('complete_task', { id: created.id })).toMatchObject({
      status: 'completed',
      progress_percent: 100,
    });
    expect(await data('get_task', { id: created.id })).toMatchObject({ status: 'completed' });

    const audit = await data('task_audit', { id: created.id });
    expect(audit.total).toBe(4);
    expect(audit.entries).toEqual([
      expect.objectContaining({ action: 'created' }),
      expect.objectContaining({ action: 'started' }),
      expect.objectContaining({
        action: 'progressed',
        context: { percent: 40, note: 'timeline drafted' },
      }),
      expect.objectContaining({ action: 'completed' }),
    ]);
    for (const entry of audit.entries) {
      expect(entry).toMatchObject({ actor_id: 'agent-mcp', actor_type: 'agent' });
    }
  });

  it("reviews another agent's work with approve_task and reject_task, never its own", async () => {
    const other = await t.actor('agent-other');
    const work = await createTask(other, { title: 'to review' });
    await other.post(`/api/tasks/${work.id}/start`).expect(200);
    await other.post(`/api/tasks/${work.id}/review`).expect(200);
    expect(await data('reject_task', { id: work.id, reason: 'no tests' })).toMatchObject({
      status: 'in_progress',
      assigned_to: 'agent-other',
    });
    await other.post(`/api/tasks/${work.id}/review`).expect(200);
    expect(await data('approve_task', { id: work.id })).toMatchObject({
      status: 'completed',
      progress_percent: 100,
    });

    const own = await data('create_task', { title: 'my own' });
    await data('claim_task', { id: own.id });
    await data('request_review', { id: own.id });
    const refused = await call('approve_task', { id: own.id });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(
      /^403 Forbidden: .* — you are its assignee: another worker or an admin has to approve or reject it$/,
    );
    expect(refused.structuredContent).toMatchObject({ code: 'reviewer_is_assignee' });
    expect(await data('assign_task', { id: own.id, worker: 'alice' })).toMatchObject({
      status: 'review',
      assigned_to: 'alice',
    });
    await alice.post(`/api/tasks/${own.id}/reject`, { reason: 'redo' }).expect(403);

    const done = await data('create_task', { title: 'done too early' });
    await data('claim_task', { id: done.id });
    await data('complete_task', { id: done.id });
    expect(await data('reopen_task', { id: done.id })).toMatchObject({ status: 'in_progress' });
  });

  it('claim_next_task, heartbeat_task and dependencies: the agent takes ready work in order', async () => {
    const first = await data('create_task', {
      title: 'first step',
      project_slug: 'mcp-next',
      priority: 'low',
    });
    const second = await data('create_task', {
      title: 'second step',
      project_slug: 'mcp-next',
      priority: 'critical',
    });
    expect(await data('add_dependency', { id: second.id, depends_on: first.id })).toMatchObject({
      blocked_by: [first.id],
    });
    // The critical task waits for the low one, so the low one comes first.
    const claimed = await data('claim_next_task', {
      project: 'mcp-next',
      lease_seconds: 120,
      idempotency_key: 'next-1',
    });
    expect(claimed.task).toMatchObject({ id: first.id, assigned_to: 'agent-mcp' });
    expect(claimed.task.lease_expires_at).toEqual(expect.any(String));
    // A retry with the same key gets the same answer, not a second task.
    const retried = await data('claim_next_task', {
      project: 'mcp-next',
      lease_seconds: 120,
      idempotency_key: 'next-1',
    });
    expect(retried.task.id).toBe(first.id);
    expect(await data('claim_next_task', { project: 'mcp-next' })).toEqual({ task: null });
    const beat = await data('heartbeat_task', { id: first.id, lease_seconds: 600 });
    expect(new Date(beat.lease_expires_at).getTime()).toBeGreaterThan(
      new Date(claimed.task.lease_expires_at).getTime(),
    );
    await data('complete_task', { id: first.id });
    expect((await data('claim_next_task', { project: 'mcp-next' })).task).toMatchObject({
      id: second.id,
    });
    expect(await data('remove_dependency', { id: second.id, depends_on: first.id })).toEqual({
      id: second.id,
      removed_dependency: first.id,
    });
  });

  it('update_task, request_review, block_task and release_task reach their routes', async () => {
    const { id } = await data('create_task', { title: 'Triage the backlog' });
    expect(
      await data('update_task', { id, description: 'Oldest first', due_date: '2026-12-01' }),
    ).toMatchObject({ description: 'Oldest first', due_date: '2026-12-01T00:00:00.000Z' });
    await data('claim_task', { id });
    expect(await data('release_task', { id })).toMatchObject({
      status: 'pending',
      assigned_to: null,
    });
    await data('claim_task', { id });
    expect(await data('request_review', { id })).toMatchObject({ status: 'review' });
    expect(await data('block_task', { id, reason: 'waiting for the API key' })).toMatchObject({
      status: 'blocked',
    });
    const audit = await data('task_audit', { id, offset: 1, limit: 100 });
    expect(audit.entries.map((e: { action: string }) => e.action)).toEqual([
      'updated',
      'started',
      'released',
      'started',
      'review_requested',
      'blocked',
    ]);
    expect(audit.entries[5].context).toEqual({ reason: 'waiting for the API key' });
  });

  it('report_usage adds to the task and blocks it past its budget; fail_task counts an attempt, or fails for good', async () => {
    const { id } = await data('create_task', { title: 'Summarise the incident' });
    await alice.patch(`/api/tasks/${id}`, { budget_usd: '0.05' }).expect(200);
    await data('claim_task', { id });
    expect(
      await data('report_usage', {
        id,
        model: 'claude-sonnet-4',
        input_tokens: 1200,
        output_tokens: 300,
        cost_usd: '0.02',
      }),
    ).toMatchObject({
      status: 'in_progress',
      usage: { input_tokens: 1200, output_tokens: 300, cost_usd: '0.02' },
    });
    // A cost that is not a decimal is refused by the tool's schema, before any request.
    const bad = await call('report_usage', {
      id,
      model: 'm',
      input_tokens: 1,
      output_tokens: 1,
      cost_usd: '1e-3',
    });
    expect(bad.isError).toBe(true);
    expect(
      await data('report_usage', {
        id,
        model: 'claude-sonnet-4',
        input_tokens: 1,
        output_tokens: 1,
        cost_usd: '0.04',
      }),
    ).toMatchObject({ status: 'blocked', usage: { cost_usd: '0.06' } });

    // A person raises the budget and unblocks; the agent's attempt then fails, retryably.
    await alice.patch(`/api/tasks/${id}`, { budget_usd: '1' }).expect(200);
    const root = await t.actor({ id: 'root', role: 'admin' });
    await root.post(`/api/tasks/${id}/unblock`).expect(200);
    const failed = await data('fail_task', { id, reason: 'the model ran out of context' });
    expect(failed).toMatchObject({
      status: 'pending',
      assigned_to: null,
      attempts: 1,
      last_error: 'the model ran out of context',
    });
    expect(failed.not_before).toEqual(expect.any(String));

    // Not retryable: failed at once, for a person to retry.
    const other = await data('create_task', { title: 'Translate the spec' });
    await data('claim_task', { id: other.id });
    expect(
      await data('fail_task', { id: other.id, reason: 'no such language', retryable: false }),
    ).toMatchObject({ status: 'failed', attempts: 1 });
    const audit = await data('task_audit', { id: other.id, limit: 100 });
    expect(audit.entries.at(-1)).toMatchObject({
      action: 'failed',
      actor_id: 'agent-mcp',
      actor_type: 'agent',
      context: { reason: 'no such language', retryable: false, attempt: 1 },
    });
  });

  it('a lost claim race is a tool error that says another worker won', async () => {
    const task = await alice.post('/api/tasks', { title: 'Fix the login page' }).expect(201);
    await alice.post(`/api/tasks/${task.body.id}/start`).expect(200);

    const result = await call('claim_task', { id: task.body.id });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `409 Conflict: Task ${task.body.id} is 'in_progress' (claimed by alice); start needs it to be 'pending' — another worker claimed it first (or you already hold it: get_task tells); pick another task (list_tasks with status 'pending')`,
    );
    expect(result.structuredContent).toMatchObject({ status_code: 409, code: 'task_claimed' });
    const after = await alice.get(`/api/tasks/${task.body.id}`).expect(200);
    expect(after.body).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
  });

  it('rejects a percent out of range by its schema, before any request', async () => {
    const { id } = await data('create_task', { title: 'Percent check' });
    await data('claim_task', { id });
    const result = await call('update_progress', { id, percent: 150 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('update_progress');
    expect(textOf(result)).toContain('percent must be 0–100');
    expect(await data('get_task', { id })).toMatchObject({ progress_percent: 0 });

    const typo = await call('update_task', { id, titel: 'typo' });
    expect(typo.isError).toBe(true);
    expect(textOf(typo)).toContain("Unrecognized key(s) in object: 'titel'");
  });

  it('update_task with if_version applies only to the version read, else a 412 with its hint', async () => {
    const { id, version } = await data('create_task', { title: 'Shared with a person' });
    expect(await data('update_task', { id, priority: 'high', if_version: version })).toMatchObject({
      priority: 'high',
      version: version + 1,
    });
    await alice.patch(`/api/tasks/${id}`, { title: 'Renamed by a person' }).expect(200);
    const stale = await call('update_task', { id, priority: 'low', if_version: version + 1 });
    expect(stale.isError).toBe(true);
    expect(stale.structuredContent).toMatchObject({
      status_code: 412,
      code: 'precondition_failed',
    });
    expect(textOf(stale)).toMatch(
      /^412 Precondition Failed: .* — the task changed since you read it/,
    );
    expect(await data('get_task', { id })).toMatchObject({ priority: 'high' });
  });

  it("passes the API's own rejections through with their status", async () => {
    const { id } = await data('create_task', { title: 'Not started yet' });
    const conflict = await call('update_progress', { id, percent: 10 });
    expect(conflict.isError).toBe(true);
    expect(textOf(conflict)).toBe(
      `409 Conflict: Task ${id} is 'pending'; progress needs it to be 'in_progress'`,
    );

    const missing = await call('get_task', { id: 999_999 });
    expect(textOf(missing)).toBe('404 Not Found: Task 999999 not found');

    const held = await alice.post('/api/tasks', { title: "Alice's" }).expect(201);
    await alice.post(`/api/tasks/${held.body.id}/start`).expect(200);
    const forbidden = await call('complete_task', { id: held.body.id });
    expect(textOf(forbidden)).toMatch(/^403 Forbidden: Task \d+ is assigned to alice/);
  });

  it('exits 1 with one clear stderr line when it has no credentials', async () => {
    const { code, stdout, stderr } = await runMcpToExit({
      TASKFLOW_URL: baseUrl,
      TASKFLOW_CONFIG: '/nonexistent.json',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^taskflow-mcp: no credentials: .*or set TASKFLOW_TOKEN/),
    ]);
  });

  describe('in-process (the same server on an in-memory transport)', () => {
    it('an unreachable API is a tool error that says so', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const url = `http://127.0.0.1:${closedPort}`;
      const { client: local, close } = await connectInProcess(url, agentToken);
      try {
        const result = (await local.callTool({
          name: 'list_tasks',
          arguments: {},
        })) as CallToolResult;
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(
          /^Cannot reach the TaskFlow API \(.+\) — is the API running at (.+)\? \(TASKFLOW_URL\)$/,
        );
        expect(textOf(result)).toContain(`running at ${url}?`);
      } finally {
        await close();
      }
    });

    it('a refused token is a 401 tool error that names TASKFLOW_TOKEN and the login session', async () => {
      const { client: local, close } = await connectInProcess(baseUrl, 'not-a-jwt');
      try {
        const result = (await local.callTool({ name: 'whoami', arguments: {} })) as CallToolResult;
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(
          /^401 Unauthorized: .+ — the agent's token was refused: a pasted TASKFLOW_TOKEN expires .*login session/,
        );
      } finally {
        await close();
      }
    });

    it('wait_for_task reports progress while it waits when the call asks for it, and none after', async () => {
      const { client: local, close } = await connectInProcess(baseUrl, agentToken, {
        progressMs: 100,
      });
      // A progress notification for a call that has been answered is one the client cannot
      // place: it reports it here.
      const errors: Error[] = [];
      local.onerror = (error) => errors.push(error);
      const wait = {
        name: 'wait_for_task',
        arguments: { project: 'mcp-wait', timeout_seconds: 2 },
      };
      const nothing = { task: null, message: 'nothing to claim within 2 s' };
      try {
        const progress: Progress[] = [];
        const result = (await local.callTool(wait, undefined, {
          onprogress: (report) => progress.push(report),
        })) as CallToolResult;
        expect(result.structuredContent).toEqual(nothing);
        expectWaitProgress(progress, 2, 'waiting for a claimable task');
        const reported = progress.length;

        // Without onprogress the call carries no progress token: the same wait, nothing sent.
        const plain = (await local.callTool(wait)) as CallToolResult;
        expect(plain.structuredContent).toEqual(nothing);
        expect(progress).toHaveLength(reported);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  });
});
