import type { AuthUser } from '../../src/auth/auth-user';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../src/common/errors/domain-errors';
import { WorkersService } from '../../src/workers/workers.service';
import { ServiceContext } from '../support/service-context';

describe('WorkersService through the unit of work', () => {
  let ctx: ServiceContext;
  let workers: WorkersService;
  let admin: AuthUser;

  const workerRow = async (id: string) =>
    (
      await ctx.rows<{ id: string; name: string; type: string; capabilities: string[] }>(
        'SELECT id, name, type, capabilities FROM workers WHERE id = $1',
        [id],
      )
    )[0];
  const entriesAbout = (id: string) =>
    ctx.rows<{ action: string; actor_id: string; context: Record<string, unknown> }>(
      `SELECT action, actor_id, context FROM audit_entries WHERE context ->> 'worker_id' = $1 ORDER BY id`,
      [id],
    );

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    workers = ctx.get(WorkersService);
    admin = ctx.admin();
  });

  afterAll(() => ctx?.close());

  it('an admin registers an agent with capabilities; the entry has no task', async () => {
    const worker = await ctx.run(admin, 'worker_registered', () =>
      workers.register({ id: 'bot-7', name: 'Bot 7', type: 'agent', capabilities: ['gpu'] }, admin),
    );
    expect(worker).toMatchObject({
      id: 'bot-7',
      name: 'Bot 7',
      type: 'agent',
      capabilities: ['gpu'],
    });
    expect(await workerRow('bot-7')).toEqual({
      id: 'bot-7',
      name: 'Bot 7',
      type: 'agent',
      capabilities: ['gpu'],
    });
    const [entry] = await ctx.rows<Record<string, unknown>>(
      `SELECT * FROM audit_entries WHERE action = 'worker_registered' AND context ->> 'worker_id' = 'bot-7'`,
    );
    expect(entry).toMatchObject({
      actor_id: 'admin-1',
      actor_type: 'human',
      task_id: null,
      context: { worker_id: 'bot-7', name: 'Bot 7', type: 'agent', capabilities: ['gpu'] },
      chain_seq: 1,
      prev_hash: null,
    });
    expect(await workers.typeOf('bot-7')).toBe('agent');
  });

  it('a plain user registers itself as human, defaulting the id to its own', async () => {
    const carol = ctx.human('carol');
    const worker = await ctx.run(carol, 'worker_registered', () =>
      workers.register({ name: 'Carol' }, carol),
    );
    expect(worker).toMatchObject({ id: 'carol', type: 'human', capabilities: [] });
    expect(await entriesAbout('carol')).toEqual([
      {
        action: 'worker_registered',
        actor_id: 'carol',
        context: { worker_id: 'carol', name: 'Carol', type: 'human', capabilities: [] },
      },
    ]);
  });

  it('a non-admin may not register another worker, an agent, or capabilities', async () => {
    const dave = ctx.human('dave');
    const attempt = (dto: Parameters<WorkersService['register']>[0]) =>
      ctx
        .run(dave, 'worker_registered', () => workers.register(dto, dave))
        .catch((e: unknown) => e);

    const other = await attempt({ id: 'someone-else', name: 'X' });
    expect(other).toBeInstanceOf(ForbiddenError);
    expect(other).toMatchObject({ code: 'admin_required' });
    expect(await attempt({ name: 'Dave', type: 'agent' })).toMatchObject({
      code: 'admin_required',
    });
    expect(await attempt({ name: 'Dave', capabilities: ['gpu'] })).toBeInstanceOf(
      ValidationFailedError,
    );
    expect(await workerRow('someone-else')).toBeUndefined();
    expect(await workerRow('dave')).toBeUndefined();
    expect(await ctx.rows(`SELECT id FROM audit_entries WHERE actor_id = 'dave'`)).toEqual([]);
  });

  it('registering twice is worker_exists', async () => {
    await ctx.run(admin, 'worker_registered', () =>
      workers.register({ id: 'twice', name: 'Once' }, admin),
    );
    const error = await ctx
      .run(admin, 'worker_registered', () =>
        workers.register({ id: 'twice', name: 'Twice' }, admin),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'worker_exists' });
    expect(await workerRow('twice')).toMatchObject({ name: 'Once' });
  });

  it('update records only the fields that changed; an unchanged update records nothing', async () => {
    await ctx.run(admin, 'worker_registered', () =>
      workers.register({ id: 'upd', name: 'Before', type: 'human' }, admin),
    );
    const updated = await ctx.run(admin, 'worker_updated', () =>
      workers.update('upd', { name: 'After', type: 'human', capabilities: ['docs'] }),
    );
    expect(updated).toMatchObject({ name: 'After', capabilities: ['docs'] });
    expect(await workerRow('upd')).toMatchObject({ name: 'After', capabilities: ['docs'] });

    await ctx.run(admin, 'worker_updated', () => workers.update('upd', { name: 'After' }));
    const entries = await entriesAbout('upd');
    expect(entries.map((e) => e.action)).toEqual(['worker_registered', 'worker_updated']);
    expect(entries[1].context).toEqual({
      worker_id: 'upd',
      name: { from: 'Before', to: 'After' },
      capabilities: { from: [], to: ['docs'] },
    });
  });

  it('remove deletes the worker and records it; a missing worker is worker_not_found', async () => {
    await ctx.run(admin, 'worker_registered', () =>
      workers.register({ id: 'leaver', name: 'Leaver', type: 'agent' }, admin),
    );
    await ctx.run(admin, 'worker_deleted', () => workers.remove('leaver'));
    expect(await workerRow('leaver')).toBeUndefined();
    const entries = await entriesAbout('leaver');
    expect(entries.at(-1)).toEqual({
      action: 'worker_deleted',
      actor_id: 'admin-1',
      context: { worker_id: 'leaver', name: 'Leaver', type: 'agent' },
    });

    for (const attempt of [
      () => ctx.run(admin, 'worker_deleted', () => workers.remove('leaver')),
      () => ctx.run(admin, 'worker_updated', () => workers.update('leaver', { name: 'X' })),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ code: 'worker_not_found' });
    }
  });

  it('list pages by type with a total', async () => {
    const agents = await workers.list({ type: 'agent', limit: 1 });
    expect(agents.total).toBe(1);
    expect(agents.items.map((w) => w.id)).toEqual(['bot-7']);
    const humans = await workers.list({ type: 'human' });
    expect(humans.items.map((w) => w.id).sort()).toEqual(['carol', 'twice', 'upd']);
    expect(humans.total).toBe(3);
  });
});
