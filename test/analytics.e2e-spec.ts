import type { Client } from 'pg';
import {
  createKey,
  createProject,
  createTaskId,
  registerWorker,
  signInAdmin,
  startApp,
  stopApp,
} from './support/board';
import type { Actor, TestApp } from './support/test-app';

/**
 * The analytics summary (docs/analytics.md) against figures computed here, independently, from
 * the audit table: completions and rejections go to whoever last started the task before them,
 * failures and usage to whoever recorded them; a non-member never counts a private project.
 */

interface Entry {
  id: number;
  task_id: number;
  project: string;
  action: string;
  actor_id: string;
  actor_type: string;
  context: Record<string, any> | null;
  timestamp: Date;
  /** The timestamp in microseconds since the epoch: a `Date` keeps only milliseconds. */
  micros: string;
}

/** Sums decimal strings exactly, at the largest scale among them (as PostgreSQL's numeric does). */
const decimalSum = (values: string[]): string => {
  const scale = Math.max(0, ...values.map((v) => (v.split('.')[1] ?? '').length));
  const total = values
    .map((v) => {
      const [whole, fraction = ''] = v.split('.');
      return BigInt(whole + fraction.padEnd(scale, '0'));
    })
    .reduce((a, b) => a + b, 0n)
    .toString()
    .padStart(scale + 1, '0');
  return scale === 0 ? total : `${total.slice(0, -scale)}.${total.slice(-scale)}`;
};

/** Nearest rank: the smallest value with at least `p` of the values at or below it. */
const percentile = (values: number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1];
};

/** The summary's figures, from the entries the caller may read. */
function expected(entries: Entry[], since: Date, until: Date, groupBy: 'actor_type' | 'worker') {
  const inWindow = (e: Entry) => e.timestamp >= since && e.timestamp < until;
  const groups = new Map<
    string,
    {
      actor_type: string;
      cycles: number[];
      rejections: number;
      failures: number;
      input: number;
      output: number;
      costs: string[];
    }
  >();
  const group = (worker: string, type: string) => {
    const key = groupBy === 'worker' ? worker : type;
    if (!groups.has(key)) {
      groups.set(key, {
        actor_type: type,
        cycles: [],
        rejections: 0,
        failures: 0,
        input: 0,
        output: 0,
        costs: [],
      });
    }
    return groups.get(key)!;
  };
  for (const e of entries.filter(inWindow)) {
    if (['completed', 'approved', 'rejected'].includes(e.action)) {
      const start = entries
        .filter((s) => s.task_id === e.task_id && s.action === 'started' && s.id < e.id)
        .at(-1)!;
      const g = group(start.actor_id, start.actor_type);
      if (e.action === 'rejected') g.rejections++;
      else g.cycles.push(Number(BigInt(e.micros) - BigInt(start.micros)) / 1e6);
    } else if (e.action === 'failed') {
      group(e.actor_id, e.actor_type).failures++;
    } else if (e.action === 'usage_reported') {
      const g = group(e.actor_id, e.actor_type);
      g.input += e.context!.input_tokens;
      g.output += e.context!.output_tokens;
      if (e.context!.cost_usd !== null) g.costs.push(e.context!.cost_usd);
    }
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, g]) => ({
      key,
      actor_type: g.actor_type,
      completed: g.cycles.length,
      cycle_time_p50_seconds: percentile(g.cycles, 0.5),
      cycle_time_p90_seconds: percentile(g.cycles, 0.9),
      review_rejections: g.rejections,
      failures: g.failures,
      attempts_per_completion:
        g.cycles.length === 0 ? null : (g.failures + g.cycles.length) / g.cycles.length,
      input_tokens: g.input,
      output_tokens: g.output,
      cost_usd: decimalSum(g.costs.length ? g.costs : ['0']),
    }));
}

