import type { AuditAction } from '../../src/audit/audit-actions';
import type { AuthUser } from '../../src/auth/auth-user';
import {
  ConflictError,
  ForbiddenError,
  ValidationFailedError,
} from '../../src/common/errors/domain-errors';
import type { CreateTaskDto } from '../../src/tasks/dto/create-task.dto';
import { TaskLifecycleService } from '../../src/tasks/task-lifecycle.service';
import type { MoveName } from '../../src/tasks/task-moves';
import type { Task } from '../../src/tasks/task.entity';
import { TasksService } from '../../src/tasks/tasks.service';
import { WorkersService } from '../../src/workers/workers.service';
import { ServiceContext } from '../support/service-context';

describe('TaskLifecycleService through the unit of work', () => {
  let ctx: ServiceContext;
  let lifecycle: TaskLifecycleService;
  let admin: AuthUser;
  let alice: AuthUser;
  let bob: AuthUser;

  const create = (dto: CreateTaskDto): Promise<Task> =>
    ctx.run(admin, 'created', () => ctx.get(TasksService).create(dto, admin));
  const move = (
    id: number,
    name: MoveName,
    caller: AuthUser,
    action: AuditAction,
    options: Parameters<TaskLifecycleService['move']>[3] = {},
  ): Promise<Task> => ctx.run(caller, action, () => lifecycle.move(id, name, caller, options));
  const row = async (id: number) =>
    (
      await ctx.rows<{
        status: string;
        assigned_to: string | null;
        progress_percent: number;
        lease_expires_at: Date | null;
      }>(
        'SELECT status, assigned_to, progress_percent, lease_expires_at FROM tasks WHERE id = $1',
        [id],
      )
    )[0];
  const actions = async (id: number) => (await ctx.audit(id)).map((e) => e.action);

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    lifecycle = ctx.get(TaskLifecycleService);
    admin = ctx.admin();
    alice = ctx.human('alice');
    bob = ctx.human('bob');
    await ctx.projects(['claim-one'], ['alice', 'bob']);
  });

  afterAll(() => ctx?.close());

  it('start → progress → review → reject → review → approve, each an entry of its own', async () => {
    const task = await create({ title: 'Write the report' });

    const started = await ctx.run(alice, 'started', () => lifecycle.start(task.id, alice, 600));
    expect(started).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });
    expect(started.lease_expires_at).toBeInstanceOf(Date);
    expect((await row(task.id)).lease_expires_at).not.toBeNull();

    const progressed = await ctx.run(alice, 'progressed', () =>
      lifecycle.progress(task.id, alice, 40, 'halfway-ish'),
    );
    expect(progressed.progress_percent).toBe(40);

    await move(task.id, 'review', alice, 'review_requested');
    expect(await row(task.id)).toMatchObject({ status: 'review', lease_expires_at: null });

    const rejected = await ctx.run(bob, 'rejected', () =>
      lifecycle.reject(task.id, bob, 'missing figures'),
    );
    expect(rejected).toMatchObject({ status: 'in_progress', assigned_to: 'alice' });

    await move(task.id, 'review', alice, 'review_requested');
    const approved = await move(task.id, 'approve', bob, 'approved');
    expect(approved).toMatchObject({ status: 'completed', progress_percent: 100 });
    expect(await row(task.id)).toMatchObject({
      status: 'completed',
      assigned_to: 'alice',
      progress_percent: 100,
    });

    const entries = await ctx.audit(task.id);
    expect(entries.map((e) => [e.action, e.actor_id])).toEqual([
      ['created', 'admin-1'],
      ['started', 'alice'],
      ['progressed', 'alice'],
      ['review_requested', 'alice'],
      ['rejected', 'bob'],
      ['review_requested', 'alice'],
      ['approved', 'bob'],
    ]);
    expect(entries[2].context).toEqual({ percent: 40, note: 'halfway-ish' });
    expect(entries[4].context).toEqual({ reason: 'missing figures' });
    entries.forEach((entry, i) => {
      expect(entry.chain_seq).toBe(i + 1);
      expect(entry.prev_hash).toBe(i === 0 ? null : entries[i - 1].hash);
    });
  });

  it('complete by the assignee ends the task at 100%', async () => {
    const task = await create({ title: 'Quick fix' });
    await ctx.run(bob, 'started', () => lifecycle.start(task.id, bob));
    const done = await move(task.id, 'complete', bob, 'completed');
    expect(done).toMatchObject({ status: 'completed', progress_percent: 100 });
    expect(await row(task.id)).toMatchObject({ status: 'completed', lease_expires_at: null });
    expect(await actions(task.id)).toEqual(['created', 'started', 'completed']);
  });

  describe('refusals are domain errors with their code, and change nothing', () => {
    const claimedByAlice = async (title: string) => {
      const task = await create({ title });
      await ctx.run(alice, 'started', () => lifecycle.start(task.id, alice));
      return task;
    };
    const inReviewByAlice = async (title: string) => {
      const task = await claimedByAlice(title);
      await move(task.id, 'review', alice, 'review_requested');
      return task;
    };
    const cases: {
      name: string;
      given: () => Promise<Task>;
      attempt: (id: number) => Promise<unknown>;
      type: new (...args: never[]) => Error;
      code: string;
    }[] = [
      {
        name: 'start of a task claimed by someone else',
        given: () => claimedByAlice('Contested'),
        attempt: (id) => ctx.run(bob, 'started', () => lifecycle.start(id, bob)),
        type: ConflictError,
        code: 'task_claimed',
      },
      {
        name: 'start of a task pre-assigned to another',
        given: () => create({ title: 'For alice', assigned_to: 'alice' }),
        attempt: (id) => ctx.run(bob, 'started', () => lifecycle.start(id, bob)),
        type: ForbiddenError,
        code: 'not_assignee',
      },
      {
        name: 'progress by someone other than the assignee',
        given: () => claimedByAlice('Alice works'),
        attempt: (id) => ctx.run(bob, 'progressed', () => lifecycle.progress(id, bob, 10, null)),
        type: ForbiddenError,
        code: 'not_assignee',
      },
      {
        name: 'approve by the assignee',
        given: () => inReviewByAlice('Self-review'),
        attempt: (id) => move(id, 'approve', alice, 'approved'),
        type: ForbiddenError,
        code: 'reviewer_is_assignee',
      },
      {
        name: 'reject without a reason',
        given: () => inReviewByAlice('Needs a reason'),
        attempt: (id) => ctx.run(bob, 'rejected', () => lifecycle.reject(id, bob, '   ')),
        type: ValidationFailedError,
        code: 'validation_failed',
      },
      {
        name: 'complete of a pending task',
        given: () => create({ title: 'Not started' }),
        attempt: (id) => move(id, 'complete', admin, 'completed'),
        type: ConflictError,
        code: 'invalid_transition',
      },
      {
        name: 'start without the required capabilities',
        given: () => create({ title: 'GPU job', required_capabilities: ['gpu'] }),
        attempt: (id) => ctx.run(bob, 'started', () => lifecycle.start(id, bob)),
        type: ForbiddenError,
        code: 'capability_missing',
      },
    ];

    it.each(cases)('$name: $code', async ({ given, attempt, type, code }) => {
      const task = await given();
      const before = await row(task.id);
      const entries = await ctx.count('audit_entries');
      const error = await attempt(task.id).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ code });
      expect(await row(task.id)).toEqual(before);
      expect(await ctx.count('audit_entries')).toBe(entries);
    });

    it('a move on a missing task: task_not_found', async () => {
      await expect(
        ctx.run(alice, 'started', () => lifecycle.start(2_000_000_000, alice)),
      ).rejects.toMatchObject({ code: 'task_not_found' });
    });
  });

  it('start after the lease ran out is a takeover: the failed attempt, lease_expired, then started', async () => {
    const task = await create({ title: 'Abandoned' });
    await ctx.run(alice, 'started', () => lifecycle.start(task.id, alice, 60));
    await ctx.rows(
      "UPDATE tasks SET lease_expires_at = now() - interval '1 minute' WHERE id = $1",
      [task.id],
    );
    const taken = await ctx.run(bob, 'started', () => lifecycle.start(task.id, bob));
    expect(taken).toMatchObject({ status: 'in_progress', assigned_to: 'bob' });
    const entries = await ctx.audit(task.id);
    expect(entries.map((e) => [e.action, e.actor_id])).toEqual([
      ['created', 'admin-1'],
      ['started', 'alice'],
      ['failed', 'bob'],
      ['lease_expired', 'bob'],
      ['started', 'bob'],
    ]);
    expect(entries[2].context).toMatchObject({ reason: 'lease expired', attempt: 1 });
    expect(entries[3].context).toMatchObject({ previous_holder: 'alice' });
  });

  describe('claimNext', () => {
    it('claims the highest-priority task of the project, and records nothing when none is left', async () => {
      const low = await create({ title: 'low', project_slug: 'claim-one', priority: 'low' });
      const high = await create({ title: 'high', project_slug: 'claim-one', priority: 'high' });
      const first = await ctx.run(alice, 'started', () =>
        lifecycle.claimNext(alice, { project: 'claim-one' }),
      );
      expect(first).toMatchObject({ id: high.id, status: 'in_progress', assigned_to: 'alice' });
      const second = await ctx.run(bob, 'started', () =>
        lifecycle.claimNext(bob, { project: 'claim-one' }),
      );
      expect(second).toMatchObject({ id: low.id, assigned_to: 'bob' });

      const entries = await ctx.count('audit_entries');
      const none = await ctx.run(alice, 'started', () =>
        lifecycle.claimNext(alice, { project: 'claim-one' }),
      );
      expect(none).toBeUndefined();
      expect(await ctx.count('audit_entries')).toBe(entries);
    });

    it('N parallel claims on M < N tasks give each task to exactly one claimer', async () => {
      const project = 'claim-race';
      const m = 3;
      const n = 8;
      const claimers = Array.from({ length: n }, (_, i) => ctx.agent(`racer-${i}`));
      await ctx.projects(
        [project],
        claimers.map((c) => c.id),
      );
      const created: Task[] = [];
      for (let i = 0; i < m; i++)
        created.push(await create({ title: `race ${i}`, project_slug: project }));
      await Promise.all(
        claimers.map((c) =>
          ctx.run(admin, 'worker_registered', () =>
            ctx.get(WorkersService).register({ id: c.id, name: c.id, type: 'agent' }, admin),
          ),
        ),
      );

      const results = await Promise.all(
        claimers.map((c) => ctx.run(c, 'started', () => lifecycle.claimNext(c, { project }))),
      );

      const won = results.filter((t): t is Task => t !== undefined);
      expect(won).toHaveLength(m);
      expect(new Set(won.map((t) => t.id))).toEqual(new Set(created.map((t) => t.id)));
      expect(new Set(won.map((t) => t.assigned_to)).size).toBe(m);
      for (const t of won) {
        expect(t.assigned_to).toBe(claimers[results.indexOf(t)].id);
      }

      const rows = await ctx.rows<{ id: number; status: string; assigned_to: string }>(
        'SELECT id, status, assigned_to FROM tasks WHERE project_slug = $1 ORDER BY id',
        [project],
      );
      expect(rows.map((r) => r.status)).toEqual(Array(m).fill('in_progress'));
      expect(rows.map((r) => r.assigned_to)).toEqual(
        created.map((t) => won.find((w) => w.id === t.id)?.assigned_to),
      );
      const started = await ctx.rows<{ task_id: number; n: number; actor: string }>(
        `SELECT task_id, count(*)::integer AS n, min(actor_id) AS actor FROM audit_entries
          WHERE project_slug = $1 AND action = 'started' GROUP BY task_id ORDER BY task_id`,
        [project],
      );
      expect(started).toEqual(rows.map((r) => ({ task_id: r.id, n: 1, actor: r.assigned_to })));
    });
  });
});
