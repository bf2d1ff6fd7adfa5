import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Client as Sql } from 'pg';
import { version } from '../package.json';
import { registerWorker, signInAdmin, startApp, stopApp } from './support/board';
import type { Actor, TestApp } from './support/test-app';

/** An agent over MCP in a world of projects: what it sees, where it works, how it is named. */
describe('MCP server: projects, tags and its client name (e2e: stdio)', () => {
  let t: TestApp;
  let db: Sql;
  let owner: Actor;
  let client: Client;

  const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    return result.structuredContent;
  };
  const failure = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    expect(result.isError).toBe(true);
    return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  };

  beforeAll(async () => {
    ({ t, db } = await startApp());
    const baseUrl = await t.listen();
    const admin = await signInAdmin(t);
    const agent = await registerWorker(t, admin, { id: 'agent-p', name: 'Agent P', type: 'agent' });
    owner = await t.actor('owner-p');
    await owner
      .post('/api/projects', { slug: 'mine', name: 'Mine', visibility: 'private' })
      .expect(201);
    await owner
      .post('/api/projects/mine/members', { worker_id: agent.id, role: 'member' })
      .expect(201);
    await owner
      .post('/api/projects', { slug: 'theirs', name: 'Theirs', visibility: 'internal' })
      .expect(201);
    await owner
      .post('/api/projects', { slug: 'hidden', name: 'Hidden', visibility: 'private' })
      .expect(201);

    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'],
      cwd: join(__dirname, '..'),
      env: { TASKFLOW_URL: baseUrl, TASKFLOW_TOKEN: agent.token },
      stderr: 'pipe',
    });
    client = new Client({ name: 'claude-code', version: '2.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    await stopApp(t, db);
  });

  it('lists the projects the agent can see, and works only where it is a member', async () => {
    const listed = await data('list_projects');
    expect(listed.projects.map((p: { slug: string }) => p.slug).sort()).toEqual(['mine', 'theirs']);
    expect(listed.total).toBe(2);

    const inMine = await data('create_task', {
      title: 'Agent work',
      project_slug: 'mine',
      tags: ['ops'],
    });
    expect(inMine.tags).toEqual(['ops']);
    const theirs = (
      await owner.post('/api/tasks', { title: 'Not yours', project_slug: 'theirs' }).expect(201)
    ).body;
    const refused = await failure('claim_task', { id: theirs.id });
    expect(refused).toContain("belongs to project 'theirs', where you are not a member");
    expect(refused).toContain('list_projects');
    // claim_next_task never offers the internal project's task it cannot work on.
    const next = await data('claim_next_task', { project: 'theirs' });
    expect(next).toEqual({ task: null });

    const tagged = await data('list_tasks', { tag: ['ops'] });
    expect(tagged.tasks.map((x: { id: number }) => x.id)).toEqual([inMine.id]);
  });

  it('names itself and the agent runtime in the audit log', async () => {
    const task = await data('create_task', { title: 'Named', project_slug: 'mine' });
    const { rows } = await db.query(`SELECT client FROM audit_entries WHERE task_id = $1`, [
      task.id,
    ]);
    expect(rows).toEqual([{ client: `taskflow-mcp/${version} (claude-code)` }]);
  });
});
