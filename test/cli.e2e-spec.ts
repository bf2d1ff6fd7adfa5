import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthServer, startAuthServer } from './support/auth-server';
import { createProject } from './support/board';
import { CompiledCli, Run, compileCli, ok } from './support/cli';
import { Actor, TestApp } from './support/test-app';

let cli: CompiledCli;
let workDir: string;

beforeAll(() => {
  cli = compileCli();
  workDir = cli.workDir;
});

afterAll(() => cli?.remove());

const taskflow = (args: string[], env: Record<string, string>): Promise<Run> => cli.run(args, env);

describe('taskflow CLI (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;
  let alice: Actor;
  let bob: Actor;

  beforeAll(async () => {
    t = await TestApp.start();
    baseUrl = await t.listen();
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    // The projects the tests below work in: alice and bob both work on their tasks.
    for (const slug of [
      'cli-flow',
      'cli-next',
      'cli-json',
      'cli-mine',
      'cli-versions',
      'cli-pages',
    ]) {
      await createProject(alice, slug, { members: [[bob, 'member']] });
    }
  });

  afterAll(() => t?.close());

  /** As `actor`, with no config file: the environment alone configures the CLI. */
  const as = (actor: Actor, ...args: string[]) =>
    taskflow(args, {
      TASKFLOW_URL: baseUrl,
      TASKFLOW_TOKEN: actor.token,
      TASKFLOW_CONFIG: join(workDir, 'none.json'),
    });
  const json = async (actor: Actor, ...args: string[]) =>
    JSON.parse(ok(await as(actor, '--json', ...args)).stdout);

  it('takes a task from add to approval, and the audit log shows every step by its actor', async () => {
    const added = ok(await as(alice, 'add', 'Write the CLI guide', '--project', 'cli-flow'));
    const id = Number(/^ID\s+(\d+)$/m.exec(added.stdout)?.[1]);
    expect(added.stdout).toMatch(/^Title\s+Write the CLI guide$/m);
    expect(added.stdout).toMatch(/^Status\s+pending$/m);

    const list = ok(await as(alice, 'list', '--project', 'cli-flow'));
    expect(list.stdout).toMatch(
      /^ID\s+STATUS\s+PRIORITY\s+PROGRESS\s+ASSIGNEE\s+PROJECT\s+TAGS\s+TITLE$/m,
    );
    expect(list.stdout).toMatch(
      new RegExp(
        `^${id}\\s+pending\\s+medium\\s+0%\\s+-\\s+cli-flow\\s+-\\s+Write the CLI guide$`,
        'm',
      ),
    );
    expect(list.stdout).toMatch(/^1 of 1 tasks$/m);
    expect(ok(await as(alice, 'show', String(id))).stdout).toContain('Write the CLI guide');

    expect(ok(await as(alice, 'start', String(id))).stdout).toMatch(/^Assigned to\s+alice$/m);
    expect(ok(await as(alice, 'progress', String(id), '40', '--note', 'draft')).stdout).toMatch(
      /^Progress\s+40%$/m,
    );
    expect(ok(await as(alice, 'review', String(id))).stdout).toMatch(/^Status\s+review$/m);
    // Review is someone else's: the assignee's own approval is refused (403: exit 3).
    const own = await as(alice, 'approve', String(id));
    expect(own.code).toBe(3);
    expect(own.stderr).toContain('someone else (or an admin) must approve it');
    expect((await as(bob, 'reject', String(id))).code).toBe(2); // --reason is required
    expect(ok(await as(bob, 'reject', String(id), '--reason', 'add examples')).stdout).toMatch(
      /^Status\s+in_progress$/m,
    );
    ok(await as(alice, 'review', String(id)));
    expect(ok(await as(bob, 'approve', String(id))).stdout).toMatch(/^Status\s+completed$/m);

    const [entries, table] = await Promise.all([
      json(alice, 'audit', String(id)),
      as(alice, 'audit', String(id)),
    ]);
    expect(entries.map((e: any) => [e.action, e.actor_id])).toEqual([
      ['created', 'alice'],
      ['started', 'alice'],
      ['progressed', 'alice'],
      ['review_requested', 'alice'],
      ['rejected', 'bob'],
      ['review_requested', 'alice'],
      ['approved', 'bob'],
    ]);
    expect(entries[2].context).toEqual({ percent: 40, note: 'draft' });
    expect(entries[4].context).toEqual({ reason: 'add examples' });
    expect(ok(table).stdout).toMatch(/alice\s+human\s+progressed\s+.*percent: 40/);
    expect(table.stdout).toMatch(/^7 of 7 entries$/m);
  });

  it("reopen and assign are the assignee's moves, refused with the auth and conflict exit codes", async () => {
    const { id } = (await alice.post('/api/tasks', { title: 'CLI moves' }).expect(201)).body;
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    await alice.post(`/api/tasks/${id}/complete`).expect(200);
    // Reopening is the assignee's; handing the task over is too.
    expect((await as(bob, 'reopen', String(id))).code).toBe(3);
    expect(ok(await as(alice, 'reopen', String(id))).stdout).toMatch(/^Status\s+in_progress$/m);
    expect(ok(await as(alice, 'assign', String(id), 'bob')).stdout).toMatch(/^Assigned to\s+bob$/m);
    expect((await as(alice, 'assign', String(id), 'alice')).code).toBe(3);
    // A task in progress keeps a holder: unassigning it is a conflict (exit 5).
    expect((await as(bob, 'assign', String(id), '')).code).toBe(5);
  });

  it('next claims the best ready task, with a lease; depend makes a task wait', async () => {
    const first = await json(
      alice,
      'add',
      'lay the foundation',
      '--project',
      'cli-next',
      '--priority',
      'low',
    );
    const second = await json(
      alice,
      'add',
      'build the walls',
      '--project',
      'cli-next',
      '--priority',
      'critical',
    );
    expect((await json(alice, 'depend', String(second.id), String(first.id))).blocked_by).toEqual([
      first.id,
    ]);

    const claimed = await json(alice, 'next', '--project', 'cli-next', '--lease', '120');
    expect(claimed).toMatchObject({
      id: first.id,
      assigned_to: 'alice',
      lease_expires_at: expect.any(String),
    });
    expect(ok(await as(alice, 'next', '--project', 'cli-next')).stdout).toContain(
      'nothing to claim right now',
    );
    expect(await json(alice, 'next', '--project', 'cli-next')).toBeNull();
    ok(await as(alice, 'heartbeat', String(first.id), '--lease', '300'));
    ok(await as(alice, 'complete', String(first.id)));
    expect((await json(alice, 'next', '--project', 'cli-next')).id).toBe(second.id);
    ok(await as(alice, 'undepend', String(second.id), String(first.id)));

    // The same --idempotency-key makes a repeated command apply once.
    const addOnce = ['--idempotency-key', 'cli-once', 'add', 'only once', '--project', 'cli-next'];
    const once = await json(alice, ...addOnce);
    const twice = await json(alice, ...addOnce);
    expect(twice.id).toBe(once.id);
  });

  it('prints exactly what the API returns with --json', async () => {
    const created = await alice
      .post('/api/tasks', { title: 'JSON me', project_slug: 'cli-json', priority: 'high' })
      .expect(201);
    const id = created.body.id as number;
    const [task, tasks, audit, me, workers] = await Promise.all([
      json(bob, 'show', String(id)),
      json(bob, 'list', '--project', 'cli-json', '--priority', 'high'),
      json(bob, 'audit', '--actor', 'alice', '--action', 'created', '--limit', '100'),
      json(bob, 'whoami'),
      json(bob, 'workers'),
    ]);
    expect(task).toEqual((await bob.get(`/api/tasks/${id}`).expect(200)).body);
    expect(tasks).toEqual(
      (await bob.get('/api/tasks?project=cli-json&priority=high').expect(200)).body,
    );
    expect(audit).toEqual(
      (await bob.get('/api/audit?actor_id=alice&action=created&limit=100').expect(200)).body,
    );
    expect(me).toEqual((await bob.get('/api/me').expect(200)).body);
    expect(workers).toEqual((await bob.get('/api/workers').expect(200)).body);
  });

  it('pages by cursor: prints the next cursor, continues from it, and follows them all with --all', async () => {
    const ids: number[] = [];
    for (const title of ['one', 'two', 'three', 'four', 'five']) {
      const res = await alice.post('/api/tasks', { title, project_slug: 'cli-pages' }).expect(201);
      ids.push(res.body.id);
    }
    const list = (...args: string[]) => as(alice, 'list', '--project', 'cli-pages', ...args);

    const first = ok(await list('--sort', '-id', '--limit', '2')).stdout;
    expect(first).toMatch(/^2 of 5 tasks$/m);
    const cursor = /^next page: --cursor (\S+) \(or --all\)$/m.exec(first)?.[1];
    expect(cursor).toBeDefined();
    const second = JSON.parse(
      ok(
        await as(
          alice,
          '--json',
          'list',
          '--project',
          'cli-pages',
          '--sort',
          '-id',
          '--limit',
          '2',
          '--cursor',
          cursor!,
        ),
      ).stdout,
    );
    expect(second.map((task: { id: number }) => task.id)).toEqual([ids[2], ids[1]]);

    const all = ok(await list('--sort', '-id', '--limit', '2', '--all')).stdout;
    expect(all).toMatch(/^5 of 5 tasks$/m);
    expect(all).not.toMatch(/next page/);
    const everything = await json(alice, 'list', '--project', 'cli-pages', '--limit', '2', '--all');
    expect(everything.map((task: { id: number }) => task.id)).toEqual(ids);

    // A cursor continues only the list it came from; with an offset it is a usage error.
    const other = await as(
      alice,
      'list',
      '--project',
      'cli-pages',
      '--limit',
      '2',
      '--cursor',
      cursor!,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/cursor/);
    expect((await list('--cursor', cursor!, '--offset', '1')).code).toBe(2);
  });

  it('edits, filters by --mine, blocks, unblocks, releases and deletes', async () => {
    const id = (await json(bob, 'add', 'Mine', '--project', 'cli-mine', '--priority', 'low')).id;
    await json(bob, 'start', String(id));
    const [mine, others] = await Promise.all([
      json(bob, 'list', '--mine', '--project', 'cli-mine'),
      json(alice, 'list', '--mine', '--project', 'cli-mine'),
    ]);
    expect(mine.map((task: any) => task.id)).toEqual([id]);
    expect(others).toEqual([]);
    expect(
      await json(bob, 'edit', String(id), '--title', 'Mine, renamed', '--project', ''),
    ).toMatchObject({ title: 'Mine, renamed', project_slug: null });
    expect(await json(bob, 'block', String(id), '--reason', 'waiting')).toMatchObject({
      status: 'blocked',
    });
    expect(await json(bob, 'unblock', String(id))).toMatchObject({ status: 'in_progress' });
    expect(await json(bob, 'release', String(id))).toMatchObject({
      status: 'pending',
      assigned_to: null,
    });
    expect(ok(await as(bob, 'delete', String(id))).stdout).toBe(`Deleted task ${id}.\n`);
    await bob.get(`/api/tasks/${id}`).expect(404);
  });

  it('edits with --if-version only while nobody else changed the task (else exit 5)', async () => {
    const task = await json(bob, 'add', 'Shared', '--project', 'cli-versions');
    expect(task.version).toBe(1);
    const shown = ok(await as(bob, 'show', String(task.id))).stdout;
    expect(shown).toMatch(/Version\s+1/);
    const edited = await json(bob, 'edit', String(task.id), '--title', 'Mine', '--if-version', '1');
    expect(edited).toMatchObject({ title: 'Mine', version: 2 });

    // Alice edited it meanwhile: Bob's edit from version 2 is refused, and changes nothing.
    await alice.patch(`/api/tasks/${task.id}`, { title: 'Hers' }).expect(200);
    const stale = await as(
      bob,
      'edit',
      String(task.id),
      '--title',
      'Mine again',
      '--if-version',
      '2',
    );
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain('--if-version');
    expect((await bob.get(`/api/tasks/${task.id}`).expect(200)).body).toMatchObject({
      title: 'Hers',
      version: 3,
    });
  });

  it('exits with the documented codes and prints the API message on stderr', async () => {
    const claimed = (await alice.post('/api/tasks', { title: 'Race' }).expect(201)).body.id;
    await alice.post(`/api/tasks/${claimed}/start`).expect(200);
    const noConfig = { TASKFLOW_URL: baseUrl, TASKFLOW_CONFIG: join(workDir, 'none.json') };

    const [missing, conflict, badToken, noToken, badPercent, notANumber, usage, down] =
      await Promise.all([
        as(alice, 'show', '999999'),
        as(bob, 'start', String(claimed)),
        taskflow(['list'], { ...noConfig, TASKFLOW_TOKEN: 'not-a-jwt' }),
        taskflow(['list'], noConfig),
        as(alice, 'progress', String(claimed), '150'),
        as(alice, 'progress', String(claimed), 'half'),
        as(alice, 'list', '--status', 'done'),
        taskflow(['list'], {
          ...noConfig,
          TASKFLOW_URL: 'http://127.0.0.1:9',
          TASKFLOW_TOKEN: 'x',
        }),
      ]);

    expect([missing.code, missing.stderr]).toEqual([4, 'error: Task 999999 not found\n']);
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toMatch(/^error: .*in_progress/);
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toMatch(/^error: /);
    expect(noToken.code).toBe(3);
    expect(noToken.stderr).toContain('taskflow login');
    expect(badPercent.code).toBe(2);
    expect(badPercent.stderr).toMatch(/^ {2}percent: /m);
    expect(notANumber.code).toBe(2);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Allowed choices are pending');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('Cannot reach the TaskFlow API');
    for (const run of [missing, conflict, badToken, noToken, badPercent, usage, down]) {
      expect(run.stdout).toBe('');
    }
  });

  it('documents the exit codes in --help', async () => {
    const help = ok(await taskflow(['--help'], {}));
    for (const code of ['0', '1', '2', '3', '4', '5', '6']) {
      expect(help.stdout).toMatch(new RegExp(`^ {2}${code} {2}\\S`, 'm'));
    }
  });
});

