import type { AuthUser } from '../../src/auth/auth-user';
import {
  ConflictError,
  NotFoundError,
  ValidationFailedError,
} from '../../src/common/errors/domain-errors';
import { TaskDependenciesService } from '../../src/tasks/task-dependencies.service';
import { TaskLifecycleService } from '../../src/tasks/task-lifecycle.service';
import type { Task } from '../../src/tasks/task.entity';
import { TasksService } from '../../src/tasks/tasks.service';
import { ServiceContext } from '../support/service-context';

describe('TaskDependenciesService through the unit of work', () => {
  let ctx: ServiceContext;
  let dependencies: TaskDependenciesService;
  let admin: AuthUser;

  const create = (title: string): Promise<Task> =>
    ctx.run(admin, 'created', () =>
      ctx.get(TasksService).create({ title, project_slug: 'deps' }, admin),
    );
  const add = (taskId: number, dependsOn: number) =>
    ctx.run(admin, 'dependency_added', () => dependencies.add(taskId, dependsOn, admin));
  const edges = (taskId: number) =>
    ctx.rows<{ depends_on_id: number }>(
      'SELECT depends_on_id FROM task_dependencies WHERE task_id = $1 ORDER BY depends_on_id',
      [taskId],
    );

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    dependencies = ctx.get(TaskDependenciesService);
    admin = ctx.admin();
    await ctx.projects(['deps'], ['alice']);
  });

  afterAll(() => ctx?.close());

  it('add stores the edge and records it on the dependent task; adding it again records nothing', async () => {
    const a = await create('A');
    const b = await create('B');
    await add(a.id, b.id);
    expect(await edges(a.id)).toEqual([{ depends_on_id: b.id }]);
    const entries = await ctx.audit(a.id);
    expect(entries.map((e) => e.action)).toEqual(['created', 'dependency_added']);
    expect(entries[1]).toMatchObject({
      actor_id: 'admin-1',
      project_slug: 'deps',
      context: { depends_on: b.id },
      prev_hash: entries[0].hash,
    });
    expect((await ctx.audit(b.id)).map((e) => e.action)).toEqual(['created']);

    await add(a.id, b.id);
    expect(await edges(a.id)).toEqual([{ depends_on_id: b.id }]);
    expect(await ctx.audit(a.id)).toHaveLength(2);
  });

  it('remove deletes the edge and records dependency_removed; a missing edge is dependency_not_found', async () => {
    const a = await create('rm A');
    const b = await create('rm B');
    await add(a.id, b.id);
    await ctx.run(admin, 'dependency_removed', () => dependencies.remove(a.id, b.id, admin));
    expect(await edges(a.id)).toEqual([]);
    const last = (await ctx.audit(a.id)).at(-1);
    expect(last).toMatchObject({ action: 'dependency_removed', context: { depends_on: b.id } });

    const error = await ctx
      .run(admin, 'dependency_removed', () => dependencies.remove(a.id, b.id, admin))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'dependency_not_found' });
  });

  it('a cycle, direct or transitive, is refused as dependency_cycle and writes nothing', async () => {
    const a = await create('cycle A');
    const b = await create('cycle B');
    const c = await create('cycle C');
    await add(a.id, b.id);
    await add(b.id, c.id);
    const entries = await ctx.count('audit_entries');

    for (const [from, to] of [
      [b.id, a.id],
      [c.id, a.id],
    ]) {
      const error = await add(from, to).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'dependency_cycle' });
    }
    expect(await edges(c.id)).toEqual([]);
    expect(await edges(b.id)).toEqual([{ depends_on_id: c.id }]);
    expect(await ctx.count('audit_entries')).toBe(entries);
  });

  it('a task cannot depend on itself, nor on a missing task', async () => {
    const a = await create('self');
    await expect(add(a.id, a.id)).rejects.toBeInstanceOf(ValidationFailedError);
    await expect(add(a.id, 2_000_000_000)).rejects.toMatchObject({
      code: 'task_not_found',
      message: 'Task 2000000000 not found',
    });
    expect(await edges(a.id)).toEqual([]);
  });

  it('a blocked task cannot start until its dependency is completed', async () => {
    const lifecycle = ctx.get(TaskLifecycleService);
    const alice = ctx.human('alice');
    const blocked = await create('waits');
    const blocker = await create('first');
    await add(blocked.id, blocker.id);

    const error = await ctx
      .run(alice, 'started', () => lifecycle.start(blocked.id, alice))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'dependency_unfinished' });
    expect((await ctx.rows('SELECT status FROM tasks WHERE id = $1', [blocked.id]))[0]).toEqual({
      status: 'pending',
    });

    await ctx.run(alice, 'started', () => lifecycle.start(blocker.id, alice));
    await ctx.run(alice, 'completed', () => lifecycle.move(blocker.id, 'complete', alice));
    const started = await ctx.run(alice, 'started', () => lifecycle.start(blocked.id, alice));
    expect(started).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
  });

  it('a task others depend on cannot be removed: task_has_dependents', async () => {
    const a = await create('dependent');
    const b = await create('depended on');
    await add(a.id, b.id);
    await expect(
      ctx.run(admin, 'deleted', () => ctx.get(TasksService).remove(b.id, admin)),
    ).rejects.toMatchObject({ code: 'task_has_dependents' });
    expect(await ctx.rows('SELECT id FROM tasks WHERE id = $1', [b.id])).toEqual([{ id: b.id }]);
  });
});
