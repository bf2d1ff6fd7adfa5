import type { AuthUser } from '../../src/auth/auth-user';
import { NotFoundError } from '../../src/common/errors/domain-errors';
import { AuditService } from '../../src/audit/audit.service';
import { TaskLifecycleService } from '../../src/tasks/task-lifecycle.service';
import type { Task } from '../../src/tasks/task.entity';
import { TasksService } from '../../src/tasks/tasks.service';
import { WorkersService } from '../../src/workers/workers.service';
import { ServiceContext } from '../support/service-context';

describe('AuditService reads what units of work appended', () => {
  let ctx: ServiceContext;
  let audit: AuditService;
  let admin: AuthUser;
  let bot: AuthUser;
  let first: Task;
  let second: Task;

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    audit = ctx.get(AuditService);
    admin = ctx.admin();
    bot = ctx.agent('audit-bot');
    const tasks = ctx.get(TasksService);
    await ctx.projects(['p1', 'p2'], [bot.id]);
    await ctx.run(admin, 'worker_registered', () =>
      ctx.get(WorkersService).register({ id: bot.id, name: 'Audit bot', type: 'agent' }, admin),
    );
    first = await ctx.run(admin, 'created', () =>
      tasks.create({ title: 'one', project_slug: 'p1' }, admin),
    );
    second = await ctx.run(bot, 'created', () =>
      tasks.create({ title: 'two', project_slug: 'p2' }, bot),
    );
    await ctx.run(bot, 'started', () => ctx.get(TaskLifecycleService).start(second.id, bot));
    await ctx.run(admin, 'deleted', () => tasks.remove(first.id, admin));
  });

  afterAll(() => ctx?.close());

  it('lists every entry oldest first, with the total', async () => {
    const page = await audit.list({}, admin);
    expect(page.total).toBe(5);
    expect(page.items.map((e) => [e.action, e.actor_id, e.task_id])).toEqual([
      ['worker_registered', 'admin-1', null],
      ['created', 'admin-1', first.id],
      ['created', 'audit-bot', second.id],
      ['started', 'audit-bot', second.id],
      ['deleted', 'admin-1', first.id],
    ]);
    expect(page.items.map((e) => e.id)).toEqual((await ctx.audit()).map((row) => Number(row.id)));
  });

  it('filters by actor type, actor, action, task and project', async () => {
    const agentEntries = await audit.list({ actor_type: 'agent' }, admin);
    expect(agentEntries.total).toBe(2);
    expect(agentEntries.items.every((e) => e.actor_id === 'audit-bot')).toBe(true);
    expect((await audit.list({ actor_id: 'admin-1' }, admin)).total).toBe(3);
    expect((await audit.list({ action: 'started' }, admin)).items.map((e) => e.task_id)).toEqual([
      second.id,
    ]);
    expect((await audit.list({ task_id: first.id }, admin)).items.map((e) => e.action)).toEqual([
      'created',
      'deleted',
    ]);
    expect((await audit.list({ project: 'p2' }, admin)).total).toBe(2);
  });

  it('filters by time and pages with the total', async () => {
    const future = new Date(Date.now() + 3_600_000);
    expect(await audit.list({ since: future }, admin)).toEqual({ items: [], total: 0 });
    expect((await audit.list({ until: future }, admin)).total).toBe(5);
    const page = await audit.list({ limit: 2, offset: 2 }, admin);
    expect(page.total).toBe(5);
    expect(page.items.map((e) => e.action)).toEqual(['created', 'started']);
  });

  it("a task's history outlives the task; a task that never was is task_not_found", async () => {
    const history = await audit.forTask(first.id, {}, admin);
    expect(history.items.map((e) => e.action)).toEqual(['created', 'deleted']);
    expect(history.items[1].prev_hash).toBe(history.items[0].hash);
    expect(await ctx.rows('SELECT id FROM tasks WHERE id = $1', [first.id])).toEqual([]);
    await expect(audit.forTask(2_000_000_000, {}, admin)).rejects.toBeInstanceOf(NotFoundError);
  });
});
