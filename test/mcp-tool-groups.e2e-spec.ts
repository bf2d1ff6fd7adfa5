import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { registerWorker, signInAdmin } from './support/board';
import {
  ADMIN_TOOLS as ADMIN,
  callTool,
  COLLAB_TOOLS as COLLAB,
  CORE_TOOLS as CORE,
  runMcpToExit,
  startMcpClient,
} from './support/mcp';
import { Actor, TestApp } from './support/test-app';

const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** TASKFLOW_MCP_TOOLS: each group alone, the default, a bad value; and the admin group's tools. */
describe('MCP tool groups (e2e: stdio, real API)', () => {
  let t: TestApp;
  let baseUrl: string;
  let admin: Actor;
  let agent: Actor;
  const clients: Client[] = [];

  /** The server as a runtime starts it, with these groups (undefined: the variable unset). */
  const start = async (token: string, tools?: string) => {
    const env: Record<string, string> = tools === undefined ? {} : { TASKFLOW_MCP_TOOLS: tools };
    const client = await startMcpClient(baseUrl, token, 'tool-groups-e2e', 'TASKFLOW_TOKEN', env);
    clients.push(client);
    return client;
  };
  const names = async (client: Client) =>
    (await client.listTools()).tools.map((tool) => tool.name).sort();

  beforeAll(async () => {
    t = await TestApp.start();
    baseUrl = await t.listen();
    const root = await signInAdmin(t);
    agent = await registerWorker(t, root, { id: 'agent-groups', name: 'Groups', type: 'agent' });
    // An agent that administers: an admin token for a registered agent.
    await root
      .post('/api/workers', { id: 'agent-admin', name: 'Admin', type: 'agent' })
      .expect(201);
    admin = await t.actor({ id: 'agent-admin', role: 'admin' });
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await t?.close();
  });

  it('lists core and collab by default', async () => {
    const client = await start(agent.token);
    expect(await names(client)).toEqual([...CORE, ...COLLAB].sort());
    expect(client.getInstructions()).toContain('claim_task');
  });

  it.each([
    ['core', CORE],
    ['admin', ADMIN],
    [' admin , core ', [...ADMIN, ...CORE]],
    ['core,collab,admin', [...CORE, ...COLLAB, ...ADMIN]],
  ])('TASKFLOW_MCP_TOOLS=%j lists only those groups', async (tools, expected) => {
    const client = await start(agent.token, tools);
    expect(await names(client)).toEqual([...expected].sort());
    // The instructions name no tool the model cannot call.
    expect(client.getInstructions()?.includes('claim_task')).toBe(expected.includes('claim_task'));
  });

  it('a tool of a group not loaded is unknown to the server', async () => {
    const client = await start(agent.token, 'admin');
    const result = await callTool(client, 'claim_next_task');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('claim_next_task not found');
  });

  it('exits 1 with one clear stderr line for an unknown group', async () => {
    const { code, stdout, stderr } = await runMcpToExit({
      TASKFLOW_URL: baseUrl,
      TASKFLOW_TOKEN: agent.token,
      TASKFLOW_MCP_TOOLS: 'core,admn',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "taskflow-mcp: TASKFLOW_MCP_TOOLS: unknown tool group 'admn'; the groups are core, collab, admin (default core,collab)\n",
    );
  });

  describe('the admin group, used by an admin agent', () => {
    let client: Client;
    const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
      const result = await callTool(client, name, args);
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
      return result.structuredContent;
    };

    beforeAll(async () => {
      client = await start(admin.token, 'admin');
    });

    it('registers a worker, grants capabilities, sets up a project and its members', async () => {
      expect(
        await data('register_worker', { id: 'agent-new', name: 'New', type: 'agent' }),
      ).toMatchObject({ id: 'agent-new', type: 'agent', capabilities: [] });
      expect(
        await data('update_worker', { id: 'agent-new', capabilities: ['python'] }),
      ).toMatchObject({ id: 'agent-new', capabilities: ['python'] });
      const agents = await data('list_workers', { type: 'agent', limit: 10 });
      expect(agents).toMatchObject({ limit: 10, offset: 0 });
      expect(agents.workers.map((w: { id: string }) => w.id).sort()).toEqual([
        'agent-admin',
        'agent-groups',
        'agent-new',
      ]);
      expect(agents.total).toBe(3);

      expect(
        await data('create_project', {
          slug: 'ops',
          name: 'Ops',
          visibility: 'private',
          review_policy: 'human',
        }),
      ).toMatchObject({
        slug: 'ops',
        owner: 'agent-admin',
        visibility: 'private',
        review_policy: 'human',
      });
      expect(
        await data('set_project_member', { slug: 'ops', worker_id: 'agent-new', role: 'member' }),
      ).toMatchObject({ project_slug: 'ops', worker_id: 'agent-new', role: 'member' });
      const members = await admin.get('/api/projects/ops/members').expect(200);
      expect(members.body.map((m: { worker_id: string }) => m.worker_id).sort()).toEqual([
        'agent-admin',
        'agent-new',
      ]);
      expect(await data('remove_project_member', { slug: 'ops', worker_id: 'agent-new' })).toEqual({
        slug: 'ops',
        removed_member: 'agent-new',
      });

      // Recorded as the agent it is.
      const audit = await admin.get('/api/audit?actor_id=agent-admin').expect(200);
      expect(audit.body.map((e: { action: string }) => e.action)).toEqual(
        expect.arrayContaining(['worker_registered', 'worker_updated', 'member_added']),
      );
      for (const entry of audit.body) expect(entry.actor_type).toBe('agent');
    });

    it("passes the API's refusals through: a non-admin registering an agent is a 403", async () => {
      const own = await start(agent.token, 'admin');
      const result = await callTool(own, 'register_worker', {
        id: 'agent-rogue',
        name: 'Rogue',
        type: 'agent',
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^403 Forbidden: /);
      const bad = await callTool(client, 'create_project', { slug: 'Not A Slug', name: 'x' });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toContain('slug must be 1–100 of a-z, 0-9 and -');
    });
  });
});
