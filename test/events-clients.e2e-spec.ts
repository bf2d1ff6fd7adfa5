import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Client as PgClient } from 'pg';
import { EventFeed } from '../src/events/event-feed';
import {
  auditEntriesSince,
  createProject,
  createTaskId,
  maxAuditId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import { CompiledCli, compileCli } from './support/cli';
import { callTool, startMcpClient } from './support/mcp';
import { Actor, TestApp } from './support/test-app';

/** The event stream's two clients: `taskflow watch` and the MCP tool `wait_for_task`. */
let t: TestApp;
let db: PgClient;
let url: string;
let admin: Actor;
let alice: Actor;
let agent: Actor;

beforeAll(async () => {
  ({ t, db } = await startApp());
  url = await t.listen();
  admin = await signInAdmin(t);
  alice = await registerWorker(t, admin, { id: 'alice', name: 'Alice' });
  agent = await registerWorker(t, admin, { id: 'agent-w', name: 'Waiting agent', type: 'agent' });
  await createProject(alice, 'queue', { members: [[agent, 'member']] });
  // The MCP tests' own project: the CLI test leaves pending tasks in 'queue'.
  await createProject(alice, 'waitq', { members: [[agent, 'member']] });
});

afterAll(() => stopApp(t, db));

describe('taskflow watch', () => {
  let cli: CompiledCli;
  beforeAll(() => (cli = compileCli()));
  afterAll(() => cli.remove());

  it('prints one line per event, resumes after a dropped connection, and --json prints the entries', async () => {
    const since = await maxAuditId(db);
    const env = { TASKFLOW_URL: url, TASKFLOW_TOKEN: alice.token, HOME: cli.workDir };
    const text = cli.spawn(['watch', '--project', 'queue', '--after', String(since)], env);
    const json = cli.spawn(
      ['--json', 'watch', '--action', 'created', '--after', String(since)],
      env,
    );
    let out = '';
    let err = '';
    let jsonOut = '';
    text.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    text.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    json.stdout!.on('data', (chunk: Buffer) => (jsonOut += chunk.toString()));
    const until = async (done: () => boolean, what: string) => {
      for (let i = 0; !done(); i += 1) {
        if (i > 750) throw new Error(`timed out waiting for ${what}\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const first = await createTaskId(alice, { title: 'Watched', project_slug: 'queue' });
      await createTaskId(alice, { title: 'Elsewhere' });
      await until(() => out.includes(`created task ${first}`), 'the first line');
      // Every stream is cut; the CLI reconnects with Last-Event-ID and misses nothing.
      t.app.get(EventFeed).closeAll();
      await alice.post(`/api/tasks/${first}/start`).expect(200);
      const second = await createTaskId(alice, { title: 'After the drop', project_slug: 'queue' });
      await until(() => out.includes(`created task ${second}`), 'the line after the drop');
      await until(() => jsonOut.trim().split('\n').length >= 3, 'three JSON lines');

      const rows = await auditEntriesSince(db, since);
      const queue = rows.filter((r) => r.project_slug === 'queue');
      const lines = out.trim().split('\n');
      expect(lines.map((l) => Number(/#(\d+)/.exec(l)![1]))).toEqual(queue.map((r) => r.id));
      expect(lines[0]).toMatch(
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  #${queue[0].id}  created task ${first} \\[queue\\]  by alice \\(human\\)$`,
        ),
      );
      expect(lines[1]).toContain(`started task ${first} [queue]`);
      expect(err).toContain('disconnected');
      expect(err.match(/^taskflow watch: watching, resumed after #\d+$/gm)).toHaveLength(2);
      const entries = jsonOut
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(entries.map((e) => e.id)).toEqual(
        rows.filter((r) => r.action === 'created').map((r) => r.id),
      );
    } finally {
      text.kill('SIGINT');
      json.kill('SIGINT');
    }
    const [code] = await Promise.all([
      new Promise((resolve) => text.on('exit', resolve)),
      new Promise((resolve) => json.on('exit', resolve)),
    ]);
    expect(code).toBe(0);
  });

  it('refuses a bad filter with the usage exit code, and a missing token with 3', async () => {
    const env = { TASKFLOW_URL: url, TASKFLOW_TOKEN: alice.token, HOME: cli.workDir };
    const bad = await cli.run(['watch', '--action', 'exploded'], env);
    expect(bad.code).toBe(2);
    const none = await cli.run(['watch'], { TASKFLOW_URL: url, HOME: cli.workDir });
    expect(none.code).toBe(3);
  });
});

describe('MCP wait_for_task', () => {
  let client: Client;

  beforeAll(async () => {
    client = await startMcpClient(url, agent.token, 'wait-for-task-e2e');
  });
  afterAll(() => client.close());

  const call = (args: Record<string, unknown>) => callTool(client, 'wait_for_task', args);

  it('blocks until another actor creates a task, then returns it claimed', async () => {
    const feed = t.app.get(EventFeed);
    const before = feed.subscribers;
    const waiting = call({ project: 'waitq', timeout_seconds: 60, lease_seconds: 120 });
    // The tool has found nothing and is following the stream: now someone adds work.
    while (feed.subscribers === before) await new Promise((r) => setTimeout(r, 20));
    const created = await createTaskId(alice, {
      title: 'Work for the agent',
      project_slug: 'waitq',
    });
    const result = await waiting;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      task: { id: created, status: 'in_progress', assigned_to: 'agent-w' },
    });
    expect((result.structuredContent as any).task.lease_expires_at).toEqual(expect.any(String));
    // It stopped following the stream once it had claimed.
    while (feed.subscribers > before) await new Promise((r) => setTimeout(r, 20));
  });

  it('claims at once when a task is already there', async () => {
    const ready = await createTaskId(alice, { title: 'Already there', project_slug: 'waitq' });
    const result = await call({ project: 'waitq', timeout_seconds: 5 });
    expect(result.structuredContent).toMatchObject({ task: { id: ready } });
  });

  it('says so when nothing could be claimed in time', async () => {
    const result = await call({ project: 'waitq', timeout_seconds: 1 });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      task: null,
      message: 'nothing to claim within 1 s',
    });
  });

  it('refuses a timeout over 300 s', async () => {
    const result = await call({ timeout_seconds: 301 });
    expect(result.isError).toBe(true);
  });
});
