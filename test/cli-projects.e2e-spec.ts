import { Client } from 'pg';
import { version } from '../package.json';
import { CompiledCli, cliCaller, compileCli, ok } from './support/cli';
import { sql } from './support/database';
import { Actor, TestApp } from './support/test-app';

/** `taskflow project …`, `--tag`, and the CLI's name in the audit log. */
describe('taskflow CLI: projects, tags and its client name (e2e)', () => {
  let cli: CompiledCli;
  let t: TestApp;
  let db: Client;
  let baseUrl: string;
  let alice: Actor;
  let bob: Actor;
  let carol: Actor;

  beforeAll(async () => {
    cli = compileCli();
    t = await TestApp.start();
    db = await sql(t.databaseUrl);
    baseUrl = await t.listen();
    [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((id) => t.actor(id)));
  });

  afterAll(async () => {
    await db.end();
    await t.close();
    cli.remove();
  });

  const as = (actor: Actor, ...args: string[]) => cliCaller(cli, baseUrl).as(actor, ...args);
  const json = (actor: Actor, ...args: string[]) => cliCaller(cli, baseUrl).json(actor, ...args);

  it('creates a private project, manages its members, and keeps it from outsiders', async () => {
    const created = ok(
      await as(alice, 'project', 'create', 'cli-secret', '--name', 'CLI secret', '--private'),
    );
    expect(created.stdout).toMatch(/^Visibility\s+private$/m);
    expect(created.stdout).toMatch(/^Owner\s+alice$/m);
    ok(await as(alice, 'project', 'add-member', 'cli-secret', 'bob'));
    const members = ok(await as(alice, 'project', 'members', 'cli-secret'));
    expect(members.stdout).toMatch(/^alice\s+owner\s/m);
    expect(members.stdout).toMatch(/^bob\s+member\s/m);
    expect(members.stdout).toMatch(/^2 of 2 members$/m);

    const task = await json(
      bob,
      'add',
      'Hidden work',
      '--project',
      'cli-secret',
      '--tag',
      'ops',
      '--tag',
      'q4',
    );
    expect(task.tags).toEqual(['ops', 'q4']);
    // Carol is no member: the project and its task do not exist for her.
    const shown = await as(carol, 'project', 'show', 'cli-secret');
    expect(shown.code).not.toBe(0);
    expect(shown.stderr).toMatch(/not found/i);
    expect(await json(carol, 'list', '--tag', 'ops')).toEqual([]);
    expect(
      (await json(bob, 'list', '--tag', 'ops', '--tag', 'q4')).map((x: { id: number }) => x.id),
    ).toEqual([task.id]);
    expect(await json(bob, 'list', '--tag', 'ops', '--tag', 'nope')).toEqual([]);
    expect((await json(bob, 'list', '--any-tag', 'nope', '--any-tag', 'q4')).length).toBe(1);

    const edited = await json(bob, 'edit', String(task.id), '--no-tags');
    expect(edited.tags).toEqual([]);
    ok(await as(alice, 'project', 'remove-member', 'cli-secret', 'bob'));
    expect((await as(bob, 'show', String(task.id))).code).not.toBe(0);
    expect((await json(alice, 'project', 'list')).map((p: { slug: string }) => p.slug)).toContain(
      'cli-secret',
    );
    expect(
      (await json(carol, 'project', 'list')).map((p: { slug: string }) => p.slug),
    ).not.toContain('cli-secret');
  });

  it('names itself in the audit log of every change it makes', async () => {
    const task = await json(alice, 'add', 'Named client');
    ok(await as(alice, 'start', String(task.id)));
    const { rows } = await db.query<{ action: string; client: string | null }>(
      `SELECT action, client FROM audit_entries WHERE task_id = $1 ORDER BY id`,
      [task.id],
    );
    expect(rows).toEqual([
      { action: 'created', client: `taskflow-cli/${version}` },
      { action: 'started', client: `taskflow-cli/${version}` },
    ]);
  });
});
