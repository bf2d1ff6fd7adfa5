import { Client } from 'pg';
import type { Response } from 'supertest';
import { createTaskId, insertProject, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * Paging `GET /api/tasks` by cursor (`Link: <…>; rel="next"`) and its `X-Total-Count`: every
 * walk is compared with the same list ordered by PostgreSQL in one statement.
 */
describe('Task list paging by cursor (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let db: Client;
  let alice: Actor;

  beforeAll(async () => {
    ({ t, db } = await startApp());
    alice = await t.actor('alice');
    await insertProject(db, 'open', 'root');
    // Alice is no member: its tasks must never show in her pages.
    await insertProject(db, 'secret', 'root', { visibility: 'private' });
    // Ties everywhere: four priorities, five due dates and none for a third, created and updated
    // at instants a microsecond apart (closer than a JavaScript Date can tell).
    await db.query(`
      INSERT INTO tasks (title, status, priority, project_slug, due_date, created_by, tags,
                         created_at, updated_at)
      SELECT 'walk ' || g,
             (ARRAY['pending','in_progress','completed'])[1 + g % 3]::task_status,
             (ARRAY['low','medium','high','critical'])[1 + g % 4]::task_priority,
             (ARRAY[NULL, 'open', 'secret'])[1 + g % 3],
             CASE WHEN g % 3 <> 1 THEN '2026-06-01T00:00:00Z'::timestamptz + (g % 5) * interval '1 day' END,
             'root',
             ARRAY['walk', 'w' || (g % 2)],
             '2026-01-01T00:00:00Z'::timestamptz + (g % 6) * interval '1 microsecond',
             '2026-01-02T00:00:00Z'::timestamptz + (g % 7) * interval '1 microsecond'
      FROM generate_series(1, 90) g`);
  });

  afterAll(() => stopApp(t, db));

  const nextOf = (res: Response): string | undefined => {
    const link = res.headers.link as string | undefined;
    if (link === undefined) return undefined;
    const match = /^<(\/api\/tasks\?[^>]+)>; rel="next"$/.exec(link);
    if (!match) throw new Error(`not a next link: ${link}`);
    return match[1];
  };

  /** Every page from `url` on, following `next`: the ids in order and the answers. */
  const walk = async (url: string, actor = alice) => {
    const ids: number[] = [];
    const pages: Response[] = [];
    for (let next: string | undefined = url; next !== undefined; next = nextOf(pages[0])) {
      const res = await actor.get(next).expect(200);
      pages.unshift(res);
      ids.push(...res.body.map((task: { id: number }) => task.id));
      if (pages.length > 200) throw new Error('the walk does not end');
    }
    return { ids, pages: pages.reverse() };
  };

  const ORDER: Record<string, string> = {
    id: 'id ASC',
    priority: 'priority ASC, id ASC',
    due_date: 'due_date ASC NULLS LAST, id ASC',
    created_at: 'created_at ASC, id ASC',
    updated_at: 'updated_at ASC, id ASC',
  };
  /** What alice sees, in one ORDER BY (the reference a walk must match). */
  const expected = async (sort: string, where = 'TRUE'): Promise<number[]> => {
    const descending = sort.startsWith('-');
    let order = ORDER[descending ? sort.slice(1) : sort];
    if (descending) order = order.replace(/ASC/g, 'DESC');
    const { rows } = await db.query<{ id: number }>(
      `SELECT id FROM tasks WHERE (project_slug IS DISTINCT FROM 'secret') AND 'walk' = ANY(tags)
         AND ${where} ORDER BY ${order}`,
    );
    return rows.map((r) => r.id);
  };

  const SORTS = ['id', 'priority', 'due_date', 'created_at', 'updated_at'].flatMap((s) => [
    s,
    `-${s}`,
  ]);

  describe('following next', () => {
    it.each(SORTS)('walks every page of sort=%s in order, each visible task once', async (sort) => {
      const { ids, pages } = await walk(`/api/tasks?tag=walk&sort=${sort}&limit=7`);
      expect(ids).toEqual(await expected(sort));
      expect(ids).toHaveLength(60);
      expect(pages).toHaveLength(9);
      expect(pages[pages.length - 1].headers.link).toBeUndefined();
      for (const page of pages) expect(page.headers['x-total-count']).toBe('60');
    });

    it.each(SORTS)('walks sort=%s with a filter, the filter kept in every link', async (sort) => {
      const { ids, pages } = await walk(
        `/api/tasks?tag=walk&status=pending&any_tag=w0&any_tag=w1&sort=${sort}&limit=4`,
      );
      expect(ids).toEqual(await expected(sort, `status = 'pending'`));
      for (const page of pages.slice(0, -1)) {
        expect(nextOf(page)).toContain('status=pending');
        expect(nextOf(page)).toContain('any_tag=w0&any_tag=w1');
      }
    });

    it('crosses from the dated tasks to the undated ones on a page boundary, both ways', async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tasks WHERE project_slug IS DISTINCT FROM 'secret'
           AND 'walk' = ANY(tags) AND due_date IS NOT NULL`,
      );
      const dated = rows[0].n;
      for (const sort of ['due_date', '-due_date']) {
        const { ids, pages } = await walk(`/api/tasks?tag=walk&sort=${sort}&limit=${dated}`);
        expect(ids).toEqual(await expected(sort));
        expect(pages[0].body.every((task: { due_date: string | null }) => task.due_date)).toBe(
          true,
        );
        expect(pages[1].body.every((task: { due_date: string | null }) => !task.due_date)).toBe(
          true,
        );
      }
    });

    it('continues an offset page by cursor, without its offset', async () => {
      const first = await alice.get('/api/tasks?tag=walk&sort=-priority&limit=5&offset=10');
      const next = nextOf(first);
      expect(next).not.toContain('offset=');
      const rest = await walk(next!);
      expect([...first.body.map((task: { id: number }) => task.id), ...rest.ids]).toEqual(
        (await expected('-priority')).slice(10),
      );
    });

    it('neither repeats nor skips the tasks present throughout when tasks come and go', async () => {
      for (const sort of ['id', '-created_at', 'priority', '-due_date']) {
        const before = await expected(sort);
        const first = await alice.get(`/api/tasks?tag=walk&sort=${sort}&limit=10`).expect(200);
        const seen: number[] = first.body.map((task: { id: number }) => task.id);
        // New tasks on either side of the cursor, and one not yet seen deleted.
        const added = [
          await createTaskId(alice, { title: 'late', tags: ['walk'], priority: 'low' }),
          await createTaskId(alice, { title: 'late', tags: ['walk'], priority: 'critical' }),
          await createTaskId(alice, { title: 'late', tags: ['walk'], due_date: '2026-06-02' }),
        ];
        const gone = before[25];
        await alice.delete(`/api/tasks/${gone}`).expect(204);
        const rest = await walk(nextOf(first)!);
        const all = [...seen, ...rest.ids];
        expect(new Set(all).size).toBe(all.length);
        expect(all.filter((id) => !added.includes(id))).toEqual(before.filter((id) => id !== gone));
      }
    });
  });

  describe('refused cursors', () => {
    let cursor: string;
    beforeAll(async () => {
      const res = await alice.get('/api/tasks?tag=walk&sort=priority&limit=3').expect(200);
      cursor = new URLSearchParams(nextOf(res)!.split('?')[1]).get('cursor')!;
    });

    const refused = async (query: string, code: string, field = 'cursor') => {
      const res = await alice.get(`/api/tasks?${query}`).expect(422);
      expect(res.body).toMatchObject({ status_code: 422, code });
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([field]);
    };

    it('takes its own cursor back', async () => {
      await alice.get(`/api/tasks?tag=walk&sort=priority&limit=9&cursor=${cursor}`).expect(200);
    });

    it.each([
      ['another filter', 'tag=walk&sort=priority&status=pending'],
      ['a filter dropped', 'sort=priority'],
      ['another sort', 'tag=walk&sort=-priority'],
      ['the default sort', 'tag=walk'],
    ])('answers a cursor reused with %s with 422 cursor_mismatch', async (_name, query) => {
      await refused(`${query}&cursor=${cursor}`, 'cursor_mismatch');
    });

    const forged = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
    it.each([
      ['not base64 JSON', 'nonsense'],
      ['JSON but no position', forged({ hello: 1 })],
      ['an id out of range', forged({ s: 'x', k: 'low', i: 0 })],
    ])('answers a cursor that is %s with 422 invalid_cursor', async (_name, bad) => {
      await refused(`tag=walk&sort=priority&cursor=${bad}`, 'invalid_cursor');
    });

    it('answers a cursor whose key is no value of the sort with 422 invalid_cursor', async () => {
      const position = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { s: string };
      for (const k of ['urgent', null, '2026-01-01T00:00:00.000000Z']) {
        const bad = forged({ ...position, k });
        await refused(`tag=walk&sort=priority&cursor=${bad}`, 'invalid_cursor');
      }
    });

    it('answers cursor with offset with 422 naming offset', async () => {
      await refused(
        `tag=walk&sort=priority&offset=0&cursor=${cursor}`,
        'validation_failed',
        'offset',
      );
    });

    it('answers count=rough with 422 naming count', async () => {
      await refused('count=rough', 'validation_failed', 'count');
    });
  });

  describe('X-Total-Count', () => {
    beforeAll(async () => {
      // More matches than the exact count goes up to (1000), in SQL.
      await db.query(`
        INSERT INTO tasks (title, created_by, tags, priority)
        SELECT 'bulk ' || g, 'root', ARRAY['bulk'], 'high' FROM generate_series(1, 1500) g`);
    });

    const bulk = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE 'bulk' = ANY(tags)`)).rows[0]
        .n as number;

    it('is exact and unflagged below the bound, on a cursor page too', async () => {
      const first = await alice.get('/api/tasks?tag=walk&limit=5').expect(200);
      const second = await alice.get(nextOf(first)!).expect(200);
      for (const res of [first, second]) {
        expect(res.headers['x-total-count']).toBe(String((await expected('id')).length));
        expect(res.headers['x-total-count-estimated']).toBeUndefined();
      }
    });

    it('is flagged as an estimate beyond the bound, never below it', async () => {
      const first = await alice.get('/api/tasks?tag=bulk&limit=5').expect(200);
      const deep = await alice.get(nextOf(first)!).expect(200);
      for (const res of [first, deep]) {
        expect(res.headers['x-total-count-estimated']).toBe('true');
        expect(Number(res.headers['x-total-count'])).toBeGreaterThan(1000);
      }
    });

    it('is exact with count=exact, however many match', async () => {
      const res = await alice.get('/api/tasks?tag=bulk&count=exact&limit=5').expect(200);
      expect(res.headers['x-total-count']).toBe(String(await bulk()));
      expect(res.headers['x-total-count-estimated']).toBeUndefined();
      expect(nextOf(res)).toContain('count=exact');
      const next = await alice.get(nextOf(res)!).expect(200);
      expect(next.headers['x-total-count']).toBe(String(await bulk()));
    });

    it('is exact when the first page holds every match', async () => {
      const res = await alice.get('/api/tasks?tag=w0&tag=walk&status=pending').expect(200);
      expect(res.headers['x-total-count']).toBe(String(res.body.length));
      expect(res.headers['x-total-count-estimated']).toBeUndefined();
      expect(res.headers.link).toBeUndefined();
    });
  });
});
