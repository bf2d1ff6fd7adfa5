import type { AuthUser } from '../../src/auth/auth-user';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../src/common/errors/domain-errors';
import type { CreateTaskDto } from '../../src/tasks/dto/create-task.dto';
import type { Task } from '../../src/tasks/task.entity';
import { TasksService } from '../../src/tasks/tasks.service';
import { ServiceContext } from '../support/service-context';

describe('TasksService through the unit of work', () => {
  let ctx: ServiceContext;
  let tasks: TasksService;
  let admin: AuthUser;
  let alice: AuthUser;

  const create = (dto: CreateTaskDto, caller = admin): Promise<Task> =>
    ctx.run(caller, 'created', () => tasks.create(dto, caller));
  const taskRow = async (id: number) =>
    (await ctx.rows<Record<string, unknown>>('SELECT * FROM tasks WHERE id = $1', [id]))[0];

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    tasks = ctx.get(TasksService);
    admin = ctx.admin();
    alice = ctx.human('alice');
    await ctx.projects(['web', 'tmp', 'listing'], ['alice']);
  });

  afterAll(() => ctx?.close());

  describe('create', () => {
    it('inserts the task and records created with its snapshot', async () => {
      const due = new Date('2030-01-02T03:04:05.000Z');
      const task = await create(
        { title: 'Ship it', priority: 'high', project_slug: 'web', due_date: due },
        alice,
      );
      expect(task).toMatchObject({
        title: 'Ship it',
        status: 'pending',
        priority: 'high',
        project_slug: 'web',
        assigned_to: null,
        progress_percent: 0,
      });
      expect(await taskRow(task.id)).toMatchObject({
        title: 'Ship it',
        status: 'pending',
        priority: 'high',
        created_by: 'alice',
        due_date: due,
      });
      const [entry] = await ctx.audit(task.id);
      expect(entry).toMatchObject({ action: 'created', actor_id: 'alice', project_slug: 'web' });
      expect(entry.context).toMatchObject({
        title: 'Ship it',
        priority: 'high',
        status: 'pending',
        due_date: '2030-01-02T03:04:05.000Z',
      });
    });

    it('a missing parent is a validation error on parent_id, and nothing is written', async () => {
      const before = await ctx.count('tasks');
      const entries = await ctx.count('audit_entries');
      const error = await create({ title: 'Orphan', parent_id: 2_000_000_000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationFailedError);
      expect((error as ValidationFailedError).details).toEqual([
        { field: 'parent_id', message: 'parent_id 2000000000: no such task' },
      ]);
      expect(await ctx.count('tasks')).toBe(before);
      expect(await ctx.count('audit_entries')).toBe(entries);
    });

    it('a pre-assignment to a worker without the required capabilities is refused', async () => {
      await expect(
        create({ title: 'Needs GPU', assigned_to: 'alice', required_capabilities: ['gpu'] }),
      ).rejects.toMatchObject({ code: 'capability_missing' });
      expect(await ctx.rows("SELECT id FROM tasks WHERE title = 'Needs GPU'")).toEqual([]);
    });
  });

  describe('update', () => {
    it('plain fields are one updated entry with from/to per field', async () => {
      const task = await create({ title: 'Draft', priority: 'low' });
      const { task: updated, changes } = await ctx.run(admin, 'updated', () =>
        tasks.update(
          task.id,
          { title: 'Final', priority: 'low', description: 'Now with text' },
          admin,
        ),
      );
      expect(changes).toEqual({
        title: { from: 'Draft', to: 'Final' },
        description: { from: null, to: 'Now with text' },
      });
      expect(updated).toMatchObject({ title: 'Final', description: 'Now with text' });
      expect(await taskRow(task.id)).toMatchObject({
        title: 'Final',
        description: 'Now with text',
      });
      const entries = await ctx.audit(task.id);
      expect(entries.map((e) => e.action)).toEqual(['created', 'updated']);
      expect(entries[1].context).toEqual(changes);
    });

    it('a status goes through the move table and is audited as that move', async () => {
      const task = await create({ title: 'Patch me' });
      const { task: updated, changes } = await ctx.run(alice, 'updated', () =>
        tasks.update(task.id, { title: 'Patched', status: 'in_progress' }, alice),
      );
      expect(changes).toEqual({
        title: { from: 'Patch me', to: 'Patched' },
        status: { from: 'pending', to: 'in_progress' },
      });
      expect(updated).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
      expect(await taskRow(task.id)).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
      const entries = await ctx.audit(task.id);
      expect(entries.map((e) => [e.action, e.actor_id])).toEqual([
        ['created', 'admin-1'],
        ['updated', 'alice'],
        ['started', 'alice'],
      ]);
      expect(entries[1].context).toEqual({ title: { from: 'Patch me', to: 'Patched' } });
    });

    it('assigned_to is the move assign, recorded with from/to', async () => {
      const task = await create({ title: 'Hand over' });
      await ctx.run(admin, 'updated', () => tasks.update(task.id, { assigned_to: 'alice' }, admin));
      expect(await taskRow(task.id)).toMatchObject({ assigned_to: 'alice', status: 'pending' });
      const [, assigned] = await ctx.audit(task.id);
      expect(assigned).toMatchObject({ action: 'assigned', context: { from: null, to: 'alice' } });
    });

    it('a status no move reaches is refused and nothing of the request is written', async () => {
      const task = await create({ title: 'Stay pending' });
      const error = await ctx
        .run(admin, 'updated', () =>
          tasks.update(task.id, { title: 'Renamed', status: 'completed' }, admin),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'invalid_transition' });
      expect(await taskRow(task.id)).toMatchObject({ title: 'Stay pending', status: 'pending' });
      expect((await ctx.audit(task.id)).map((e) => e.action)).toEqual(['created']);
    });

    it('an unchanged update records nothing and writes nothing', async () => {
      const task = await create({ title: 'Same', priority: 'medium' });
      const before = await taskRow(task.id);
      const { changes } = await ctx.run(admin, 'updated', () =>
        tasks.update(task.id, { title: 'Same', priority: 'medium' }, admin),
      );
      expect(changes).toEqual({});
      expect(await taskRow(task.id)).toEqual(before);
      expect((await ctx.audit(task.id)).map((e) => e.action)).toEqual(['created']);
    });

    it('a parent that is a subtask of the task is a cycle', async () => {
      const parent = await create({ title: 'Parent' });
      const child = await create({ title: 'Child', parent_id: parent.id });
      await expect(
        ctx.run(admin, 'updated', () => tasks.update(parent.id, { parent_id: child.id }, admin)),
      ).rejects.toBeInstanceOf(ValidationFailedError);
      expect(await taskRow(parent.id)).toMatchObject({ parent_id: null });
    });
  });

  describe('remove', () => {
    it('deletes the row and records deleted with the snapshot; the history stays', async () => {
      const task = await create({ title: 'Temporary', project_slug: 'tmp' });
      const removed = await ctx.run(admin, 'deleted', () => tasks.remove(task.id, admin));
      expect(removed.id).toBe(task.id);
      expect(await taskRow(task.id)).toBeUndefined();
      const entries = await ctx.audit(task.id);
      expect(entries.map((e) => e.action)).toEqual(['created', 'deleted']);
      expect(entries[1]).toMatchObject({ project_slug: 'tmp', prev_hash: entries[0].hash });
      expect(entries[1].context).toMatchObject({ title: 'Temporary', project_slug: 'tmp' });
    });

    it('a missing task is task_not_found; a parent with subtasks is task_has_subtasks', async () => {
      await expect(
        ctx.run(admin, 'deleted', () => tasks.remove(2_000_000_000, admin)),
      ).rejects.toEqual(expect.objectContaining({ code: 'task_not_found' }));
      const parent = await create({ title: 'Has kids' });
      await create({ title: 'Kid', parent_id: parent.id });
      const error = await ctx
        .run(admin, 'deleted', () => tasks.remove(parent.id, admin))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'task_has_subtasks' });
      expect(await taskRow(parent.id)).toBeDefined();
    });

    it('findOne of a removed task is NotFoundError', async () => {
      const task = await create({ title: 'Gone soon' });
      await ctx.run(admin, 'deleted', () => tasks.remove(task.id, admin));
      await expect(tasks.findOne(task.id, admin)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('list', () => {
    let listed: Task[];

    beforeAll(async () => {
      listed = [];
      const specs: CreateTaskDto[] = [
        { title: 'alpha report', priority: 'low' },
        { title: 'beta report', priority: 'high' },
        { title: 'gamma chore', priority: 'medium', assigned_to: 'alice' },
        { title: 'delta chore', priority: 'high' },
        { title: 'epsilon report', priority: 'critical' },
      ];
      for (const spec of specs) listed.push(await create({ ...spec, project_slug: 'listing' }));
      await ctx.run(admin, 'blocked', () =>
        ctx.get(TasksService).update(listed[3].id, { status: 'blocked' }, admin),
      );
    });

    it('filters by project, status, priority, assignee and text', async () => {
      const ids = (page: { items: Task[] }) => page.items.map((t) => t.id);
      expect(await tasks.list({ project: 'listing' }, admin)).toMatchObject({ total: 5 });
      expect(ids(await tasks.list({ project: 'listing', status: 'blocked' }, admin))).toEqual([
        listed[3].id,
      ]);
      expect(ids(await tasks.list({ project: 'listing', priority: 'high' }, admin))).toEqual([
        listed[1].id,
        listed[3].id,
      ]);
      expect(ids(await tasks.list({ project: 'listing', assigned_to: 'alice' }, admin))).toEqual([
        listed[2].id,
      ]);
      expect(ids(await tasks.list({ project: 'listing', q: 'report' }, admin))).toEqual([
        listed[0].id,
        listed[1].id,
        listed[4].id,
      ]);
    });

    it('pages carry the total of all matches, whatever the limit and offset', async () => {
      const first = await tasks.list({ project: 'listing', limit: 2, offset: 0 }, admin);
      expect(first.total).toBe(5);
      expect(first.items.map((t) => t.id)).toEqual([listed[0].id, listed[1].id]);
      const last = await tasks.list({ project: 'listing', limit: 2, offset: 4 }, admin);
      expect(last).toMatchObject({ total: 5 });
      expect(last.items.map((t) => t.id)).toEqual([listed[4].id]);
      const beyond = await tasks.list({ project: 'listing', limit: 2, offset: 10 }, admin);
      expect(beyond).toEqual({ items: [], total: 5 });
      const none = await tasks.list({ project: 'no-such-project' }, admin);
      expect(none).toEqual({ items: [], total: 0 });
    });

    it('sorts by priority descending, ties by id in the same direction', async () => {
      const page = await tasks.list({ project: 'listing', sort: '-priority' }, admin);
      expect(page.items.map((t) => t.title)).toEqual([
        'epsilon report',
        'delta chore',
        'beta report',
        'gamma chore',
        'alpha report',
      ]);
    });
  });

  it('refusals are typed', async () => {
    const task = await create({ title: 'Pre-assigned', assigned_to: 'alice' });
    await expect(
      ctx.run(ctx.human('mallory'), 'updated', () =>
        tasks.update(task.id, { assigned_to: 'mallory' }, ctx.human('mallory')),
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(await taskRow(task.id)).toMatchObject({ assigned_to: 'alice' });
  });
});