describe('taskflow login with the real Better Auth server (e2e)', () => {
  let auth: AuthServer;
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    auth = await startAuthServer();
    t = await TestApp.start({ env: { JWKS_URL: auth.jwksUrl } });
    baseUrl = await t.listen();
  });

  afterAll(async () => {
    await t?.close();
    await auth?.stop();
  });

  it('writes a private config file that later commands use alone', async () => {
    const config = join(workDir, 'nested', 'config.json');
    const env = { TASKFLOW_CONFIG: config };
    const login = ok(
      await taskflow(
        ['login', '--email', 'cli@example.com', '--auth-url', auth.url, '--url', baseUrl],
        env,
      ),
    );
    expect(login.stdout).toMatch(/^Logged in as\s+cli@example\.com \(/m);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(config, 'utf8'));
    expect(stored).toMatchObject({ url: baseUrl, auth_url: auth.url });
    expect(stored.token.split('.')).toHaveLength(3);

    const me = JSON.parse(ok(await taskflow(['--json', 'whoami'], env)).stdout);
    expect(me).toMatchObject({ email: 'cli@example.com', worker_type: 'human' });

    // Signing in again (the account exists now) works the same way.
    ok(await taskflow(['login', '--email', 'cli@example.com', '--auth-url', auth.url], env));
    expect(JSON.parse(readFileSync(config, 'utf8')).url).toBe(baseUrl);
  });

  it('fetches a new JWT with the stored session once the stored one expires', async () => {
    const config = join(workDir, 'refresh.json');
    const env = { TASKFLOW_CONFIG: config };
    ok(
      await taskflow(
        ['login', '--email', 'renew@example.com', '--auth-url', auth.url, '--url', baseUrl],
        env,
      ),
    );
    // Only the claims matter for the decision to renew; the API never sees this token.
    const expired = `e30.${Buffer.from(JSON.stringify({ exp: 1 })).toString('base64url')}.x`;
    const stored = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify({ ...stored, token: expired }));

    const me = JSON.parse(ok(await taskflow(['--json', 'whoami'], env)).stdout);
    expect(me.email).toBe('renew@example.com');
    const renewed = JSON.parse(readFileSync(config, 'utf8')).token;
    expect(renewed).not.toBe(expired);
    expect(statSync(config).mode & 0o777).toBe(0o600);
  });

  it('exits 3 for a wrong password', async () => {
    await auth.signUp('taken@example.com', 'the-right-password');
    const run = await taskflow(
      [
        'login',
        '--email',
        'taken@example.com',
        '--password',
        'wrong-password',
        '--auth-url',
        auth.url,
      ],
      { TASKFLOW_CONFIG: join(workDir, 'wrong.json') },
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('wrong password');
  });
});
