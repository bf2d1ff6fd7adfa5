import { Client } from 'pg';
import { databaseBefore, sql } from './support/database';

/**
 * `analytics_facts`, which the database keeps from the audit log (the AnalyticsFacts migration):
 * rebuilt from the entries written before it, then added by a trigger as entries are appended,
 * each attributed to whose work it was and filed under the task's current project.
 */
describe('Analytics facts (real PostgreSQL)', () => {
  let owner: Client;
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute));

  const task = async (project: string): Promise<number> =>
    (
      await owner.query(
        `INSERT INTO tasks (title, project_slug, created_by) VALUES ('t', $1, 'ann') RETURNING id`,
        [project],
      )
    ).rows[0].id;
  const entry = (
    taskId: number,
    project: string,
    action: string,
    actor: string,
    type: string,
    minute: number,
    context: object | null = null,
  ) =>
    owner.query(
      `INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context, "timestamp")
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [taskId, project, actor, type, action, context && JSON.stringify(context), at(minute)],
    );
  const facts = async (taskId: number) =>
    (
      await owner.query(
        `SELECT project_slug, action, at, worker_id, worker_type::text, cycle_us::text,
                input_tokens::text, output_tokens::text, cost_usd::text
           FROM analytics_facts WHERE task_id = $1 ORDER BY entry_id`,
        [taskId],
      )
    ).rows;
  const usage = { model: 'm', input_tokens: 100, output_tokens: 20, cost_usd: '0.50' };

  /** Started by an agent, rejected, started again and failed, then finished by a person. */
  const workedTask = async (): Promise<number> => {
    const id = await task('open');
    await entry(id, 'open', 'created', 'ann', 'human', 0);
    await entry(id, 'open', 'started', 'bot', 'agent', 1);
    await entry(id, 'open', 'usage_reported', 'bot', 'agent', 2, usage);
    await entry(id, 'open', 'progress', 'bot', 'agent', 3, { percent: 50 });
    await entry(id, 'open', 'rejected', 'ann', 'human', 4, { reason: 'no tests' });
    await entry(id, 'open', 'started', 'bot', 'agent', 5);
    await entry(id, 'open', 'failed', 'bot', 'agent', 6, { reason: 'crashed' });
    await entry(id, 'open', 'started', 'cat', 'human', 7);
    await entry(id, 'open', 'completed', 'cat', 'human', 9);
    return id;
  };

  let worked: number;
  let deleted: number;

  beforeAll(async () => {
    const { url, ds } = await databaseBefore('AnalyticsFacts1764340000000');
    owner = await sql(url);
    await owner.query(
      `INSERT INTO projects (slug, name, visibility, owner)
       VALUES ('open', 'Open', 'internal', 'ann'), ('closed', 'Closed', 'private', 'ann')`,
    );
    worked = await workedTask();
    // Moved to the private project, completed without a start, then deleted: no row left.
    deleted = await task('open');
    await entry(deleted, 'open', 'created', 'ann', 'human', 0);
    await entry(deleted, 'closed', 'updated', 'ann', 'human', 1, { project_slug: 'closed' });
    await entry(deleted, 'closed', 'completed', 'ann', 'human', 2);
    await entry(deleted, 'closed', 'deleted', 'ann', 'human', 3);
    await owner.query(`DELETE FROM tasks WHERE id = $1`, [deleted]);

    const ran = await ds.runMigrations({ transaction: 'each' });
    expect(ran.map((m) => m.name)[0]).toBe('AnalyticsFacts1764340000000');
    await ds.destroy();
  });

  afterAll(() => owner.end());

  const expectedFacts = (project: string) => [
    {
      project_slug: project,
      action: 'usage_reported',
      at: at(2),
      worker_id: 'bot',
      worker_type: 'agent',
      cycle_us: null,
      input_tokens: '100',
      output_tokens: '20',
      cost_usd: '0.50',
    },
    {
      project_slug: project,
      action: 'rejected',
      at: at(4),
      worker_id: 'bot',
      worker_type: 'agent',
      cycle_us: String(3 * 60_000_000),
      input_tokens: null,
      output_tokens: null,
      cost_usd: null,
    },
    {
      project_slug: project,
      action: 'failed',
      at: at(6),
      worker_id: 'bot',
      worker_type: 'agent',
      cycle_us: null,
      input_tokens: null,
      output_tokens: null,
      cost_usd: null,
    },
    {
      project_slug: project,
      action: 'completed',
      at: at(9),
      worker_id: 'cat',
      worker_type: 'human',
      cycle_us: String(2 * 60_000_000),
      input_tokens: null,
      output_tokens: null,
      cost_usd: null,
    },
  ];

  it('rebuilds the facts of the log written before it', async () => {
    expect(await facts(worked)).toEqual(expectedFacts('open'));
    // A deleted task's facts are filed under its last project, as its entries are read.
    expect(await facts(deleted)).toEqual([
      {
        project_slug: 'closed',
        action: 'completed',
        at: at(2),
        worker_id: 'ann',
        worker_type: 'human',
        cycle_us: null,
        input_tokens: null,
        output_tokens: null,
        cost_usd: null,
      },
    ]);
  });

  it('adds the same facts as entries are appended', async () => {
    expect(await facts(await workedTask())).toEqual(expectedFacts('open'));
  });

  it("follows a task into another project, and only that task's facts", async () => {
    const id = await task('open');
    await entry(id, 'open', 'started', 'bot', 'agent', 1);
    await entry(id, 'open', 'approved', 'ann', 'human', 2);
    await owner.query(`UPDATE tasks SET project_slug = 'closed' WHERE id = $1`, [id]);
    expect((await facts(id)).map((f) => [f.action, f.project_slug, f.worker_id])).toEqual([
      ['approved', 'closed', 'bot'],
    ]);
    expect((await facts(worked)).map((f) => f.project_slug)).toEqual([
      'open',
      'open',
      'open',
      'open',
    ]);
  });
});
