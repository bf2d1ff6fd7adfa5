import { Actor, TestApp } from './support/test-app';

/** Issue 19: projects and their members, over HTTP (src/projects). */
describe('Projects and membership (e2e)', () => {
  let t: TestApp;
  let admin: Actor;
  let alice: Actor;
  let bob: Actor;
  let carol: Actor;
  let mallory: Actor;

  beforeAll(async () => {
    t = await TestApp.start();
    admin = await t.actor({ id: 'root', role: 'admin' });
    alice = await t.actor('alice');
    bob = await t.actor('bob');
    carol = await t.actor('carol');
    mallory = await t.actor('mallory');
  });

  afterAll(() => t.close());

  interface Entry {
    id: number;
    action: string;
    actor_id: string;
    context: unknown;
    project_slug: string;
  }

  /** The audit entries of a project as an admin sees them, oldest first. */
  const entries = async (slug: string): Promise<Entry[]> =>
    ((await admin.get(`/api/audit?project=${slug}&limit=100`).expect(200)).body as Entry[]).sort(
      (a, b) => a.id - b.id,
    );

  const create = (actor: Actor, slug: string, extra: object = {}) =>
    actor.post('/api/projects', { slug, name: `Project ${slug}`, ...extra });

  describe('POST /api/projects', () => {
    it('creates an internal project by default; the creator is its owner and first owner member', async () => {
      const res = await create(alice, 'alpha').expect(201);
      expect(res.body).toEqual({
        slug: 'alpha',
        name: 'Project alpha',
        description: null,
        visibility: 'internal',
        review_policy: 'other',
        owner: 'alice',
        created_at: expect.stringMatching(/Z$/),
        updated_at: expect.stringMatching(/Z$/),
      });
      const members = await alice.get('/api/projects/alpha/members').expect(200);
      expect(members.body).toEqual([
        { project_slug: 'alpha', worker_id: 'alice', role: 'owner', added_at: expect.any(String) },
      ]);
      expect(await entries('alpha')).toEqual([
        expect.objectContaining({
          action: 'project_created',
          actor_id: 'alice',
          project_slug: 'alpha',
          context: {
            slug: 'alpha',
            name: 'Project alpha',
            description: null,
            visibility: 'internal',
            review_policy: 'other',
            owner: 'alice',
          },
        }),
      ]);
    });

    it('answers a taken slug with 409 project_exists', async () => {
      const res = await create(bob, 'alpha').expect(409);
      expect(res.body).toMatchObject({ status_code: 409, code: 'project_exists' });
    });

    it.each([
      ['a bad slug', { slug: 'Not OK', name: 'x' }],
      ['a long slug', { slug: 'a'.repeat(101), name: 'x' }],
      ['no name', { slug: 'noname' }],
      ['a long name', { slug: 'longname', name: 'n'.repeat(201) }],
      ['a long description', { slug: 'longdesc', name: 'x', description: 'd'.repeat(10001) }],
      ['an unknown visibility', { slug: 'vis', name: 'x', visibility: 'public' }],
      ['a server-owned owner', { slug: 'own', name: 'x', owner: 'bob' }],
    ])('refuses %s (422)', async (_what, body) => {
      const res = await alice.post('/api/projects', body).expect(422);
      expect(res.body.code).toBe('validation_failed');
    });
  });

  describe('visibility', () => {
    beforeAll(async () => {
      await create(alice, 'secret', { visibility: 'private', description: 'hush' }).expect(201);
      await create(bob, 'open').expect(201);
    });

    it('hides a private project from a non-member: 404 on get, absent from the list', async () => {
      const res = await mallory.get('/api/projects/secret').expect(404);
      expect(res.body).toMatchObject({ code: 'project_not_found' });
      await mallory.get('/api/projects/secret/members').expect(404);
      const list = await mallory.get('/api/projects').expect(200);
      expect(list.body.map((p: { slug: string }) => p.slug)).toEqual(['alpha', 'open']);
      expect(list.headers['x-total-count']).toBe('2');
    });

    it('shows it to its members and to admins; internal projects to everyone', async () => {
      await alice.get('/api/projects/secret').expect(200);
      await admin.get('/api/projects/secret').expect(200);
      await mallory.get('/api/projects/open').expect(200);
      const list = await admin.get('/api/projects?limit=2&offset=1').expect(200);
      expect(list.body.map((p: { slug: string }) => p.slug)).toEqual(['open', 'secret']);
      expect(list.headers['x-total-count']).toBe('3');
    });

    it("hides a private project's audit entries from non-members", async () => {
      const mine = await alice.get('/api/audit?project=secret').expect(200);
      expect(mine.body.map((e: { action: string }) => e.action)).toEqual(['project_created']);
      const theirs = await mallory.get('/api/audit?project=secret').expect(200);
      expect(theirs.body).toEqual([]);
    });

    it('answers writes on an invisible project with 404, never 403', async () => {
      await mallory.patch('/api/projects/secret', { name: 'Mine' }).expect(404);
      await mallory.delete('/api/projects/secret').expect(404);
      await mallory
        .post('/api/projects/secret/members', { worker_id: 'mallory', role: 'owner' })
        .expect(404);
      await mallory.delete('/api/projects/secret/members/alice').expect(404);
    });

    it('refuses a malformed slug in the path (422)', async () => {
      await alice.get('/api/projects/Not%20OK').expect(422);
    });
  });

  describe('PATCH /api/projects/{slug}', () => {
    beforeAll(async () => {
      await create(alice, 'beta', { visibility: 'private' }).expect(201);
      await alice.post('/api/projects/beta/members', { worker_id: 'bob', role: 'member' });
      await alice.post('/api/projects/beta/members', { worker_id: 'carol', role: 'viewer' });
    });

    it('lets an owner change name, description and visibility, recording each change', async () => {
      const res = await alice
        .patch('/api/projects/beta', { name: 'Beta', description: 'B', visibility: 'internal' })
        .expect(200);
      expect(res.body).toMatchObject({ name: 'Beta', description: 'B', visibility: 'internal' });
      const last = (await entries('beta')).pop();
      expect(last).toMatchObject({
        action: 'project_updated',
        actor_id: 'alice',
        context: {
          name: { from: 'Project beta', to: 'Beta' },
          description: { from: null, to: 'B' },
          visibility: { from: 'private', to: 'internal' },
        },
      });
    });

    it('records nothing for a PATCH that changes nothing', async () => {
      const before = (await entries('beta')).length;
      await alice.patch('/api/projects/beta', { name: 'Beta' }).expect(200);
      expect(await entries('beta')).toHaveLength(before);
    });

    it('lets an admin change it; refuses members, viewers and outsiders of a visible project (403)', async () => {
      await admin.patch('/api/projects/beta', { description: null }).expect(200);
      for (const who of [bob, carol, mallory]) {
        const res = await who.patch('/api/projects/beta', { name: 'Nope' }).expect(403);
        expect(res.body.code).toBe('project_owner_required');
      }
      await admin.patch('/api/projects/beta', { visibility: 'private' }).expect(200);
      await mallory.patch('/api/projects/beta', { name: 'Nope' }).expect(404);
      await bob.patch('/api/projects/beta', { name: 'Nope' }).expect(403);
    });

    it('refuses the slug, a null name and unknown fields (422)', async () => {
      await alice.patch('/api/projects/beta', { slug: 'gamma' }).expect(422);
      await alice.patch('/api/projects/beta', { name: null }).expect(422);
      await alice.patch('/api/projects/beta', { owner: 'bob' }).expect(422);
    });

    it('answers 404 for a project that does not exist', async () => {
      const res = await admin.patch('/api/projects/nothing', { name: 'x' }).expect(404);
      expect(res.body.code).toBe('project_not_found');
    });
  });

  describe('members', () => {
    beforeAll(async () => {
      await create(alice, 'team', { visibility: 'private' }).expect(201);
    });

    it('adds a member (201), changes its role (200), and records both', async () => {
      const added = await alice
        .post('/api/projects/team/members', { worker_id: 'bob', role: 'viewer' })
        .expect(201);
      expect(added.body).toEqual({
        project_slug: 'team',
        worker_id: 'bob',
        role: 'viewer',
        added_at: expect.any(String),
      });
      const changed = await alice
        .post('/api/projects/team/members', { worker_id: 'bob', role: 'member' })
        .expect(200);
      expect(changed.body).toMatchObject({ worker_id: 'bob', role: 'member' });
      const log = (await entries('team')).filter((e) => e.action === 'member_added');
      expect(log.map((e) => e.context)).toEqual([
        { worker_id: 'bob', role: 'viewer', previous_role: null },
        { worker_id: 'bob', role: 'member', previous_role: 'viewer' },
      ]);
    });

    it('answers the same role again with 200 and records nothing', async () => {
      const before = (await entries('team')).length;
      await alice
        .post('/api/projects/team/members', { worker_id: 'bob', role: 'member' })
        .expect(200);
      expect(await entries('team')).toHaveLength(before);
    });

    it('lists members to readers of the project, paged', async () => {
      const res = await bob.get('/api/projects/team/members?limit=1').expect(200);
      expect(res.body.map((m: { worker_id: string }) => m.worker_id)).toEqual(['alice']);
      expect(res.headers['x-total-count']).toBe('2');
      await mallory.get('/api/projects/team/members').expect(404);
    });

    it('refuses a member managing members (403), and bad bodies (422)', async () => {
      const res = await bob
        .post('/api/projects/team/members', { worker_id: 'carol', role: 'member' })
        .expect(403);
      expect(res.body.code).toBe('project_owner_required');
      await bob.delete('/api/projects/team/members/alice').expect(403);
      await alice
        .post('/api/projects/team/members', { worker_id: 'carol', role: 'boss' })
        .expect(422);
      await alice
        .post('/api/projects/team/members', { worker_id: 'x\u202ey', role: 'member' })
        .expect(422);
      await alice.post('/api/projects/team/members', { role: 'member' }).expect(422);
    });

    it('lets an admin add members to a project it is not in', async () => {
      await admin
        .post('/api/projects/team/members', { worker_id: 'carol', role: 'viewer' })
        .expect(201);
    });

    it('lets a member remove itself, and records it', async () => {
      await carol.delete('/api/projects/team/members/carol').expect(204);
      await carol.get('/api/projects/team').expect(404);
      const last = (await entries('team')).pop();
      expect(last).toMatchObject({
        action: 'member_removed',
        actor_id: 'carol',
        context: { worker_id: 'carol', role: 'viewer' },
      });
    });

    it('answers 404 member_not_found for someone who is not a member', async () => {
      const res = await alice.delete('/api/projects/team/members/carol').expect(404);
      expect(res.body.code).toBe('member_not_found');
    });

    it('never lets the last owner go: not removed, not demoted, not even by itself (409)', async () => {
      const removed = await alice.delete('/api/projects/team/members/alice').expect(409);
      expect(removed.body.code).toBe('last_owner');
      const demoted = await admin
        .post('/api/projects/team/members', { worker_id: 'alice', role: 'member' })
        .expect(409);
      expect(demoted.body.code).toBe('last_owner');
      // With a second owner, the first may step down.
      await alice
        .post('/api/projects/team/members', { worker_id: 'bob', role: 'owner' })
        .expect(200);
      await alice.delete('/api/projects/team/members/alice').expect(204);
      await alice.get('/api/projects/team').expect(404);
      const bobLeaves = await bob.delete('/api/projects/team/members/bob').expect(409);
      expect(bobLeaves.body.code).toBe('last_owner');
    });

    it('lets at most one of two concurrent demotions of two owners succeed', async () => {
      for (let round = 0; round < 5; round++) {
        const slug = `race-${round}`;
        await create(alice, slug).expect(201);
        await alice
          .post(`/api/projects/${slug}/members`, { worker_id: 'bob', role: 'owner' })
          .expect(201);
        const [a, b] = await Promise.all([
          alice.post(`/api/projects/${slug}/members`, { worker_id: 'alice', role: 'member' }),
          bob.post(`/api/projects/${slug}/members`, { worker_id: 'bob', role: 'viewer' }),
        ]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
        const members = await admin.get(`/api/projects/${slug}/members`).expect(200);
        expect(members.body.filter((m: { role: string }) => m.role === 'owner')).toHaveLength(1);
      }
    });

    it('lets at most one of two concurrent removals of two owners succeed', async () => {
      await create(alice, 'race-remove').expect(201);
      await alice
        .post('/api/projects/race-remove/members', { worker_id: 'bob', role: 'owner' })
        .expect(201);
      const [a, b] = await Promise.all([
        alice.delete('/api/projects/race-remove/members/alice'),
        admin.delete('/api/projects/race-remove/members/bob'),
      ]);
      expect([a.status, b.status].sort()).toEqual([204, 409]);
    });
  });

  describe('DELETE /api/projects/{slug}', () => {
    beforeAll(async () => {
      await create(alice, 'doomed').expect(201);
      await alice
        .post('/api/projects/doomed/members', { worker_id: 'bob', role: 'member' })
        .expect(201);
      await alice
        .post('/api/projects/doomed/members', { worker_id: 'carol', role: 'viewer' })
        .expect(201);
    });

    it('refuses members, viewers and outsiders (403)', async () => {
      for (const who of [bob, carol, mallory]) {
        const res = await who.delete('/api/projects/doomed').expect(403);
        expect(res.body.code).toBe('project_owner_required');
      }
    });

    it('refuses to delete a project that still has tasks (409 project_has_tasks)', async () => {
      await carol
        .post('/api/tasks', { title: 'viewers do not write', project_slug: 'doomed' })
        .expect(403);
      const task = await bob
        .post('/api/tasks', { title: 'In the project', project_slug: 'doomed' })
        .expect(201);
      const res = await alice.delete('/api/projects/doomed').expect(409);
      expect(res.body.code).toBe('project_has_tasks');
      await alice.get('/api/projects/doomed').expect(200);
      await admin.delete(`/api/tasks/${task.body.id}`).expect(204);
    });

    it('deletes it with its members once empty, and records a snapshot', async () => {
      await alice.delete('/api/projects/doomed').expect(204);
      await alice.get('/api/projects/doomed').expect(404);
      await admin.get('/api/projects/doomed/members').expect(404);
      const last = (await entries('doomed')).pop();
      expect(last).toMatchObject({
        action: 'project_deleted',
        actor_id: 'alice',
        project_slug: 'doomed',
        context: {
          slug: 'doomed',
          name: 'Project doomed',
          description: null,
          visibility: 'internal',
          owner: 'alice',
        },
      });
      await alice.delete('/api/projects/doomed').expect(404);
    });

    it('lets an admin delete any project', async () => {
      await admin.delete('/api/projects/alpha').expect(204);
    });
  });

  it('chains the audit entries of concurrent project writes by someone not registered as a worker', async () => {
    // Their entries share the person's audit chain, which has no workers row to queue on.
    const dave = await t.actor('dave-unregistered');
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dave.post('/api/projects', { slug: `dave-${i}`, name: `Dave ${i}` }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(Array(10).fill(201));
    const added = await Promise.all(
      [0, 1, 2].map((i) =>
        dave.post(`/api/projects/dave-${i}/members`, {
          worker_id: 'erin-unregistered',
          role: 'member',
        }),
      ),
    );
    expect(added.map((r) => r.status)).toEqual([201, 201, 201]);
    const verify = await admin.get('/api/audit/verify').expect(200);
    expect(verify.body.ok).toBe(true);
  });

  it('requires member role or higher to create a task in a project', async () => {
    await create(alice, 'gated').expect(201);
    await alice
      .post('/api/projects/gated/members', { worker_id: 'carol', role: 'viewer' })
      .expect(201);
    const viewer = await carol
      .post('/api/tasks', { title: 'No', project_slug: 'gated' })
      .expect(403);
    expect(viewer.body.code).toBe('not_project_member');
    await mallory.post('/api/tasks', { title: 'No', project_slug: 'gated' }).expect(403);
    await alice.post('/api/tasks', { title: 'Yes', project_slug: 'gated' }).expect(201);
  });
});
