import { AuditTrail } from '../../src/audit/audit-trail';
import { UnitOfWork } from '../../src/audit/unit-of-work';
import { TaskLifecycleService } from '../../src/tasks/task-lifecycle.service';
import { TaskRepository } from '../../src/tasks/task.repository';
import { TasksService } from '../../src/tasks/tasks.service';
import { WorkersService } from '../../src/workers/workers.service';
import { ServiceContext } from '../support/service-context';

describe('UnitOfWork, outside any request', () => {
  let ctx: ServiceContext;
  let unitOfWork: UnitOfWork;
  let tasks: TasksService;
  let lifecycle: TaskLifecycleService;
  const admin = () => ctx.admin();
  const agent = () => ctx.agent('uow-agent');

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    unitOfWork = ctx.get(UnitOfWork);
    tasks = ctx.get(TasksService);
    lifecycle = ctx.get(TaskLifecycleService);
    await ctx.run(admin(), 'worker_registered', () =>
      ctx.get(WorkersService).register({ id: 'uow-agent', name: 'Agent', type: 'agent' }, admin()),
    );
    await ctx.projects(['ops'], ['uow-agent']);
  });

  afterAll(() => ctx?.close());

  it('appends the entries a job records, as its actor, with a hash chain per task', async () => {
    const task = await unitOfWork.run({ actorId: agent().id, action: 'created' }, () =>
      tasks.create({ title: 'Nightly import', project_slug: 'ops' }, agent()),
    );
    const started = await unitOfWork.run({ actorId: agent().id, action: 'started' }, () =>
      lifecycle.start(task.id, agent()),
    );
    expect(started).toMatchObject({ status: 'in_progress', assigned_to: 'uow-agent' });

    const [created, start] = await ctx.audit(task.id);
    expect(created).toMatchObject({
      action: 'created',
      actor_id: 'uow-agent',
      actor_type: 'agent',
      task_id: task.id,
      project_slug: 'ops',
      chain_seq: 1,
      prev_hash: null,
    });
    expect(created.context).toMatchObject({
      title: 'Nightly import',
      status: 'pending',
      assigned_to: null,
      project_slug: 'ops',
    });
    expect(created.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(start).toMatchObject({
      action: 'started',
      actor_id: 'uow-agent',
      actor_type: 'agent',
      task_id: task.id,
      chain_seq: 2,
      prev_hash: created.hash,
      context: null,
    });
    expect(start.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(start.hash).not.toBe(created.hash);

    const [row] = await ctx.rows<{ status: string; assigned_to: string }>(
      'SELECT status, assigned_to FROM tasks WHERE id = $1',
      [task.id],
    );
    expect(row).toEqual({ status: 'in_progress', assigned_to: 'uow-agent' });
  });

  it('an unregistered actor is recorded as human', async () => {
    const task = await unitOfWork.run({ actorId: 'cron-job', action: 'created' }, () =>
      tasks.create({ title: 'By a script' }, ctx.human('cron-job')),
    );
    const [entry] = await ctx.audit(task.id);
    expect(entry).toMatchObject({ actor_id: 'cron-job', actor_type: 'human', action: 'created' });
  });

  it('rolls back the change and its entry when the work throws after the service wrote', async () => {
    const tasksBefore = await ctx.count('tasks');
    const entriesBefore = await ctx.count('audit_entries');
    let createdId: number | undefined;
    await expect(
      unitOfWork.run({ actorId: admin().id, action: 'created' }, async () => {
        const task = await tasks.create({ title: 'Doomed' }, admin());
        createdId = task.id;
        throw new Error('the job failed after writing');
      }),
    ).rejects.toThrow('the job failed after writing');
    expect(createdId).toEqual(expect.any(Number));
    expect(await ctx.rows('SELECT id FROM tasks WHERE id = $1', [createdId])).toEqual([]);
    expect(await ctx.count('tasks')).toBe(tasksBefore);
    expect(await ctx.count('audit_entries')).toBe(entriesBefore);
  });

  it('refuses work that records nothing, and names it', async () => {
    const entriesBefore = await ctx.count('audit_entries');
    await expect(
      unitOfWork.run({ actorId: admin().id, action: 'updated', name: 'silent job' }, () =>
        Promise.resolve(42),
      ),
    ).rejects.toThrow("silent job runs as 'updated' but recorded nothing");
    expect(await ctx.count('audit_entries')).toBe(entriesBefore);
  });

  it('refuses a write that records nothing, and rolls the write back', async () => {
    const before = await ctx.count('tasks');
    // A write that bypasses the services' trail: the unit of work must not commit it silently.
    await expect(
      unitOfWork.run({ actorId: admin().id, action: 'created' }, () =>
        ctx.get(TaskRepository).insert({ title: 'Unrecorded', created_by: admin().id }),
      ),
    ).rejects.toThrow(/recorded nothing/);
    expect(await ctx.count('tasks')).toBe(before);
    expect(await ctx.rows("SELECT id FROM tasks WHERE title = 'Unrecorded'")).toEqual([]);
  });

  it('AuditTrail.record outside a unit of work throws', () => {
    const trail = ctx.get(AuditTrail);
    expect(() => trail.record({ taskId: 1 })).toThrow(
      'AuditTrail used outside a unit of work (UnitOfWork.run)',
    );
    expect(() => trail.unchanged()).toThrow(/outside a unit of work/);
  });

  it('a service called outside any unit of work fails before it writes anything', async () => {
    const tasksBefore = await ctx.count('tasks');
    const workersBefore = await ctx.count('workers');
    await expect(tasks.create({ title: 'leaked' }, admin())).rejects.toThrow(
      'outside a unit of work',
    );
    await expect(
      ctx.get(WorkersService).register({ id: 'leaked-w', name: 'L' }, admin()),
    ).rejects.toThrow('outside a unit of work');
    expect(await ctx.count('tasks')).toBe(tasksBefore);
    expect(await ctx.count('workers')).toBe(workersBefore);
  });

  it('a batch that only wraps other units of work commits them together, or none', async () => {
    const tasksBefore = await ctx.count('tasks');
    const batch = () =>
      ctx.run(admin(), 'created', async () => {
        const one = await ctx.run(admin(), 'created', () => tasks.create({ title: 'b1' }, admin()));
        const two = await ctx.run(agent(), 'created', () => tasks.create({ title: 'b2' }, agent()));
        return [one.id, two.id];
      });
    const ids = await batch();
    expect(await ctx.count('tasks')).toBe(tasksBefore + 2);
    expect((await ctx.audit(ids[1])).map((e) => [e.action, e.actor_id])).toEqual([
      ['created', 'uow-agent'],
    ]);
    await expect(
      ctx.run(admin(), 'created', async () => {
        await batch();
        throw new Error('the batch fails at the end');
      }),
    ).rejects.toThrow('the batch fails at the end');
    expect(await ctx.count('tasks')).toBe(tasksBefore + 2);
  });

  it('a run inside another is part of its transaction: the outer failure undoes both', async () => {
    const tasksBefore = await ctx.count('tasks');
    const entriesBefore = await ctx.count('audit_entries');
    await expect(
      unitOfWork.run({ actorId: admin().id, action: 'created' }, async () => {
        await tasks.create({ title: 'Outer' }, admin());
        await unitOfWork.run({ actorId: agent().id, action: 'created' }, () =>
          tasks.create({ title: 'Inner' }, agent()),
        );
        // Both rows are visible inside the shared transaction.
        const page = await tasks.list({ q: 'Inner' }, ctx.admin());
        expect(page.total).toBe(1);
        throw new Error('outer fails after the inner succeeded');
      }),
    ).rejects.toThrow('outer fails after the inner succeeded');
    expect(await ctx.count('tasks')).toBe(tasksBefore);
    expect(await ctx.count('audit_entries')).toBe(entriesBefore);
    expect(await ctx.rows("SELECT id FROM tasks WHERE title IN ('Outer', 'Inner')")).toEqual([]);
  });

  it('a nested run that succeeds commits with the outer, each entry under its own actor', async () => {
    const { outer, inner } = await unitOfWork.run(
      { actorId: admin().id, action: 'created' },
      async () => {
        const o = await tasks.create({ title: 'Outer ok' }, admin());
        const i = await unitOfWork.run({ actorId: agent().id, action: 'created' }, () =>
          tasks.create({ title: 'Inner ok' }, agent()),
        );
        return { outer: o, inner: i };
      },
    );
    const [outerEntry] = await ctx.audit(outer.id);
    const [innerEntry] = await ctx.audit(inner.id);
    expect(outerEntry).toMatchObject({ action: 'created', actor_id: 'admin-1' });
    expect(innerEntry).toMatchObject({
      action: 'created',
      actor_id: 'uow-agent',
      actor_type: 'agent',
    });
    // The inner entry is appended when the inner run ends, before the outer one's.
    expect(Number(innerEntry.id)).toBeLessThan(Number(outerEntry.id));
  });

  it('an inner refusal caught by the outer lets the outer go on and commit', async () => {
    // The refusal is a domain error, not a failed statement, so the shared transaction is intact.
    const task = await unitOfWork.run({ actorId: admin().id, action: 'created' }, async () => {
      await expect(
        unitOfWork.run({ actorId: admin().id, action: 'started' }, () =>
          lifecycle.start(2_000_000_000, admin()),
        ),
      ).rejects.toMatchObject({ code: 'task_not_found' });
      return tasks.create({ title: 'After a caught refusal' }, admin());
    });
    expect(await ctx.rows('SELECT title FROM tasks WHERE id = $1', [task.id])).toEqual([
      { title: 'After a caught refusal' },
    ]);
  });

  it('an inner failed statement caught by the outer is undone alone (a savepoint)', async () => {
    // A failed statement aborts a PostgreSQL transaction; the nested run's savepoint is what
    // lets the outer work go on and commit, without the inner run's change or audit entry.
    const entriesBefore = await ctx.count('audit_entries');
    const task = await unitOfWork.run({ actorId: admin().id, action: 'created' }, async () => {
      await expect(
        unitOfWork.run({ actorId: admin().id, action: 'created' }, async () => {
          await tasks.create({ title: 'Inner, undone' }, admin());
          // Too long for the column: refused by the database (22001), not by a rule in the service.
          return ctx.get(TaskRepository).insert({ title: 'x'.repeat(201), created_by: 'admin-1' });
        }),
      ).rejects.toMatchObject({ code: '22001' });
      return tasks.create({ title: 'Outer, after the caught failure' }, admin());
    });
    expect(await ctx.rows("SELECT title FROM tasks WHERE title LIKE 'Inner, undone'")).toEqual([]);
    expect(await ctx.rows('SELECT title FROM tasks WHERE id = $1', [task.id])).toEqual([
      { title: 'Outer, after the caught failure' },
    ]);
    expect(await ctx.count('audit_entries')).toBe(entriesBefore + 1);
    expect((await ctx.audit(task.id)).map((e) => e.action)).toEqual(['created']);
  });
});
