import { createProject, createTaskId, registerWorker, signInAdmin } from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * The lifecycle routes take their inputs as a JSON body (the documented form) or, for older
 * clients, as query parameters; never as both with different values.
 */
describe('Lifecycle inputs: JSON body or query (e2e)', () => {
  let t: TestApp;
  let alice: Actor;

  beforeAll(async () => {
    t = await TestApp.start();
    const admin = await signInAdmin(t);
    alice = await registerWorker(t, admin, {
      id: 'alice',
      name: 'Alice',
      type: 'human',
      capabilities: ['go', 'sql'],
    });
    // Each project scopes a claim-next below to one task; alice owns them all.
    for (const slug of ['inputs', 'caps-a', 'caps-b', 'caps-c']) await createProject(alice, slug);
  });

  afterAll(() => t.close());

  const started = async (project = 'inputs'): Promise<number> => {
    const id = await createTaskId(alice, { title: 'In', project_slug: project });
    await alice.post(`/api/tasks/${id}/start`).expect(200);
    return id;
  };

  it('takes percent and note from the body, or from the query', async () => {
    const id = await started();
    const body = await alice
      .post(`/api/tasks/${id}/progress`, { percent: 30, note: 'body' })
      .expect(200);
    expect(body.body.progress_percent).toBe(30);
    const query = await alice.post(`/api/tasks/${id}/progress?percent=45&note=query`).expect(200);
    expect(query.body.progress_percent).toBe(45);
  });

  it('accepts the same value in both, and refuses two different ones with a 422', async () => {
    const id = await started();
    await alice.post(`/api/tasks/${id}/progress?percent=50`, { percent: 50 }).expect(200);
    const res = await alice
      .post(`/api/tasks/${id}/progress?percent=10`, { percent: 90 })
      .expect(422);
    expect(res.body).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'percent', message: expect.stringContaining('both') }],
    });
    const after = await alice.get(`/api/tasks/${id}`).expect(200);
    expect(after.body.progress_percent).toBe(50);

    await alice.post(`/api/tasks/${id}/block?reason=a`, { reason: 'b' }).expect(422);
    await alice
      .post(`/api/tasks/${id}/heartbeat?lease_seconds=60`, { lease_seconds: 61 })
      .expect(422);
  });

  it('still refuses a progress report without percent in either place', async () => {
    const id = await started();
    const res = await alice.post(`/api/tasks/${id}/progress`, { note: 'no percent' }).expect(422);
    expect(res.body.details).toEqual([{ field: 'percent', message: expect.any(String) }]);
  });

  it('takes claim-next capabilities as a list in the query (repeated or comma-separated) and the body', async () => {
    const make = (project: string, required: string[]) =>
      createTaskId(alice, { title: 'C', project_slug: project, required_capabilities: required });
    const a = await make('caps-a', ['go', 'sql']);
    const b = await make('caps-b', ['go', 'sql']);
    const c = await make('caps-c', ['go', 'sql']);
    const repeated = await alice
      .post('/api/tasks/claim-next?project=caps-a&capabilities=go&capabilities=sql')
      .expect(200);
    expect(repeated.body.id).toBe(a);
    const commas = await alice
      .post('/api/tasks/claim-next?project=caps-b&capabilities=go,sql')
      .expect(200);
    expect(commas.body.id).toBe(b);
    // Narrowed to `go` only, a task that also needs `sql` is not offered.
    await alice
      .post('/api/tasks/claim-next', { project: 'caps-c', capabilities: ['go'] })
      .expect(204);
    const body = await alice
      .post('/api/tasks/claim-next', { project: 'caps-c', capabilities: ['go', 'sql'] })
      .expect(200);
    expect(body.body.id).toBe(c);
  });
});
