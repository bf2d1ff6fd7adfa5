import { createProject } from './support/board';
import { CompiledCli, compileCli, ok, runAs } from './support/cli';
import { Actor, TestApp } from './support/test-app';

/** `taskflow fail`, `retry` and `usage`, against the real API (as test/cli.e2e-spec.ts). */
describe('taskflow fail, retry and usage (e2e)', () => {
  let cli: CompiledCli;
  let t: TestApp;
  let baseUrl: string;
  let alice: Actor;
  let agent: Actor;

  beforeAll(async () => {
    cli = compileCli();
    t = await TestApp.start();
    baseUrl = await t.listen();
    alice = await t.actor('alice');
    agent = await t.actor('agent-cli');
    await createProject(alice, 'cli-fail', { members: [[agent, 'member']] });
  });

  afterAll(async () => {
    await t?.close();
    cli?.remove();
  });

  const { as, json } = runAs(() => ({ cli, baseUrl }));

  const started = async (title: string): Promise<string> => {
    const { id } = (await alice.post('/api/tasks', { title, project_slug: 'cli-fail' }).expect(201))
      .body;
    await agent.post(`/api/tasks/${id}/start`).expect(200);
    return String(id);
  };

  it('usage reports tokens and an exact cost, shown on the task', async () => {
    const id = await started('Summarise the logs');
    const shown = ok(
      await as(
        agent,
        'usage',
        id,
        '--model',
        'claude-sonnet-4',
        '--in',
        '1200',
        '--out',
        '300',
        '--cost',
        '0.1',
      ),
    );
    expect(shown.stdout).toMatch(/^Usage\s+1200 in, 300 out, \$0\.1$/m);
    const task = await json(
      agent,
      'usage',
      id,
      '--model',
      'claude-haiku',
      '--in',
      '10',
      '--out',
      '5',
      '--cost',
      '0.2',
    );
    expect(task.usage).toEqual({
      input_tokens: 1210,
      output_tokens: 305,
      cost_usd: '0.3',
      by_model: {
        'claude-sonnet-4': { input_tokens: 1200, output_tokens: 300, cost_usd: '0.1' },
        'claude-haiku': { input_tokens: 10, output_tokens: 5, cost_usd: '0.2' },
      },
    });
    // --model, --in and --out are required (usage error, exit 2); a bad cost is the API's 422.
    expect((await as(agent, 'usage', id, '--in', '1', '--out', '1')).code).toBe(2);
    const bad = await as(
      agent,
      'usage',
      id,
      '--model',
      'm',
      '--in',
      '1',
      '--out',
      '1',
      '--cost',
      'lots',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('cost_usd');
  });

  it('fail counts an attempt (with --no-retry, the last one), and retry brings the task back', async () => {
    const id = await started('Port the parser');
    const failed = ok(await as(agent, 'fail', id, '--reason', 'the grammar is ambiguous'));
    expect(failed.stdout).toMatch(/^Status\s+pending$/m);
    expect(failed.stdout).toMatch(/^Attempts\s+1 of 3$/m);
    expect(failed.stdout).toMatch(/^Last error\s+the grammar is ambiguous$/m);
    expect((await as(agent, 'fail', id)).code).toBe(2); // --reason is required

    const other = await started('Port the lexer');
    const final = await json(agent, 'fail', other, '--reason', 'no spec', '--no-retry');
    expect(final).toMatchObject({ status: 'failed', attempts: 1, last_error: 'no spec' });
    const entries = await json(alice, 'audit', other);
    expect(entries.at(-1)).toMatchObject({
      action: 'failed',
      actor_id: 'agent-cli',
      context: { reason: 'no spec', retryable: false, attempt: 1, next_attempt_at: null },
    });

    expect(ok(await as(alice, 'retry', other)).stdout).toMatch(/^Status\s+pending$/m);
    // Only a failed task can be retried: a conflict (exit 5).
    expect((await as(alice, 'retry', other)).code).toBe(5);
  });

  it('stats prints the analytics summary as a table, the same figures as the API', async () => {
    const window = ['--since', new Date(Date.now() - 3_600_000).toISOString()];
    const until = new Date(Date.now() + 60_000).toISOString();
    const query = `project=cli-fail&group_by=worker&since=${window[1]}&until=${until}`;
    const api = (await alice.get(`/api/analytics/summary?${query}`).expect(200)).body;
    const args = ['stats', '--project', 'cli-fail', '--by', 'worker', ...window, '--until', until];
    expect(await json(alice, ...args)).toEqual(api);
    const agentRow = api.groups.find((g: { key: string }) => g.key === 'agent-cli');
    expect(agentRow.failures).toBeGreaterThan(0);

    const shown = ok(await as(alice, ...args)).stdout;
    expect(shown).toMatch(
      /^WORKER\s+TYPE\s+DONE\s+P50\s+P90\s+REJECTED\s+FAILED\s+ATTEMPTS\/DONE/m,
    );
    expect(shown).toMatch(
      new RegExp(
        `^agent-cli\\s+${agentRow.actor_type}\\s+0\\s+-\\s+-\\s+0\\s+${agentRow.failures}\\s+-\\s+${agentRow.input_tokens}\\s+${agentRow.output_tokens}\\s+\\$${agentRow.cost_usd.replace('.', '\\.')}$`,
        'm',
      ),
    );
    // A bad grouping is a usage error (exit 2), before any request.
    expect((await as(alice, 'stats', '--by', 'team')).code).toBe(2);
  });
});
