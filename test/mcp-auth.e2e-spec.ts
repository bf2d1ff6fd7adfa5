import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import request from 'supertest';
import { decodeJwtClaims } from '../src/client/better-auth';
import { renewalDue } from '../src/client/credentials';
import { readConfig } from '../src/client/login-session';
import { AuthServer, startAuthServer } from './support/auth-server';
import { CompiledCli, compileCli, ok } from './support/cli';
import { HttpRecorder } from './support/http-recorder';
import { TestApp } from './support/test-app';

/**
 * A long-running agent keeps its identity: the MCP server, given the login session that
 * `taskflow login` wrote (not a pasted JWT), renews its token from the real Better Auth server
 * before each one expires. The tokens live 3 s here, and the API allows no clock tolerance, so a
 * server that did not renew would be refused from the first expiry on. HTTP recorders between
 * the MCP server and the API (and the auth server) show which token each request carried and
 * what the server answered.
 */
const ROOT = join(__dirname, '..');
const SERVER_ARGS = ['--require', 'ts-node/register/transpile-only', 'src/mcp/main.ts'];
const LIFETIME_S = 3;

const textOf = (result: CallToolResult): string =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const claimsOf = (token: string | undefined) => {
  const claims = decodeJwtClaims(token ?? '');
  if (!claims?.exp || !claims.iat) throw new Error(`not a JWT with iat and exp: ${token}`);
  return { ...claims, exp: claims.exp, iat: claims.iat };
};

