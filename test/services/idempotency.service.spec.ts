import type { AuthUser } from '../../src/auth/auth-user';
import { UnitOfWork } from '../../src/audit/unit-of-work';
import { ValidationFailedError } from '../../src/common/errors/domain-errors';
import { IdempotencyService, fingerprintOf } from '../../src/idempotency/idempotency.service';
import { SecretField } from '../../src/idempotency/secret-field';
import type { CreateTaskDto } from '../../src/tasks/dto/create-task.dto';
import { TasksService } from '../../src/tasks/tasks.service';
import { ServiceContext } from '../support/service-context';

describe('Idempotency-Key through UnitOfWork.runOnce', () => {
  let ctx: ServiceContext;
  let unitOfWork: UnitOfWork;
  let tasks: TasksService;
  let admin: AuthUser;
  let calls: number;

  const createOnce = (key: string, dto: CreateTaskDto, caller = admin) =>
    unitOfWork.runOnce(
      { actorId: caller.id, action: 'created' },
      { key, fingerprint: fingerprintOf('POST', '/api/tasks', dto), statusCode: () => 201 },
      () => {
        calls += 1;
        return tasks.create(dto, caller);
      },
    );
  const keyRow = async (actorId: string, key: string) =>
    (
      await ctx.rows<{ fingerprint: string; status_code: number | null; response: unknown }>(
        'SELECT fingerprint, status_code, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2',
        [actorId, key],
      )
    )[0];
  const titled = (title: string) => ctx.rows('SELECT id FROM tasks WHERE title = $1', [title]);

  beforeAll(async () => {
    ctx = await ServiceContext.start();
    unitOfWork = ctx.get(UnitOfWork);
    tasks = ctx.get(TasksService);
    admin = ctx.admin();
  });

  beforeEach(() => {
    calls = 0;
  });

  afterAll(() => ctx?.close());

  it('the same key twice replays the stored answer and writes nothing the second time', async () => {
    const dto = { title: 'Exactly once' };
    const first = await createOnce('key-1', dto);
    if (first.replayed) throw new Error('the first call must run');
    expect(first.value).toMatchObject({ title: 'Exactly once', status: 'pending' });
    const stored = await keyRow('admin-1', 'key-1');
    expect(stored).toMatchObject({
      fingerprint: fingerprintOf('POST', '/api/tasks', dto),
      status_code: 201,
      response: expect.objectContaining({ id: first.value.id, title: 'Exactly once' }),
    });
    const entries = await ctx.count('audit_entries');

    const second = await createOnce('key-1', dto);
    expect(second).toEqual({ replayed: true, statusCode: 201, response: stored.response });
    expect(calls).toBe(1);
    expect(await titled('Exactly once')).toHaveLength(1);
    expect(await ctx.count('audit_entries')).toBe(entries);
    expect((await ctx.audit(first.value.id)).map((e) => e.action)).toEqual(['created']);
  });

  it('finding 11: a @SecretField is answered once: never stored with the key, never replayed', async () => {
    class Issued {
      id: number;
      @SecretField()
      token?: string;
    }
    class IssuedPair extends Issued {
      @SecretField()
      second?: string;
    }
    const answer = {
      one: Object.assign(new Issued(), { id: 1, token: 'token-secret-1' }),
      items: [Object.assign(new IssuedPair(), { id: 2, token: 'token-secret-2', second: 'sec-2' })],
      note: 'a plain field stays',
    };
    const dto = { title: 'Issues secrets' };
    const issue = () =>
      unitOfWork.runOnce(
        { actorId: admin.id, action: 'created' },
        { key: 'key-secret', fingerprint: fingerprintOf('POST', '/x', dto), statusCode: () => 201 },
        async () => {
          calls += 1;
          await tasks.create(dto, admin);
          return answer;
        },
      );
    const redacted = { one: { id: 1 }, items: [{ id: 2 }], note: 'a plain field stays' };

    const first = await issue();
    expect(first).toEqual({ replayed: false, value: answer });
    const stored = await keyRow('admin-1', 'key-secret');
    expect(stored.response).toEqual(redacted);
    expect(JSON.stringify(stored)).not.toMatch(/token-secret|sec-2/);

    expect(await issue()).toEqual({ replayed: true, statusCode: 201, response: redacted });
    expect(calls).toBe(1);
  });

  it('the same key for a different request is a ValidationFailedError, and nothing runs', async () => {
    await createOnce('key-2', { title: 'Original' });
    const entries = await ctx.count('audit_entries');
    const error = await createOnce('key-2', { title: 'Something else' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).details[0].field).toBe('Idempotency-Key');
    expect(calls).toBe(1);
    expect(await titled('Something else')).toEqual([]);
    expect(await ctx.count('audit_entries')).toBe(entries);
  });

  it('keys are per caller: another actor with the same key runs', async () => {
    const bob = ctx.human('bob');
    await createOnce('shared-key', { title: 'By admin' });
    const outcome = await createOnce('shared-key', { title: 'By bob' }, bob);
    expect(outcome.replayed).toBe(false);
    expect(await titled('By bob')).toHaveLength(1);
    expect(await keyRow('bob', 'shared-key')).toMatchObject({ status_code: 201 });
  });

  it('a failed first attempt stores no key, so the retry runs', async () => {
    const dto = { title: 'Retry me' };
    await expect(
      unitOfWork.runOnce(
        { actorId: admin.id, action: 'created' },
        {
          key: 'key-3',
          fingerprint: fingerprintOf('POST', '/api/tasks', dto),
          statusCode: () => 201,
        },
        async () => {
          await tasks.create(dto, admin);
          throw new Error('crashed after the insert');
        },
      ),
    ).rejects.toThrow('crashed after the insert');
    expect(await keyRow('admin-1', 'key-3')).toBeUndefined();
    expect(await titled('Retry me')).toEqual([]);

    const retry = await createOnce('key-3', dto);
    expect(retry.replayed).toBe(false);
    expect(await titled('Retry me')).toHaveLength(1);
  });

  it('purge removes keys older than 24 hours and keeps the rest', async () => {
    await createOnce('old-key', { title: 'Old' });
    await createOnce('fresh-key', { title: 'Fresh' });
    await ctx.rows(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'`,
    );
    const keys = await ctx.count('idempotency_keys');

    expect(await ctx.get(IdempotencyService).purge()).toBe(1);
    expect(await keyRow('admin-1', 'old-key')).toBeUndefined();
    expect(await keyRow('admin-1', 'fresh-key')).toBeDefined();
    expect(await ctx.count('idempotency_keys')).toBe(keys - 1);
    expect(await ctx.get(IdempotencyService).purge()).toBe(0);
  });

  it('a key past 24 hours is taken over on reuse: the request runs again', async () => {
    await createOnce('stale-key', { title: 'Stale' });
    await ctx.rows(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'stale-key'`,
    );
    const again = await createOnce('stale-key', { title: 'Stale' });
    expect(again.replayed).toBe(false);
    expect(calls).toBe(2);
    expect(await titled('Stale')).toHaveLength(2);
  });
});
