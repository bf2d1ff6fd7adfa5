import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  JWK,
  JWTVerifyGetKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
} from 'jose';
import { AuthServer, startAuthServer } from './support/auth-server';

/**
 * The bundled Better Auth server (auth-server/server.mjs), run for real: its own process, its own
 * database, real sign-ups and EdDSA tokens, verified with jose the way a resource server does.
 */
describe('auth server (Better Auth)', () => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuthServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function jwks(): Promise<JWK[]> {
    const response = await fetch(server.jwksUrl);
    expect(response.status).toBe(200);
    return ((await response.json()) as { keys: JWK[] }).keys;
  }

  async function verify(
    token: string,
    keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(server.jwksUrl)),
  ) {
    return jwtVerify(token, keys, {
      algorithms: ['EdDSA'],
      issuer: server.issuer,
      audience: server.audience,
    });
  }

  it('answers GET /health for healthchecks', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'healthy' });
  });

  it('publishes one Ed25519 public key for EdDSA, with a kid and no private part', async () => {
    const keys = await jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(keys[0].kid).toEqual(expect.any(String));
    expect(keys[0].x).toEqual(expect.any(String));
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('signs up an account and issues an EdDSA JWT that verifies against the JWKS', async () => {
    const token = await server.token('ada@example.com');

    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('EdDSA');
    expect((await jwks()).map((key) => key.kid)).toContain(header.kid);

    const { payload } = await verify(token);
    expect(payload).toMatchObject({
      sub: expect.any(String),
      email: 'ada@example.com',
      name: 'ada',
      role: 'user',
      iss: server.issuer,
      aud: server.audience,
    });
    expect(payload.sub).toBe(payload.id);
    // AUTH_JWT_EXPIRATION defaults to 15 minutes.
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
  });

  it('signs an existing account in again: same subject', async () => {
    const first = await verify(await server.token('grace@example.com'));
    const again = await verify(await server.token('grace@example.com'));
    expect(again.payload.sub).toBe(first.payload.sub);
  });

  it('refuses a second sign-up and a wrong password', async () => {
    const session = await server.signUp('linus@example.com', 'correct horse battery');
    expect(session.user.email).toBe('linus@example.com');
    expect(session.cookie).toMatch(/session_token=/);
    await expect(server.signUp('linus@example.com')).rejects.toThrow(/already has an account/);
    await expect(
      server.token('linus@example.com', { password: 'not the password' }),
    ).rejects.toThrow(/wrong password/);
  });

  it('gives an admin token role "admin" (promoted in the auth database)', async () => {
    const { payload } = await verify(await server.token('root@example.com', { admin: true }));
    expect(payload.role).toBe('admin');
    // Later tokens of the same account keep the role.
    expect((await verify(await server.token('root@example.com'))).payload.role).toBe('admin');
  });

  it('rotates the signing key while running: old and new tokens both verify', async () => {
    // A JWKS client that caches keys and refetches on an unknown kid, as the API's does.
    const cachedKeys = createRemoteJWKSet(new URL(server.jwksUrl), { cooldownDuration: 0 });
    const before = await server.token('rotate@example.com');
    const oldKid = decodeProtectedHeader(before).kid;
    await verify(before, cachedKeys);

    const retired = await server.rotateKeys();
    expect(retired).toContain(oldKid);

    const after = await server.token('rotate@example.com');
    const newKid = decodeProtectedHeader(after).kid;
    expect(newKid).toEqual(expect.any(String));
    expect(newKid).not.toBe(oldKid);

    // The refreshed JWKS has the new key and, for the grace period, the retired one.
    const kids = (await jwks()).map((key) => key.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect((await verify(after, cachedKeys)).payload.email).toBe('rotate@example.com');
    await verify(before);
    // Still the same key afterwards: rotation happens once, not on every token.
    expect(decodeProtectedHeader(await server.token('rotate@example.com')).kid).toBe(newKid);
  });

  it('revokes keys: they leave the JWKS and their tokens stop verifying', async () => {
    const before = await server.token('revoke@example.com');
    const oldKid = decodeProtectedHeader(before).kid;

    expect(await server.rotateKeys({ revoke: true })).toContain(oldKid);

    const after = await server.token('revoke@example.com');
    const keys = createLocalJWKSet({ keys: await jwks() });
    expect((await jwks()).map((key) => key.kid)).not.toContain(oldKid);
    await expect(verify(before, keys)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await verify(after, keys);
  });
});

describe('auth server configuration', () => {
  const serverScript = join(__dirname, '..', 'auth-server', 'server.mjs');

  it('refuses to start without a secret of 32 characters, in one line', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, BETTER_AUTH_SECRET: 'too short' };
    const result = spawnSync(process.execPath, [serverScript], { env, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^auth-server: BETTER_AUTH_SECRET must be set to at least 32/),
    ]);
  });

  it('takes its issuer from BETTER_AUTH_URL and the lifetime from AUTH_JWT_EXPIRATION', async () => {
    const server = await startAuthServer({
      jwtExpiration: '2m',
      env: { BETTER_AUTH_URL: 'http://auth.taskflow.test:3001/' },
    });
    try {
      expect(server.issuer).toBe('http://auth.taskflow.test:3001');
      const token = await server.token('config@example.com');
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(server.jwksUrl)), {
        algorithms: ['EdDSA'],
        issuer: 'http://auth.taskflow.test:3001',
        audience: 'http://auth.taskflow.test:3001',
      });
      expect(payload.exp! - payload.iat!).toBe(120);
    } finally {
      await server.stop();
    }
  });
});
