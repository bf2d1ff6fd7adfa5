import request from 'supertest';
import { AuthServer, startAuthServer } from './support/auth-server';
import { TestApp } from './support/test-app';

/**
 * The API against the real, bundled Better Auth server (auth-server/server.mjs): real accounts,
 * real EdDSA tokens from its jwt plugin, its JWKS over HTTP. Nothing in between is simulated.
 */
describe('API with the real Better Auth server (e2e)', () => {
  let auth: AuthServer;
  let t: TestApp;

  beforeAll(async () => {
    auth = await startAuthServer();
    // The app trusts the Better Auth JWKS alone, and checks iss/aud as production can.
    t = await TestApp.start({
      env: { JWKS_URL: auth.jwksUrl, JWT_ISSUER: auth.issuer, JWT_AUDIENCE: auth.audience },
    });
  });

  afterAll(async () => {
    await t?.close();
    await auth?.stop();
  });

  const as = (token: string) => ({
    get: (url: string) => request(t.server).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) =>
      request(t.server).post(url).set('Authorization', `Bearer ${token}`).send(body),
  });

  it('signs up, gets a JWT, and the API knows who it is', async () => {
    const token = await auth.token('qa@example.com');
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg).toBe('EdDSA');
    const me = await as(token).get('/api/me').expect(200);
    expect(me.body).toMatchObject({
      email: 'qa@example.com',
      role: 'user',
      is_admin: false,
      worker_type: 'human',
    });
    const task = await as(token).post('/api/tasks', { title: 'From Better Auth' }).expect(201);
    expect(task.body.created_by).toBe(me.body.id);
  });

  it('an admin token (admin plugin role) may do admin things', async () => {
    const token = await auth.token('boss@example.com', { admin: true });
    const me = await as(token).get('/api/me').expect(200);
    expect(me.body).toMatchObject({ role: 'admin', is_admin: true });
    await as(token)
      .post('/api/workers', { id: 'agent-from-admin', name: 'Bot', type: 'agent' })
      .expect(201);
  });

  it('an agent account gets its token the same way and is an agent once registered', async () => {
    const agentToken = await auth.token('agent@example.com');
    const adminToken = await auth.token('boss@example.com', { admin: true });
    const agentId = (await as(agentToken).get('/api/me').expect(200)).body.id;
    await as(adminToken)
      .post('/api/workers', { id: agentId, name: 'Agent', type: 'agent' })
      .expect(201);
    expect((await as(agentToken).get('/api/me').expect(200)).body.worker_type).toBe('agent');
  });

  it('picks up a rotated signing key (new kid) without a restart', async () => {
    const before = await auth.token('rotate@example.com');
    await as(before).get('/api/me').expect(200);
    const retired = await auth.rotateKeys();
    expect(retired.length).toBeGreaterThan(0);
    const after = await auth.token('rotate@example.com');
    const kid = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;
    expect(kid(after)).not.toBe(kid(before));
    await as(after).get('/api/me').expect(200);
    // The retired key is still published for its grace period, so older tokens keep working.
    await as(before).get('/api/me').expect(200);
  });
});