describe('Analytics summary (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let admin: Actor;
  let agent: Actor;
  let alice: Actor;
  let victor: Actor;
  let since: Date;
  let until: Date;
  let entries: Entry[];

  const query = (from: Date, to: Date, extra = '') =>
    `/api/analytics/summary?since=${from.toISOString()}&until=${to.toISOString()}${extra}`;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    admin = await signInAdmin(t);
    agent = await registerWorker(t, admin, { id: 'agent-1', name: 'Agent', type: 'agent' });
    alice = await registerWorker(t, admin, { id: 'alice', name: 'Alice', type: 'human' });
    victor = await t.actor('victor');
    const members: [Actor, 'member'][] = [
      [agent, 'member'],
      [alice, 'member'],
    ];
    await createProject(admin, 'shop', { members });
    await createProject(admin, 'vault', { visibility: 'private', members });
    since = (await db.query('SELECT now() AS now')).rows[0].now;

    const usage = (id: number, input: number, output: number, cost?: string) =>
      agent
        .post(`/api/tasks/${id}/usage`, {
          model: 'model-a',
          input_tokens: input,
          output_tokens: output,
          ...(cost === undefined ? {} : { cost_usd: cost }),
        })
        .expect(200);

    for (const project of ['shop', 'vault']) {
      // The agent fails once for good, is retried by alice, reports usage and is approved.
      const a = await createTaskId(alice, { title: 'migrate', project_slug: project });
      await agent.post(`/api/tasks/${a}/start`).expect(200);
      await usage(a, 100, 20, '0.1');
      await agent.post(`/api/tasks/${a}/fail`, { reason: 'crashed', retryable: false }).expect(200);
      await alice.post(`/api/tasks/${a}/retry`).expect(200);
      await agent.post(`/api/tasks/${a}/start`).expect(200);
      await usage(a, 50, 5, '0.25');
      await usage(a, 7, 3);
      await agent.post(`/api/tasks/${a}/review`).expect(200);
      await alice.post(`/api/tasks/${a}/approve`).expect(200);

      // The agent's work is rejected once, then it completes.
      const b = await createTaskId(alice, { title: 'docs', project_slug: project });
      await agent.post(`/api/tasks/${b}/start`).expect(200);
      await agent.post(`/api/tasks/${b}/review`).expect(200);
      await alice.post(`/api/tasks/${b}/reject`, { reason: 'missing tests' }).expect(200);
      await agent.post(`/api/tasks/${b}/complete`).expect(200);

      // Alice completes, reopens and completes again: two completions.
      const c = await createTaskId(alice, { title: 'design', project_slug: project });
      await alice.post(`/api/tasks/${c}/start`).expect(200);
      await alice.post(`/api/tasks/${c}/complete`).expect(200);
      await alice.post(`/api/tasks/${c}/reopen`).expect(200);
      await alice.post(`/api/tasks/${c}/complete`).expect(200);
    }
    until = new Date(Date.now() + 60_000);
    entries = (
      await db.query(
        `SELECT e.id::integer AS id, e.task_id, t.project_slug AS project, e.action, e.actor_id,
                e.actor_type::text AS actor_type, e.context, e."timestamp",
                (extract(epoch FROM e."timestamp") * 1000000)::bigint::text AS micros
           FROM audit_entries e JOIN tasks t ON t.id = e.task_id ORDER BY e.id`,
      )
    ).rows;
  });

  afterAll(() => stopApp(t, db));

  it.each(['actor_type', 'worker'] as const)(
    'matches the audit log, grouped by %s, for a member of every project',
    async (groupBy) => {
      const res = await alice.get(query(since, until, `&group_by=${groupBy}`)).expect(200);
      expect(res.body).toEqual({
        since: since.toISOString(),
        until: until.toISOString(),
        group_by: groupBy,
        project: null,
        groups: expected(entries, since, until, groupBy),
      });
      // The seeded board shows in it: both kinds of worker, each figure non-trivial.
      const agentGroup = res.body.groups.find((g: any) => g.actor_type === 'agent');
      expect(agentGroup).toMatchObject({
        completed: 4,
        review_rejections: 2,
        failures: 2,
        attempts_per_completion: 1.5,
        input_tokens: 314,
        output_tokens: 56,
        cost_usd: '0.70',
      });
      expect(res.body.groups.find((g: any) => g.actor_type === 'human').completed).toBe(4);
    },
  );

  it("never counts a private project's tasks for a non-member", async () => {
    const shopOnly = entries.filter((e) => e.project === 'shop');
    for (const groupBy of ['actor_type', 'worker'] as const) {
      const res = await victor.get(query(since, until, `&group_by=${groupBy}`)).expect(200);
      expect(res.body.groups).toEqual(expected(shopOnly, since, until, groupBy));
    }
    // Naming the private project shows nothing; a member sees its figures.
    expect(
      (await victor.get(query(since, until, '&project=vault')).expect(200)).body.groups,
    ).toEqual([]);
    expect(
      (await alice.get(query(since, until, '&project=vault')).expect(200)).body.groups,
    ).toEqual(
      expected(
        entries.filter((e) => e.project === 'vault'),
        since,
        until,
        'actor_type',
      ),
    );
  });

  it('counts only the projects an API key is limited to', async () => {
    const { actor: shopKey } = await createKey(t, admin, 'alice', { projects: ['shop'] });
    const res = await shopKey.get(query(since, until, '&group_by=worker')).expect(200);
    expect(res.body.groups).toEqual(
      expected(
        entries.filter((e) => e.project === 'shop'),
        since,
        until,
        'worker',
      ),
    );
  });

  it('counts only the window', async () => {
    const approvals = entries.filter((e) => e.action === 'approved');
    // From just after the first approval: the shop's first task's completion is left out.
    const from = new Date(approvals[0].timestamp.getTime() + 1);
    const res = await admin.get(query(from, until, '&group_by=worker')).expect(200);
    expect(res.body.groups).toEqual(expected(entries, from, until, 'worker'));
    const empty = await admin.get(
      query(new Date(until.getTime()), new Date(until.getTime() + 1000)),
    );
    expect(empty.body.groups).toEqual([]);
  });

  it('defaults to the last 30 days', async () => {
    const res = await alice.get('/api/analytics/summary').expect(200);
    const span = Date.parse(res.body.until) - Date.parse(res.body.since);
    expect(span).toBe(30 * 86_400_000);
    expect(res.body.group_by).toBe('actor_type');
  });

  it.each([
    ['an unknown grouping', '?group_by=team'],
    ['an invalid date', '?since=yesterday'],
    ['since not before until', '?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'],
    ['a window over 366 days', '?since=2024-01-01T00:00:00Z&until=2026-01-01T00:00:00Z'],
  ])('refuses %s with 422', async (_, params) => {
    const res = await alice.get(`/api/analytics/summary${params}`).expect(422);
    expect(res.body.code).toBe('validation_failed');
  });

  // Last: it moves a task. Visibility follows the task's current project, as in the audit log.
  it('follows a task moved into a private project', async () => {
    const moved = entries.find((e) => e.project === 'shop' && e.action === 'approved')!.task_id;
    await admin.patch(`/api/tasks/${moved}`, { project_slug: 'vault' }).expect(200);
    const stillShop = entries.filter((e) => e.project === 'shop' && e.task_id !== moved);
    const res = await victor.get(query(since, until, '&group_by=worker')).expect(200);
    expect(res.body.groups).toEqual(expected(stillShop, since, until, 'worker'));
    const member = await alice.get(query(since, until, '&project=vault')).expect(200);
    expect(member.body.groups).toEqual(
      expected(
        entries.filter((e) => e.project === 'vault' || e.task_id === moved),
        since,
        until,
        'actor_type',
      ),
    );
  });

  it('needs a caller', async () => {
    await t.anonymous.get('/api/analytics/summary').expect(401);
  });
});
