import { Client } from 'pg';
import { CompiledCli, compileCli } from './support/cli';
import { auditOf, createTaskId, signInAdmin, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

interface ChainedEntry {
  id: number;
  task_id: number | null;
  actor_id: string;
  chain_seq: number;
  prev_hash: string | null;
  hash: string;
}

/**
 * The hash chain of the audit log, attacked the way the issue describes: by a superuser who
 * switches the append-only trigger off (ALTER TABLE … DISABLE TRIGGER, or
 * session_replication_role = replica) and edits, deletes or forges entries. The API's verify
 * route and `taskflow audit verify` must name the first broken entry, and report intact again
 * once the entry is restored.
 */
describe('Tamper-evident audit chain (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let cli: CompiledCli;
  let baseUrl: string;
  let admin: Actor;
  let alice: Actor;

  beforeAll(async () => {
    cli = compileCli();
    ({ t, db } = await startApp()); // db: the owner, a superuser on the test server
    baseUrl = await t.listen();
    admin = await signInAdmin(t);
    alice = await t.actor('alice');
  });

  afterAll(async () => {
    await stopApp(t, db);
    cli.remove();
  });

  /** A task with five entries: created, started, progressed twice, completed. */
  const taskWithHistory = async (): Promise<{ id: number; entries: ChainedEntry[] }> => {
    const id = await createTaskId(alice, { title: 'Chained' });
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    await alice.post(`/api/tasks/${id}/progress?percent=30`).expect(200);
    await alice.post(`/api/tasks/${id}/progress?percent=60`).expect(200);
    await alice.post(`/api/tasks/${id}/complete`).expect(200);
    return { id, entries: await auditOf(alice, id) };
  };

  const verify = async (query = '') =>
    (await admin.get(`/api/audit/verify${query}`).expect(200)).body as {
      checked: number;
      ok: boolean;
      first_broken: { id: number; task_id: number | null; reason: string } | null;
    };

  const verifyCli = (...args: string[]) =>
    cli.run(['audit', 'verify', ...args], {
      TASKFLOW_URL: baseUrl,
      TASKFLOW_TOKEN: admin.token,
      TASKFLOW_CONFIG: '/nonexistent/taskflow.json',
    });

  /**
   * Deletes an entry as the superuser, keeping an exact copy (a JavaScript Date would lose the
   * timestamp's microseconds) so that `restore` can put it back as it was.
   */
  const remove = async (id: number) => {
    await db.query(`CREATE TEMP TABLE IF NOT EXISTS saved AS SELECT * FROM audit_entries LIMIT 0`);
    await db.query('INSERT INTO saved SELECT * FROM audit_entries WHERE id = $1', [id]);
    await withoutTriggers('DELETE FROM audit_entries WHERE id = $1', [id]);
  };
  const restore = (id: number) =>
    withoutTriggers('INSERT INTO audit_entries SELECT * FROM saved WHERE id = $1', [id]);

  /** As the superuser, with the append-only trigger switched off for this one statement. */
  const withoutTriggers = async (statement: string, params: unknown[] = []) => {
    await db.query('BEGIN');
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query(statement, params);
    await db.query('COMMIT');
  };

  it('chains every entry of a task: seq 1, 2, 3…, each prev_hash the hash before it', async () => {
    const { id, entries } = await taskWithHistory();
    expect(entries.map((e) => e.chain_seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0].prev_hash).toBeNull();
    for (let i = 1; i < entries.length; i++) expect(entries[i].prev_hash).toBe(entries[i - 1].hash);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(5);
    expect(entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect(await verify(`?task_id=${id}`)).toEqual({ checked: 5, ok: true, first_broken: null });
  });

  it('chains the entries about no task per worker', async () => {
    await admin.post('/api/workers', { id: 'bot-1', name: 'Bot', type: 'agent' }).expect(201);
    await admin.patch('/api/workers/bot-1', { name: 'Bot one' }).expect(200);
    const { rows } = await db.query<ChainedEntry>(
      `SELECT chain_seq, prev_hash, hash FROM audit_entries
        WHERE task_id IS NULL AND context ->> 'worker_id' = 'bot-1' ORDER BY chain_seq`,
    );
    expect(rows.map((r) => r.chain_seq)).toEqual([1, 2]);
    expect(rows[1].prev_hash).toBe(rows[0].hash);
    const heads = (await admin.get('/api/audit/heads?limit=100').expect(200)).body;
    expect(heads).toContainEqual(
      expect.objectContaining({ chain: 'worker:bot-1', worker_id: 'bot-1', chain_seq: 2 }),
    );
  });

  it('is for admins only', async () => {
    const res = await alice.get('/api/audit/verify').expect(403);
    expect(res.body.code).toBe('admin_required');
    await alice.get('/api/audit/heads').expect(403);
    await t.anonymous.get('/api/audit/verify').expect(401);
  });

  it('an edited actor_id: the API and the CLI name the entry; intact again once restored', async () => {
    const { entries } = await taskWithHistory();
    const victim = entries[2];
    await db.query('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete');
    try {
      await db.query(`UPDATE audit_entries SET actor_id = 'mallory' WHERE id = $1`, [victim.id]);

      const broken = await verify();
      expect(broken.ok).toBe(false);
      expect(broken.first_broken).toEqual({
        id: victim.id,
        task_id: victim.task_id,
        reason: 'content_changed',
      });
      const run = await verifyCli();
      expect(run.code).toBe(6);
      expect(run.stdout).toContain(`first broken entry ${victim.id} (task ${victim.task_id})`);
      expect(run.stderr).toContain(`audit chain broken at entry ${victim.id} (content_changed)`);

      await db.query(`UPDATE audit_entries SET actor_id = $2 WHERE id = $1`, [
        victim.id,
        victim.actor_id,
      ]);
    } finally {
      await db.query('ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_update_delete');
    }
    expect(await verify()).toMatchObject({ ok: true, first_broken: null });
    const run = await verifyCli();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^intact: \d+ entries checked/);
  });

  it('an entry deleted from the middle: the next one is named; intact once re-inserted', async () => {
    const { id, entries } = await taskWithHistory();
    const [deleted, next] = [entries[1], entries[2]];
    await remove(deleted.id);

    const expected = { id: next.id, task_id: id, reason: 'entries_missing' };
    expect((await verify()).first_broken).toEqual(expected);
    // Also when only what follows the gap is asked for.
    const since = (await db.query('SELECT "timestamp" FROM audit_entries WHERE id = $1', [next.id]))
      .rows[0].timestamp as Date;
    expect(await verify(`?since=${since.toISOString()}&task_id=${id}`)).toEqual({
      checked: 3,
      ok: false,
      first_broken: expected,
    });
    const run = await verifyCli(String(id));
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`entry ${next.id} (entries_missing)`);

    await restore(deleted.id);
    expect(await verify(`?task_id=${id}`)).toEqual({ checked: 5, ok: true, first_broken: null });
    expect((await verifyCli(String(id))).code).toBe(0);
  });

  it('a forged entry inserted with the trigger off is named', async () => {
    const { id, entries } = await taskWithHistory();
    const last = entries[entries.length - 1];
    // Plausible on its face: the next seq, the right prev_hash, a made-up hash.
    await withoutTriggers(
      `INSERT INTO audit_entries (task_id, actor_id, actor_type, action, chain_seq, prev_hash, hash)
       VALUES ($1, 'alice', 'human', 'reopened', $2, $3, repeat('0', 64))`,
      [id, last.chain_seq + 1, last.hash],
    );
    const forged = (await db.query('SELECT max(id) AS id FROM audit_entries')).rows[0].id;
    expect((await verify(`?task_id=${id}`)).first_broken).toEqual({
      id: Number(forged),
      task_id: id,
      reason: 'content_changed',
    });
    await withoutTriggers('DELETE FROM audit_entries WHERE id = $1', [forged]);
    expect((await verify(`?task_id=${id}`)).ok).toBe(true);
  });

  it('cannot see the newest entries deleted without an outside anchor; the exported head can', async () => {
    const { id, entries } = await taskWithHistory();
    const [head] = (await admin.get(`/api/audit/heads?task_id=${id}`).expect(200)).body;
    const newest = entries[entries.length - 1];
    expect(head).toEqual({
      chain: `task:${id}`,
      task_id: id,
      worker_id: null,
      chain_seq: 5,
      hash: newest.hash,
      entry_id: newest.id,
      timestamp: expect.any(String),
    });

    await remove(newest.id);
    // The documented limit: what is left is a valid, shorter chain.
    expect((await verify(`?task_id=${id}`)).ok).toBe(true);
    const [after] = (await admin.get(`/api/audit/heads?task_id=${id}`).expect(200)).body;
    expect(after.chain_seq).toBeLessThan(head.chain_seq); // what an outside store would notice

    await restore(newest.id);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('keeps each chain whole under concurrent writes to one task', async () => {
    const id = await createTaskId(alice, { title: 'Contended' });
    const other = await createTaskId(alice, { title: 'Dependency' });
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    const calls = Array.from({ length: 40 }, (_, i) =>
      i === 20
        ? alice.post(`/api/tasks/${id}/dependencies/${other}`)
        : alice.post(`/api/tasks/${id}/progress?percent=${i}`),
    );
    const statuses = await Promise.all(calls.map((c) => c.then((r) => r.status)));
    expect(statuses.filter((s) => s >= 300)).toEqual([]);
    const entries = (await auditOf(alice, id, '?limit=100')) as ChainedEntry[];
    expect(entries.map((e) => e.chain_seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 42 }, (_, i) => i + 1),
    );
    expect(await verify(`?task_id=${id}`)).toEqual({ checked: 42, ok: true, first_broken: null });
  });
});