interface McpProcess {
  client: Client;
  stderr: () => string;
  call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

async function startMcp(env: Record<string, string>): Promise<McpProcess> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: SERVER_ARGS,
    cwd: ROOT,
    // Only what is given: nothing of the developer's (TASKFLOW_TOKEN, a config file) may leak in.
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const client = new Client({ name: 'mcp-auth-e2e', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => log,
    call: async (name, args = {}) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
  };
}

/** Waits for the stderr line the server writes after `ready` (a separate pipe from stdout). */
async function stderrLines(mcp: McpProcess, count: number): Promise<string[]> {
  for (let i = 0; i < 100 && mcp.stderr().trim().split('\n').length < count; i++) await sleep(50);
  return mcp.stderr().trim().split('\n');
}

describe('MCP server with a renewable login session (e2e: real Better Auth, real API)', () => {
  let auth: AuthServer;
  let t: TestApp;
  let api: HttpRecorder;
  let authProxy: HttpRecorder;
  let cli: CompiledCli;
  let agentId: string;
  let sessionFile: string;
  let agent: McpProcess;

  /** `taskflow login` as the agent, through the recorders, into `file`. */
  const login = async (file: string) =>
    JSON.parse(
      ok(
        await cli.run(
          [
            '--json',
            'login',
            '--email',
            'agent@example.com',
            '--auth-url',
            authProxy.url,
            '--url',
            api.url,
          ],
          { TASKFLOW_CONFIG: file },
        ),
      ).stdout,
    ) as { user: { id: string } };

  const tokenIn = (file: string) => readConfig(file).token;

  beforeAll(async () => {
    auth = await startAuthServer({ jwtExpiration: `${LIFETIME_S}s` });
    t = await TestApp.start({ env: { JWKS_URL: auth.jwksUrl, JWT_CLOCK_TOLERANCE_S: '0' } });
    api = await HttpRecorder.start(await t.listen());
    authProxy = await HttpRecorder.start(auth.url);
    cli = compileCli();

    sessionFile = join(cli.workDir, 'agent.json');
    agentId = (await login(sessionFile)).user.id;
    const admin = await auth.token('boss@example.com', { admin: true });
    await request(t.server)
      .post('/api/workers')
      .set('Authorization', `Bearer ${admin}`)
      .send({ id: agentId, name: 'Renewing agent', type: 'agent' })
      .expect(201);

    // TASKFLOW_URL too comes from the session file (`taskflow login --url`).
    agent = await startMcp({ TASKFLOW_CONFIG: sessionFile });
  });

  afterAll(async () => {
    await agent?.close();
    await api?.close();
    await authProxy?.close();
    await t?.close();
    await auth?.stop();
    cli?.remove();
  });

  it('says where its identity comes from when it starts', async () => {
    expect(await stderrLines(agent, 1)).toEqual([
      `taskflow-mcp: ready (stdio), API ${api.url}, login session ${sessionFile}, tools core,collab`,
    ]);
  });

  it('works across several token lifetimes without a single 401, on tokens it renewed itself', async () => {
    const from = api.exchanges.length;
    const { id } = (await agent.call('create_task', { title: 'Outlive my token' }))
      .structuredContent as { id: number };
    // The token that call carried, and then past its expiry by two more lifetimes.
    const first = claimsOf(api.since(from)[0].token);
    const until = (first.exp + 2 * LIFETIME_S) * 1000 + 300;
    const results: CallToolResult[] = [];
    while (Date.now() < until) {
      results.push(await agent.call('whoami'), await agent.call('get_task', { id }));
      await sleep(300);
    }
    results.push(await agent.call('claim_task', { id }), await agent.call('complete_task', { id }));

    for (const result of results)
      expect([result.isError, textOf(result)]).toEqual([undefined, expect.any(String)]);
    expect(results[0].structuredContent).toMatchObject({ id: agentId, worker_type: 'agent' });
    expect(results.at(-1)?.structuredContent).toMatchObject({
      status: 'completed',
      assigned_to: agentId,
    });

    const seen = api.since(from);
    // The premise: requests went out after the first token had expired.
    expect(seen.some((e) => e.at > first.exp * 1000)).toBe(true);
    expect(seen.filter((e) => e.status === 401)).toEqual([]);
    expect(seen.every((e) => e.token)).toBe(true);
    // The API saw at least three tokens, issued at three different times.
    const issued = new Set(seen.map((e) => claimsOf(e.token).iat));
    expect(issued.size).toBeGreaterThanOrEqual(3);
    // Renewals went back into the file, where the CLI and other sessions find them.
    expect(tokenIn(sessionFile)).toBe(seen.at(-1)?.token);

    const audit = (await agent.call('task_audit', { id })).structuredContent as {
      entries: { actor_id: string; actor_type: string }[];
    };
    expect(audit.entries.map((e) => [e.actor_id, e.actor_type])).toEqual(
      Array(3).fill([agentId, 'agent']),
    );
  });

  it('concurrent tool calls share one renewal', async () => {
    const current = tokenIn(sessionFile)!;
    const { iat, exp } = claimsOf(current);
    await sleep((iat + 0.8 * (exp - iat)) * 1000 - Date.now() + 100);
    expect(renewalDue(current)).toBe(true);

    const [apiFrom, authFrom] = [api.exchanges.length, authProxy.exchanges.length];
    const results = await Promise.all(Array.from({ length: 8 }, () => agent.call('whoami')));
    for (const result of results) expect(result.isError).toBeUndefined();

    const fetches = authProxy.since(authFrom).filter((e) => e.path === '/api/auth/token');
    expect(fetches).toHaveLength(1);
    const used = new Set(api.since(apiFrom).map((e) => e.token));
    expect(used.size).toBe(1);
    expect(used.has(current)).toBe(false);
  });

  it('a token the API refuses is renewed once and the request sent again', async () => {
    const file = join(cli.workDir, 'refused.json');
    copyFileSync(sessionFile, file);
    // Unexpired, so the server would not renew it on its own; signed by a key the API does not
    // trust, so the API answers 401.
    const foreign = (await t.actor(agentId)).token;
    writeFileSync(file, JSON.stringify({ ...readConfig(file), token: foreign }));
    const mcp = await startMcp({ TASKFLOW_CONFIG: file });
    try {
      const from = api.exchanges.length;
      const me = await mcp.call('whoami');
      expect(me.structuredContent).toMatchObject({ id: agentId });
      const seen = api.since(from);
      expect(seen.map((e) => [e.status, e.token === foreign])).toEqual([
        [401, true],
        [200, false],
      ]);
    } finally {
      await mcp.close();
    }
  });

  it('a signed-out session is a clear tool error, the server stays up, and a new login mends it', async () => {
    const file = join(cli.workDir, 'signed-out.json');
    await login(file);
    const { session, token } = readConfig(file);
    const signOut = await fetch(`${auth.url}/api/auth/sign-out`, {
      method: 'POST',
      headers: { cookie: session!, origin: auth.url, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(signOut.status).toBe(200);
    const { iat, exp } = claimsOf(token);
    await sleep((iat + 0.8 * (exp - iat)) * 1000 - Date.now() + 100);

    const mcp = await startMcp({ TASKFLOW_CONFIG: file });
    try {
      const expired = `the login session in ${file} has expired or was signed out: run \`taskflow login --email <email>\` again with TASKFLOW_CONFIG=${file}`;
      expect(await stderrLines(mcp, 2)).toEqual([
        `taskflow-mcp: ready (stdio), API ${api.url}, login session ${file}, tools core,collab`,
        `taskflow-mcp: ${expired}`,
      ]);
      for (let attempt = 0; attempt < 2; attempt++) {
        const refused = await mcp.call('whoami');
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toBe(`401 Unauthorized: ${expired}`);
        expect(refused.structuredContent).toMatchObject({
          status_code: 401,
          code: 'credentials_unavailable',
        });
      }

      await login(file);
      expect((await mcp.call('whoami')).structuredContent).toMatchObject({ id: agentId });
    } finally {
      await mcp.close();
    }
  });

  it('exits 1 with one line naming the file when there is no session and no TASKFLOW_TOKEN', async () => {
    for (const [contents, reason] of [
      ['{}', /^no credentials: .*sign in as the agent with `TASKFLOW_CONFIG=\S+ taskflow login/],
      ['not json', /is not a JSON object: fix it or run `taskflow login` again$/],
    ] as const) {
      const file = join(cli.workDir, 'nobody.json');
      writeFileSync(file, contents);
      const child = spawn(process.execPath, SERVER_ARGS, {
        cwd: ROOT,
        env: { PATH: process.env.PATH, TASKFLOW_CONFIG: file },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect([code, stdout]).toEqual([1, '']);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].replace(/^taskflow-mcp: /, '')).toMatch(reason);
    }
  });
});
