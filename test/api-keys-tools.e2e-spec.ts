import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import type { Client } from 'pg';
import { auditRows, createProject, registerWorker, signInAdmin, startApp } from './support/board';
import { CompiledCli, compileCli, ok } from './support/cli';
import { callTool, startMcpClient } from './support/mcp';
import { Actor, TestApp } from './support/test-app';

/**
 * The CLI and the MCP server, as child processes, with nothing but TASKFLOW_API_KEY: no login
 * session, no JWT. The CLI also manages the keys (as an admin with a login token).
 */
describe('API keys from the tools: TASKFLOW_API_KEY alone (e2e, child processes)', () => {
  let t: TestApp;
  let db: Client;
  let baseUrl: string;
  let admin: Actor;
  let cli: CompiledCli;
  let mcp: McpClient | undefined;

  beforeAll(async () => {
    cli = compileCli();
    ({ t, db } = await startApp());
    baseUrl = await t.listen();
    admin = await signInAdmin(t);
    await registerWorker(t, admin, { id: 'tool-agent', name: 'Tool agent', type: 'agent' });
    await createProject(admin, 'tools', { members: [['tool-agent', 'member']] });
  });

  afterAll(async () => {
    await mcp?.close();
    await db.end();
    await t.close();
    cli.remove();
  });

  const noConfig = () => ({
    TASKFLOW_URL: baseUrl,
    TASKFLOW_CONFIG: join(cli.workDir, 'none.json'),
  });
  const asAdmin = (...args: string[]) =>
    cli.run(args, { ...noConfig(), TASKFLOW_TOKEN: admin.token });
  const withKey = (key: string, ...args: string[]) =>
    cli.run(args, { ...noConfig(), TASKFLOW_API_KEY: key });

  /** `taskflow keys create`, as the admin: the key printed once. */
  const createKey = async (...options: string[]): Promise<{ key: string; id: string }> => {
    const created = ok(await asAdmin('--json', 'keys', 'create', 'tool-agent', ...options));
    const body = JSON.parse(created.stdout) as { key: string; id: string };
    expect(body.key).toMatch(/^tf_/);
    return body;
  };

  it('the CLI creates, lists and revokes keys; a key alone runs the CLI as the agent', async () => {
    const shown = ok(
      await asAdmin('keys', 'create', 'tool-agent', '--name', 'cli key', '--expires', '30d'),
    );
    const key = /^Key \(shown once, store it now\): (tf_\S+)$/m.exec(shown.stdout)?.[1];
    expect(key).toBeDefined();

    const listed = ok(await asAdmin('keys', 'list', 'tool-agent'));
    expect(listed.stdout).toMatch(/cli key/);
    expect(listed.stdout).not.toContain(key!);
    const [row] = JSON.parse(ok(await asAdmin('--json', 'keys', 'list', 'tool-agent')).stdout);
    const days = (Date.parse(row.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(row).toMatchObject({ scopes: ['read', 'write'], projects: null });

    const me = JSON.parse(ok(await withKey(key!, '--json', 'whoami')).stdout);
    expect(me).toMatchObject({ id: 'tool-agent', worker_type: 'agent', is_admin: false });
    const added = JSON.parse(
      ok(await withKey(key!, '--json', 'add', 'Keyed from the CLI', '--project', 'tools')).stdout,
    );
    ok(await withKey(key!, 'start', String(added.id)));
    const rows = await auditRows(db, added.id, 'action, actor_type, key_id, client');
    expect(rows).toEqual([
      expect.objectContaining({ action: 'created', actor_type: 'agent', key_id: row.id }),
      expect.objectContaining({ action: 'started', actor_type: 'agent', key_id: row.id }),
    ]);
    expect(rows[0].client).toMatch(/^taskflow-cli\//);

    ok(await asAdmin('keys', 'revoke', 'tool-agent', row.id));
    const refused = await withKey(key!, 'list');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/API key revoked/);
    expect(refused.stderr + refused.stdout).not.toContain(key!.slice(3));
  });

  it('the CLI passes scopes, projects and expiry through, and says what the API refuses', async () => {
    const body = JSON.parse(
      ok(
        await asAdmin(
          '--json',
          'keys',
          'create',
          'tool-agent',
          '--name',
          'narrow',
          '--scope',
          'read',
          '--project',
          'tools',
        ),
      ).stdout,
    );
    expect(body).toMatchObject({ scopes: ['read'], projects: ['tools'] });
    const refused = await withKey(body.key, 'add', 'not with a read key', '--project', 'tools');
    expect(refused.code).toBe(3); // 401 and 403: the credential's fault (docs/cli.md)
    expect(refused.stderr).toMatch(/scope "read" only/);
    const tooLong = await asAdmin(
      'keys',
      'create',
      'tool-agent',
      '--name',
      'x',
      '--expires',
      '400d',
    );
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/expires_at must be at most 366 days/);
  });

  it('the MCP server works from TASKFLOW_API_KEY alone, over stdio', async () => {
    const { key, id: keyId } = await createKey('--name', 'mcp key');
    mcp = await startMcpClient(baseUrl, key, 'taskflow-keys-e2e', 'TASKFLOW_API_KEY');
    const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
      const result: CallToolResult = await callTool(mcp!, name, args);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    };
    expect(await data('whoami')).toMatchObject({ id: 'tool-agent', worker_type: 'agent' });
    const task = await data('create_task', { title: 'Keyed over MCP', project_slug: 'tools' });
    await data('claim_task', { id: task.id });
    await data('update_progress', { id: task.id, percent: 40, note: 'halfway there' });
    expect(await data('complete_task', { id: task.id })).toMatchObject({ status: 'completed' });
    const rows = await auditRows(db, task.id, 'action, actor_id, actor_type, key_id');
    expect(rows.map((r) => r.action)).toEqual(['created', 'started', 'progressed', 'completed']);
    for (const r of rows) {
      expect(r).toMatchObject({ actor_id: 'tool-agent', actor_type: 'agent', key_id: keyId });
    }
  });
});
