import type { AuthUser } from '../../src/auth/auth-user';
import { ConflictError, ValidationFailedError } from '../../src/common/errors/domain-errors';
import { TaskDependenciesService } from '../../src/tasks/task-dependencies.service';
import type { Task } from '../../src/tasks/task.entity';
import { TasksService } from '../../src/tasks/tasks.service';
import { eventually } from '../support/webhook-receiver';
import { ServiceContext } from '../support/service-context';

/**
 * Reference changes (parents, dependencies, moves between projects) lock only the tasks their
 * checks read. Each case holds one unit of work open after its check and watches what a second
 * one does meanwhile: finish (nothing shared) or wait on a reference lock (sets that meet).
 */
describe('Reference locks: per task, not per board', () => {
  let ctx: ServiceContext;
  let tasks: TasksService;
  let dependencies: TaskDependenciesService;
  let admin: AuthUser;

  const create = (title: string, extra: { parent_id?: number } = {}): Promise<Task> =>
    ctx.run(admin, 'created', () =>
      tasks.create({ title, project_slug: 'locks', ...extra }, admin),
    );
  const reparent = (id: number, parentId: number) =>
    ctx.run(admin, 'updated', () => tasks.update(id, { parent_id: parentId }, admin));
  const depend = (id: number, on: number) =>
    ctx.run(admin, 'dependency_added', () => dependencies.add(id, on, admin));

  /** Runs `change` in a unit of work that stays open, after the change, until `release()`. */
  function heldOpen(action: 'updated' | 'dependency_added', change: () => Promise<unknown>) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let changed!: () => void;
    const done = new Promise<void>((resolve) => (changed = resolve));
    const committed = ctx.run(admin, action, async () => {
      await change();
      changed();
      await gate;
    });
    return { done, release, committed };
  }

  /** Backends of this database waiting for an advisory lock right now. */
  const waitingOnReferenceLock = async (): Promise<number> => {
    const [row] = await ctx.rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()`,
    );
    return row.n;
  };

  /** `work` settles while the held unit of work is still open: nothing made it wait. */
  async function settlesWhileHeld<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      work.then((value) => ({ value })),
      new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), 5_000))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === 'waiting') throw new Error('the second change waited for the first');
    return outcome.value;
  }

  /**
   * Starts `second` while `first` is held, checks that it waits on a reference lock, lets `first`
   * commit, and answers how `second` ended: its value, or the error it was refused with.
   */
  async function waitsFor(
    first: ReturnType<typeof heldOpen>,
    second: () => Promise<unknown>,
  ): Promise<unknown> {
    await first.done;
    const outcome = second().then(
      (value) => value,
      (error: unknown) => error,
    );
    try {
      await eventually('the second change to wait', async () =>
        (await waitingOnReferenceLock()) > 0 ? true : undefined,
      );
    } finally {
      first.release();
      await first.committed;
    }
    return outcome;
  }

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    tasks = ctx.get(TasksService);
    dependencies = ctx.get(TaskDependenciesService);
    admin = ctx.admin();
    await ctx.projects(['locks', 'locks-2', 'locks-3']);
  });

  afterAll(() => ctx?.close());

  it('reparenting in one tree does not wait for reparenting in another', async () => {
    const [a, b, c, d] = await Promise.all(['A', 'B', 'C', 'D'].map((t) => create(t)));
    const first = heldOpen('updated', () => tasks.update(a.id, { parent_id: b.id }, admin));
    await first.done;
    try {
      const second = await settlesWhileHeld(reparent(c.id, d.id));
      expect(second.task.parent_id).toBe(d.id);
    } finally {
      first.release();
      await first.committed;
    }
  });

  it('adding a dependency elsewhere does not wait, nor does a new subtask elsewhere', async () => {
    const [a, b, c, d] = await Promise.all(['A', 'B', 'C', 'D'].map((t) => create(t)));
    const first = heldOpen('dependency_added', () => dependencies.add(a.id, b.id, admin));
    await first.done;
    try {
      await settlesWhileHeld(depend(c.id, d.id));
      const child = await settlesWhileHeld(create('child of D', { parent_id: d.id }));
      expect(child.parent_id).toBe(d.id);
    } finally {
      first.release();
      await first.committed;
    }
  });

  it('two opposite reparentings meet: the second waits, then sees the cycle', async () => {
    const [a, b] = await Promise.all(['A', 'B'].map((t) => create(t)));
    const first = heldOpen('updated', () => tasks.update(a.id, { parent_id: b.id }, admin));
    const error = await waitsFor(first, () => reparent(b.id, a.id));
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).details[0].message).toContain('cycle');
  });

  it('a reparenting deep in a chain meets one at its root', async () => {
    // root ← mid ← leaf, and other held moving under leaf: root under other would close a loop.
    const root = await create('root');
    const mid = await create('mid', { parent_id: root.id });
    const leaf = await create('leaf', { parent_id: mid.id });
    const other = await create('other');
    const first = heldOpen('updated', () => tasks.update(other.id, { parent_id: leaf.id }, admin));
    const error = await waitsFor(first, () => reparent(root.id, other.id));
    expect(error).toBeInstanceOf(ValidationFailedError);
  });

  it('moves between projects of a parent and its subtask meet; of unrelated tasks, do not', async () => {
    const parent = await create('parent');
    const child = await create('child', { parent_id: parent.id });
    const loner = await create('loner');
    const move = (id: number, slug: string) =>
      ctx.run(admin, 'updated', () => tasks.update(id, { project_slug: slug }, admin));
    const first = heldOpen('updated', () =>
      tasks.update(parent.id, { project_slug: 'locks-2' }, admin),
    );
    const moved = await waitsFor(first, async () => {
      await settlesWhileHeld(move(loner.id, 'locks-3'));
      return move(child.id, 'locks-3');
    });
    // Decided after the parent's move committed: both projects are internal, so it may go.
    expect(moved).toMatchObject({ task: { project_slug: 'locks-3' } });
  });

  it('two opposite dependencies meet: the second waits, then sees the cycle', async () => {
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((t) => create(t)));
    await depend(b.id, c.id);
    // a → b → c held open; c → a would close the loop through b.
    const first = heldOpen('dependency_added', () => dependencies.add(a.id, b.id, admin));
    const error = await waitsFor(first, () => depend(c.id, a.id));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('dependency_cycle');
  });
});
