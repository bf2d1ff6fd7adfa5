import { join } from 'node:path';
import { AUDIT_ACTIONS } from '../src/audit/audit-actions';
import { Contract } from './support/fuzz/contract';
import { createTaskId, registerWorker, signInAdmin } from './support/board';
import { TestApp } from './support/test-app';

/**
 * openapi.json types each audit action's `context` (a `oneOf` on `action`): every kind of entry
 * the API really writes must match its own variant, and no other.
 */
describe('Typed audit context (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Webhooks are created to record their actions, never delivered to (no receiver listens).
    t = await TestApp.start({
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '0' },
    });
  });

  afterAll(() => t.close());

  it('writes every action with a context its schema describes exactly', async () => {
    const admin = await signInAdmin(t);
    const bob = await registerWorker(t, admin, { id: 'bob', name: 'Bob', type: 'agent' });
    await admin.patch('/api/workers/bob', { name: 'Bobby', capabilities: ['go'] }).expect(200);
    const other = await createTaskId(admin, { title: 'Other' });
    const id = await createTaskId(admin, {
      title: 'All the moves',
      due_date: '2026-12-01T10:00:00Z',
    });
    await admin.patch(`/api/tasks/${id}`, { title: 'Renamed', due_date: null }).expect(200);
    await admin.post(`/api/tasks/${id}/dependencies/${other}`).expect(200);
    await admin.delete(`/api/tasks/${id}/dependencies/${other}`).expect(204);
    await admin.post(`/api/tasks/${id}/start`, { lease_seconds: 1 }).expect(200);
    await admin.post(`/api/tasks/${id}/heartbeat`, { lease_seconds: 1 }).expect(200);
    await admin.post(`/api/tasks/${id}/progress`, { percent: 10 }).expect(200);
    await admin.post(`/api/tasks/${id}/progress`, { percent: 20, note: 'half' }).expect(200);
    await admin.post(`/api/tasks/${id}/block`).expect(200);
    await admin.post(`/api/tasks/${id}/unblock`).expect(200);
    await admin.post(`/api/tasks/${id}/release`).expect(200);
    await admin.post(`/api/tasks/${id}/start`, { lease_seconds: 1 }).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await bob.post(`/api/tasks/${id}/start`).expect(200); // takes over: failed, lease_expired
    await bob.post(`/api/tasks/${id}/review`).expect(200);
    await admin.post(`/api/tasks/${id}/reject`, { reason: 'add tests' }).expect(200);
    await bob.post(`/api/tasks/${id}/review`).expect(200);
    await admin.post(`/api/tasks/${id}/approve`).expect(200);
    await bob.post(`/api/tasks/${id}/reopen`).expect(200);
    await bob.post(`/api/tasks/${id}/complete`).expect(200);
    await bob.patch(`/api/tasks/${id}`, { assigned_to: 'root' }).expect(200);
    const costly = await createTaskId(admin, { title: 'Costly' });
    await admin.post(`/api/tasks/${costly}/start`).expect(200);
    await admin
      .post(`/api/tasks/${costly}/usage`, { model: 'm', input_tokens: 1, output_tokens: 2 })
      .expect(200);
    await admin.post(`/api/tasks/${costly}/fail`, { reason: 'no', retryable: false }).expect(200);
    await admin.post(`/api/tasks/${costly}/retry`).expect(200);
    await admin.delete(`/api/tasks/${other}`).expect(204);
    const talk = await createTaskId(admin, { title: 'Talk' });
    await admin.post(`/api/tasks/${talk}/start`).expect(200);
    await admin.post(`/api/tasks/${talk}/comments`, { body: 'a note' }).expect(201);
    await admin.post(`/api/tasks/${talk}/ask`, { question: 'which one?' }).expect(200);
    const ann = await t.actor('ann');
    await ann.post(`/api/tasks/${talk}/comments`, { body: 'that one', kind: 'answer' }).expect(201);
    const pr = { kind: 'pr', url: 'https://git.example/pull/1', title: 'The fix' };
    await admin.post(`/api/tasks/${talk}/artifacts`, pr).expect(200);
    await admin
      .delete(`/api/tasks/${talk}/artifacts?url=${encodeURIComponent(pr.url)}`)
      .expect(200);
    await admin.post(`/api/tasks/${talk}/release`, { note: 'over to you' }).expect(200);
    await admin.post(`/api/tasks/${talk}/block`, { note: 'waiting on the vendor' }).expect(200);
    const key = await admin.post('/api/workers/bob/keys', { name: 'ctx' }).expect(201);
    await admin.delete(`/api/workers/bob/keys/${(key.body as { id: string }).id}`).expect(204);
    await admin.delete('/api/workers/bob').expect(204);
    await admin.post('/api/projects', { slug: 'ctx', name: 'Context', description: 'd' });
    await admin
      .patch('/api/projects/ctx', { name: 'Ctx', description: null, visibility: 'private' })
      .expect(200);
    await admin.post('/api/projects/ctx/members', { worker_id: 'bob', role: 'viewer' }).expect(201);
    await admin.post('/api/projects/ctx/members', { worker_id: 'bob', role: 'member' }).expect(200);
    await admin.delete('/api/projects/ctx/members/bob').expect(204);
    await admin.delete('/api/projects/ctx').expect(204);
    const hook = await admin
      .post('/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['created'] })
      .expect(201);
    const hookId = (hook.body as { id: string }).id;
    await admin
      .patch(`/api/webhooks/${hookId}`, { events: [], secret: 'x'.repeat(32) })
      .expect(200);
    await admin.delete(`/api/webhooks/${hookId}`).expect(204);

    const entries = (await admin.get('/api/audit?limit=100').expect(200)).body as {
      action: string;
    }[];
    expect(new Set(entries.map((e) => e.action))).toEqual(new Set(AUDIT_ACTIONS));

    const contract = Contract.load(join(__dirname, '..', 'openapi.json'));
    const variant = (action: string) => ({
      $ref: `#/components/schemas/AuditEntry${action.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}`,
    });
    for (const entry of entries) {
      expect({ entry, problem: contract.validate(variant(entry.action), entry) }).toEqual({
        entry,
        problem: null,
      });
      // The union as a whole: exactly one variant takes it (oneOf).
      expect(contract.validate({ $ref: '#/components/schemas/AuditEntry' }, entry)).toBeNull();
    }
  });
});
