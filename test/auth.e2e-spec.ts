import { createHmac, createPublicKey } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import request from 'supertest';
import { TokenVerifier } from '../src/auth/token-verifier';
import { TestIdentityProvider } from './support/identity';
import { TestApp } from './support/test-app';

const b64 = (value: object) => base64url.encode(JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);

describe('JWT authentication (e2e, real JWKS over HTTP)', () => {
  let identity: TestIdentityProvider;
  let t: TestApp;

  beforeAll(async () => {
    identity = await TestIdentityProvider.start();
    t = await TestApp.start({ identity });
  });

  afterAll(async () => {
    await t.close();
    await identity.stop();
  });

  const me = (token?: string) => {
    const req = request(t.server).get('/api/me');
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  /** Every refusal: 401, the envelope, the Bearer challenge, and never the token itself. */
  const expectRefused = async (token: string | undefined, reason: RegExp) => {
    const res = await me(token).expect(401);
    expect(res.body).toEqual({
      error: expect.stringMatching(reason),
      status_code: 401,
      code: 'unauthenticated',
    });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    if (token) {
      expect(JSON.stringify(res.body)).not.toContain(token);
      expect(res.headers['www-authenticate']).not.toContain(token);
    }
  };

  describe('accepts', () => {
    it.each(['EdDSA', 'ES256', 'RS256'] as const)(
      'a valid %s token, and /api/me shows the identity',
      async (alg) => {
        const token = await identity.token(
          { sub: `user-${alg}`, email: 'u@example.com', role: 'user' },
          { alg },
        );
        const res = await me(token).expect(200);
        expect(res.body).toEqual({
          id: `user-${alg}`,
          email: 'u@example.com',
          role: 'user',
          is_admin: false,
          worker_type: 'human',
        });
      },
    );

    it('an admin among several comma-separated roles', async () => {
      const token = await identity.token({
        sub: 'root',
        email: 'r@example.com',
        role: 'user,admin',
      });
      const res = await me(token).expect(200);
      expect(res.body).toMatchObject({ role: 'user,admin', is_admin: true });
    });

    it('a token without role as a plain user', async () => {
      const token = await identity.token({ sub: 'norole' });
      const res = await me(token).expect(200);
      expect(res.body).toMatchObject({ role: 'user', is_admin: false, email: null });
    });

    it('a token that expired a few seconds ago (clock tolerance)', async () => {
      const token = await identity.token({ sub: 'skewed' }, { expiresIn: -10 });
      await me(token).expect(200);
    });
  });

  describe('refuses with 401', () => {
    it('a missing Authorization header', () => expectRefused(undefined, /^Missing bearer token$/));

    it('another scheme', async () => {
      const res = await request(t.server)
        .get('/api/me')
        .set('Authorization', 'Basic YWxpY2U6cHc=')
        .expect(401);
      expect(res.body.error).toMatch(/Bearer/);
    });

    it('a garbage token', () => expectRefused('not-a-jwt', /^Malformed token$/));

    it('a token with a garbage payload', () =>
      expectRefused(`${b64({ alg: 'EdDSA' })}.@@@.sig`, /token/i));

    it('a forged payload on a real signature', async () => {
      const token = await identity.token({ sub: 'mallory', role: 'user' });
      const [header, , signature] = token.split('.');
      const forged = `${header}.${b64({ sub: 'mallory', role: 'admin', exp: now() + 3600 })}.${signature}`;
      await expectRefused(forged, /^Invalid token signature$/);
    });

    it('an expired token', async () => {
      const token = await identity.token({ sub: 'late' }, { expiresIn: -120 });
      await expectRefused(token, /^Token expired$/);
    });

    it('alg: none', async () => {
      const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', role: 'admin', exp: now() + 3600 })}.`;
      await expectRefused(token, /algorithm "none" is not accepted/);
    });

    it('HS256 signed with the public key as the HMAC secret', async () => {
      const jwk = identity.publicJwk('RS256');
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64({ sub: 'admin', role: 'admin', exp: now() + 3600 })}`;
      const signature = createHmac('sha256', pem).update(signingInput).digest('base64url');
      await expectRefused(`${signingInput}.${signature}`, /algorithm "HS256" is not accepted/);
    });

    it('a token whose key is embedded in its own header (jwk), never trusted', async () => {
      const rogue = await identity.unpublishedKey('EdDSA');
      const token = await new SignJWT({ sub: 'admin', role: 'admin' })
        .setProtectedHeader({
          alg: 'EdDSA',
          kid: rogue.kid,
          jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' },
        })
        .setExpirationTime('1h')
        .sign(rogue.key);
      await expectRefused(token, /unknown key/);
    });

    it('an unknown kid', async () => {
      const rogue = await identity.unpublishedKey('EdDSA');
      const token = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg: 'EdDSA', kid: rogue.kid })
        .setExpirationTime('1h')
        .sign(rogue.key);
      await expectRefused(token, /^Token signed with an unknown key$/);
    });

    it('a known kid with another algorithm than its key', async () => {
      const ed = identity.publicJwk('EdDSA');
      const rogue = await identity.unpublishedKey('ES256');
      const token = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg: 'ES256', kid: ed.kid })
        .setExpirationTime('1h')
        .sign(rogue.key);
      await expectRefused(token, /does not match its signing key/);
    });

    it('a token without sub', async () => {
      const token = await new SignJWT({ email: 'x@example.com' })
        .setProtectedHeader({ alg: 'EdDSA', kid: identity.publicJwk('EdDSA').kid })
        .setExpirationTime('1h')
        .sign((await identity.unpublishedKey()).key);
      await expectRefused(token, /token/i);
    });
  });

  describe('identity hygiene: a sub that is not a valid worker id is a 401', () => {
    it.each([
      ['empty', ''],
      ['NUL', 'ali\u0000ce'],
      ['newline', 'alice\nadmin'],
      ['ESC', 'alice\u001b[2J'],
      ['DEL', 'alice\u007f'],
      ['C1 control', 'alice\u0085'],
      ['right-to-left override', 'alice\u202egnp.exe'],
      ['right-to-left mark', 'alice\u200f'],
      ['isolate', '\u2067alice\u2069'],
      ['256 characters', 'a'.repeat(256)],
    ])('%s', async (_what, sub) => {
      await expectRefused(await identity.token({ sub }), /^Token subject is missing or invalid$/);
    });

    it('accepts 255 characters, including ones outside the BMP', async () => {
      const sub = `${'é'.repeat(127)}${'😀'.repeat(128)}`;
      const res = await me(await identity.token({ sub })).expect(200);
      expect(res.body.id).toBe(sub);
    });
  });

  describe('clock claims', () => {
    const at = (claims: { iat?: number; nbf?: number }) =>
      new SignJWT({ sub: 'clock', ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: identity.publicJwk('EdDSA').kid })
        .setExpirationTime(now() + 7200)
        .setIssuer(identity.issuer)
        .setAudience(identity.audience);

    it('refuses an iat an hour in the future', async () => {
      const token = await identity.sign(at({ iat: now() + 3600 }));
      await expectRefused(token, /^Token is issued in the future$/);
    });

    it('refuses an nbf an hour in the future', async () => {
      await expectRefused(
        await identity.sign(at({ nbf: now() + 3600 })),
        /^Token is not valid yet$/,
      );
    });

    it('tolerates a few seconds of skew (JWT_CLOCK_TOLERANCE_S, 30 by default)', async () => {
      await me(await identity.sign(at({ iat: now() + 10, nbf: now() + 10 }))).expect(200);
    });

    it('takes its leeway from JWT_CLOCK_TOLERANCE_S', async () => {
      const strict = await TestApp.start({ identity, env: { JWT_CLOCK_TOLERANCE_S: '0' } });
      try {
        const res = await request(strict.server)
          .get('/api/me')
          .set('Authorization', `Bearer ${await identity.sign(at({ iat: now() + 10 }))}`)
          .expect(401);
        expect(res.body.error).toBe('Token is issued in the future');
      } finally {
        await strict.close();
      }
    });
  });

  describe('caching by others', () => {
    it('marks every authenticated answer Cache-Control: no-store, errors included', async () => {
      const token = await identity.token({ sub: 'cache-me' });
      const ok = await me(token).expect(200);
      expect(ok.headers['cache-control']).toBe('no-store');
      const missing = await request(t.server)
        .get('/api/tasks/999999')
        .set('Authorization', `Bearer ${token}`)
        .expect(404);
      expect(missing.headers['cache-control']).toBe('no-store');
      // Again from the verified-token cache.
      expect((await me(token).expect(200)).headers['cache-control']).toBe('no-store');
    });
  });

  describe('configured checks', () => {
    let strict: TestApp;

    beforeAll(async () => {
      strict = await TestApp.start({
        identity,
        env: { JWT_ISSUER: identity.issuer, JWT_AUDIENCE: 'taskflow-api', JWT_ALGORITHMS: 'EdDSA' },
      });
    });

    afterAll(() => strict.close());

    const get = (token: string) =>
      request(strict.server).get('/api/me').set('Authorization', `Bearer ${token}`);

    it('accepts the right issuer and audience', async () => {
      await get(await identity.token({ sub: 'ok' }, { audience: 'taskflow-api' })).expect(200);
    });

    it('refuses a wrong issuer', async () => {
      const res = await get(
        await identity.token({ sub: 'x' }, { audience: 'taskflow-api', issuer: 'http://evil' }),
      ).expect(401);
      expect(res.body.error).toBe('Token issuer is not trusted');
    });

    it('refuses a wrong audience', async () => {
      const res = await get(await identity.token({ sub: 'x' }, { audience: 'another-api' })).expect(
        401,
      );
      expect(res.body.error).toBe('Token audience is not this API');
    });

    it('refuses an algorithm outside JWT_ALGORITHMS', async () => {
      const res = await get(
        await identity.token({ sub: 'x' }, { alg: 'ES256', audience: 'taskflow-api' }),
      ).expect(401);
      expect(res.body.error).toBe('Token algorithm "ES256" is not accepted');
    });
  });

  describe('keys and caching', () => {
    it('remembers a verified token until its exp, and not a moment longer', async () => {
      const stats = t.app.get(TokenVerifier).stats;
      const token = await identity.token({ sub: 'cached' }, { expiresIn: 2 });
      const before = { ...stats };
      await me(token).expect(200);
      await me(token).expect(200);
      await me(token).expect(200);
      expect(stats.signatureChecks - before.signatureChecks).toBe(1);
      expect(stats.cacheHits - before.cacheHits).toBe(2);

      await new Promise((resolve) => setTimeout(resolve, 2200));
      // Past exp the cache has dropped it: the signature is checked again (and passes only thanks
      // to the clock tolerance).
      await me(token).expect(200);
      expect(stats.signatureChecks - before.signatureChecks).toBe(2);
    });

    it('picks up a rotated key (new kid) without a restart', async () => {
      const kid = await identity.addKey('EdDSA');
      const token = await identity.token({ sub: 'rotated' }, { kid });
      await me(token).expect(200);
    });

    it('refetches the JWKS at most a few times however many unknown kids arrive', async () => {
      const rogue = await identity.unpublishedKey('EdDSA');
      const before = identity.jwksRequests;
      for (let i = 0; i < 25; i++) {
        const token = await new SignJWT({ sub: 'x' })
          .setProtectedHeader({ alg: 'EdDSA', kid: `unknown-${i}` })
          .setExpirationTime('1h')
          .sign(rogue.key);
        await me(token).expect(401);
      }
      expect(identity.jwksRequests - before).toBeLessThanOrEqual(10);
    });

    it('keeps accepting tokens signed with cached keys while the JWKS is down; unknown keys get 401, not 500', async () => {
      const jwksDown = await TestIdentityProvider.start(['EdDSA']);
      const app = await TestApp.start({ identity: jwksDown });
      try {
        const get = (token: string) =>
          request(app.server).get('/api/me').set('Authorization', `Bearer ${token}`);
        const cachedKid = jwksDown.publicJwk('EdDSA').kid!;
        await get(await jwksDown.token({ sub: 'warm' })).expect(200); // the key is now cached
        const newKid = await jwksDown.addKey('EdDSA'); // published, but never fetched
        await jwksDown.stop();

        const fresh = await jwksDown.token({ sub: 'fresh' }, { kid: cachedKid }); // new token, cached key
        await get(fresh).expect(200);
        const res = await get(await jwksDown.token({ sub: 'new-key' }, { kid: newKid })).expect(
          401,
        );
        expect(res.body.error).toMatch(/unknown key/);
      } finally {
        await app.close();
        await jwksDown.stop();
      }
    });
  });
});
