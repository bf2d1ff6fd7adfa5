import { createHmac, createPublicKey } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import passport from 'passport';
import { Strategy as PassportJwt } from 'passport-jwt';
import request from 'supertest';
import { JOSE_STRATEGY, JoseStrategy } from '../src/auth/jose.strategy';
import { PASSPORT_JWT_STRATEGY, passportJwtFailure } from '../src/auth/passport-jwt.strategy';
import { TokenVerifier } from '../src/auth/token-verifier';
import { SigningAlgorithm, TestIdentityProvider } from './support/identity';
import { TestApp } from './support/test-app';

const b64 = (value: object) => base64url.encode(JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);

/**
 * Every attack runs once per key type, so once per verification path: EdDSA through the jose
 * strategy, RS256 and ES256 through the passport-jwt one (jsonwebtoken, keys by jwks-rsa).
 */
const ALGS = ['EdDSA', 'RS256', 'ES256'] as const satisfies readonly SigningAlgorithm[];
const PATH: Record<SigningAlgorithm, string> = {
  EdDSA: 'EdDSA (jose)',
  RS256: 'RS256 (passport-jwt)',
  ES256: 'ES256 (passport-jwt)',
};
const BY_PATH = ALGS.map((alg) => [PATH[alg], alg] as const);

describe('JWT authentication (e2e, real JWKS over HTTP)', () => {
  let identity: TestIdentityProvider;
  /** An attacker's identity server: a real JWKS of keys the API must never trust. */
  let attacker: TestIdentityProvider;
  let t: TestApp;

  beforeAll(async () => {
    identity = await TestIdentityProvider.start();
    attacker = await TestIdentityProvider.start();
    t = await TestApp.start({ identity });
  });

  afterAll(async () => {
    await t.close();
    await attacker.stop();
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

  /** A token with claims the test chooses, signed by the identity server's newest `alg` key. */
  const signed = (
    alg: SigningAlgorithm,
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
  ) =>
    identity.sign(
      new SignJWT(claims).setProtectedHeader({
        alg,
        kid: identity.publicJwk(alg).kid,
        ...header,
      }),
      alg,
      header.crit
        ? { crit: Object.fromEntries((header.crit as string[]).map((c) => [c, true])) }
        : undefined,
    );
  const valid = (claims: Record<string, unknown>) => ({
    iss: identity.issuer,
    aud: identity.audience,
    iat: now(),
    exp: now() + 3600,
    ...claims,
  });

  describe('accepts', () => {
    it.each(ALGS)('a valid %s token, and /api/me shows the identity', async (alg) => {
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
    });

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

    it.each(BY_PATH)(
      '%s: a token that expired a few seconds ago (clock tolerance)',
      async (_p, alg) => {
        const token = await identity.token({ sub: 'skewed' }, { alg, expiresIn: -10 });
        await me(token).expect(200);
      },
    );
  });

  describe('picks the strategy by alg, and verifies each token once', () => {
    afterEach(() => jest.restoreAllMocks());

    it.each([
      ['EdDSA', 1, 0],
      ['RS256', 0, 1],
      ['ES256', 0, 1],
    ] as const)('%s: jose %d time(s), passport-jwt (jsonwebtoken) %d', async (alg, jose, jwt) => {
      const joseVerify = jest.spyOn(t.app.get(JoseStrategy), 'verify');
      // passport-jwt's own seam for its verifier (lib/strategy.js: "JwtStrategy.JwtVerifier").
      const jwtVerify = jest.spyOn(
        PassportJwt as unknown as { JwtVerifier: () => void },
        'JwtVerifier',
      );
      const token = await identity.token({ sub: `routed-${alg}` }, { alg });
      await me(token).expect(200);
      await me(token).expect(200); // from the cache: neither strategy runs
      expect([joseVerify.mock.calls.length, jwtVerify.mock.calls.length]).toEqual([jose, jwt]);
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

    it('alg: none', async () => {
      const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', role: 'admin', exp: now() + 3600 })}.`;
      await expectRefused(token, /algorithm "none" is not accepted/);
    });

    describe.each(BY_PATH)('%s', (_path, alg) => {
      it('a token with a garbage payload', () =>
        expectRefused(
          `${b64({ alg, kid: identity.publicJwk(alg).kid })}.@@@.sig`,
          // jsonwebtoken reads the payload first, jose the signature first.
          /^(Malformed token|Invalid token signature)$/,
        ));

      it('a forged payload on a real signature', async () => {
        const token = await identity.token({ sub: 'mallory', role: 'user' }, { alg });
        const [header, , signature] = token.split('.');
        const forged = `${header}.${b64(valid({ sub: 'mallory', role: 'admin' }))}.${signature}`;
        await expectRefused(forged, /^Invalid token signature$/);
      });

      it('a signature from another token', async () => {
        const [header, payload] = (await identity.token({ sub: 'alice' }, { alg })).split('.');
        const signature = (await identity.token({ sub: 'bob' }, { alg })).split('.')[2];
        await expectRefused(`${header}.${payload}.${signature}`, /^Invalid token signature$/);
      });

      it('an expired token', async () => {
        const token = await identity.token({ sub: 'late' }, { alg, expiresIn: -120 });
        await expectRefused(token, /^Token expired$/);
      });

      it('a token without exp', async () => {
        const { exp: _exp, ...claims } = valid({ sub: 'forever' });
        await expectRefused(await signed(alg, claims), /^Token claim "exp" is missing or invalid$/);
      });

      it('a token without sub', async () => {
        await expectRefused(
          await signed(alg, valid({ email: 'x@example.com' })),
          /^Token subject is missing or invalid$/,
        );
      });

      it('HS256 signed with the public key as the HMAC secret', async () => {
        const jwk = identity.publicJwk(alg);
        const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64(valid({ sub: 'admin', role: 'admin' }))}`;
        const signature = createHmac('sha256', pem).update(signingInput).digest('base64url');
        await expectRefused(`${signingInput}.${signature}`, /algorithm "HS256" is not accepted/);
      });

      it('a token whose key is embedded in its own header (jwk), never trusted', async () => {
        const rogue = await attacker.unpublishedKey(alg);
        const token = await new SignJWT(valid({ sub: 'admin', role: 'admin' }))
          .setProtectedHeader({ alg, kid: rogue.kid, jwk: rogue.publicJwk })
          .sign(rogue.key);
        await expectRefused(token, /^Token signed with an unknown key$/);
      });

      it.each(['jku', 'x5u'])(
        "a token pointing at the attacker's key set (%s), never fetched",
        async (param) => {
          const before = attacker.jwksRequests;
          // Signed with the attacker's published key: valid against the set it points at.
          const token = await attacker.token(
            { sub: 'admin', role: 'admin' },
            { alg, header: { [param]: attacker.jwksUrl } },
          );
          await expectRefused(token, /^Token signed with an unknown key$/);
          expect(attacker.jwksRequests).toBe(before);
        },
      );

      it('a real signature with a critical header extension the API does not understand', async () => {
        const token = await signed(alg, valid({ sub: 'crit' }), {
          crit: ['urn:example:must-understand'],
          'urn:example:must-understand': true,
        });
        await expectRefused(
          token,
          /^Token header has critical extensions this API does not understand$/,
        );
      });

      it('an unknown kid', async () => {
        const rogue = await attacker.unpublishedKey(alg);
        const token = await new SignJWT(valid({ sub: 'x' }))
          .setProtectedHeader({ alg, kid: rogue.kid })
          .sign(rogue.key);
        await expectRefused(token, /^Token signed with an unknown key$/);
      });

      it.each(ALGS.filter((other) => other !== alg))(
        'a known kid of a %s key, with another algorithm than its key',
        async (other) => {
          const rogue = await attacker.unpublishedKey(alg);
          const token = await new SignJWT(valid({ sub: 'x' }))
            .setProtectedHeader({ alg, kid: identity.publicJwk(other).kid })
            .sign(rogue.key);
          await expectRefused(token, /^Token algorithm does not match its signing key$/);
        },
      );
    });
  });

  describe("each strategy on its own, without the guard's header check", () => {
    /**
     * Runs one of the app's strategies on a bare request: its refusal as the guard words it, or
     * `passed on` when it leaves the token to the next strategy without a reason.
     */
    const run = (strategy: string, token: string) =>
      new Promise<string>((resolve, reject) => {
        passport.authenticate(
          strategy,
          { session: false },
          (error: unknown, user: unknown, info: unknown) =>
            user
              ? reject(new Error('accepted'))
              : resolve(
                  (error ?? info) === undefined
                    ? 'passed on'
                    : passportJwtFailure(error ?? info).message,
                ),
        )({ headers: { authorization: `Bearer ${token}` } }, {}, reject);
      });
    const hs256 = (alg: SigningAlgorithm) => {
      const jwk = identity.publicJwk(alg);
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const input = `${b64({ alg: 'HS256', kid: jwk.kid })}.${b64(valid({ sub: 'admin' }))}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    };
    const none = () => `${b64({ alg: 'none' })}.${b64(valid({ sub: 'admin' }))}.`;

    const foreign = (alg: SigningAlgorithm) => () => identity.token({ sub: 'other' }, { alg });

    // passport-jwt, the last strategy, refuses every algorithm but its own before it asks for a
    // key (and jsonwebtoken takes only its explicit `algorithms`); jose passes them on.
    it.each([
      ['passport-jwt', 'none', none, 'Token algorithm is not accepted'],
      [
        'passport-jwt',
        'HS256 with the RSA public key',
        () => hs256('RS256'),
        'Token algorithm is not accepted',
      ],
      [
        'passport-jwt',
        'HS256 with the EC public key',
        () => hs256('ES256'),
        'Token algorithm is not accepted',
      ],
      ['passport-jwt', 'EdDSA', foreign('EdDSA'), 'Token algorithm is not accepted'],
      ['jose', 'none', none, 'passed on'],
      ['jose', 'HS256 with the Ed25519 public key', () => hs256('EdDSA'), 'passed on'],
      ['jose', 'RS256', foreign('RS256'), 'passed on'],
      ['jose', 'ES256', foreign('ES256'), 'passed on'],
    ] as const)('%s: %s', async (strategy, _what, token, reason) => {
      const name = strategy === 'jose' ? JOSE_STRATEGY : PASSPORT_JWT_STRATEGY;
      expect(await run(name, await token())).toBe(reason);
    });
  });

  describe.each(BY_PATH)(
    'identity hygiene, %s: a sub that is not a valid worker id is a 401',
    (_path, alg) => {
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
        ['a number', 42],
      ])('%s', async (_what, sub) => {
        await expectRefused(
          await signed(alg, valid({ sub })),
          /^Token subject is missing or invalid$/,
        );
      });

      it("refuses system:sweeper, the API's own identity: no person may act as the sweeper", async () => {
        await expectRefused(
          await signed(alg, valid({ sub: 'system:sweeper', role: 'admin' })),
          /^Token subject system:sweeper is reserved for the API's own sweeper$/,
        );
        await me(await identity.token({ sub: 'system:sweeperx' }, { alg })).expect(200);
      });

      it('accepts 255 characters, including ones outside the BMP', async () => {
        const sub = `${'é'.repeat(127)}${'😀'.repeat(128)}`;
        const res = await me(await identity.token({ sub }, { alg })).expect(200);
        expect(res.body.id).toBe(sub);
      });
    },
  );

  describe.each(BY_PATH)('clock claims, %s', (_path, alg) => {
    const at = (claims: { iat?: unknown; nbf?: unknown }) =>
      signed(alg, { ...valid({ sub: 'clock' }), exp: now() + 7200, iat: undefined, ...claims });

    it('refuses an iat an hour in the future', async () => {
      await expectRefused(await at({ iat: now() + 3600 }), /^Token is issued in the future$/);
    });

    it('refuses an nbf an hour in the future', async () => {
      await expectRefused(await at({ nbf: now() + 3600 }), /^Token is not valid yet$/);
    });

    it.each(['iat', 'nbf'])('refuses a %s that is not a number', async (claim) => {
      await expectRefused(
        await at({ [claim]: String(now()) }),
        new RegExp(`^Token claim "${claim}" is missing or invalid$`),
      );
    });

    it('tolerates a few seconds of skew (JWT_CLOCK_TOLERANCE_S, 30 by default)', async () => {
      await me(await at({ iat: now() + 10, nbf: now() + 10 })).expect(200);
    });
  });

  it('takes its leeway from JWT_CLOCK_TOLERANCE_S, on both paths', async () => {
    const strict = await TestApp.start({ identity, env: { JWT_CLOCK_TOLERANCE_S: '0' } });
    try {
      for (const alg of ALGS) {
        for (const [claims, reason] of [
          [{ iat: now() + 10 }, 'Token is issued in the future'],
          [{ nbf: now() + 10 }, 'Token is not valid yet'],
          [{ exp: now() - 5 }, 'Token expired'],
        ] as const) {
          const token = await signed(alg, { ...valid({ sub: 'strict' }), ...claims });
          const res = await request(strict.server)
            .get('/api/me')
            .set('Authorization', `Bearer ${token}`)
            .expect(401);
          expect([alg, res.body.error]).toEqual([alg, reason]);
        }
      }
    } finally {
      await strict.close();
    }
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
        env: { JWT_ISSUER: identity.issuer, JWT_AUDIENCE: 'taskflow-api' },
      });
    });

    afterAll(() => strict.close());

    const get = (app: TestApp, token: string) =>
      request(app.server).get('/api/me').set('Authorization', `Bearer ${token}`);

    describe.each(BY_PATH)('%s', (_path, alg) => {
      it('accepts the right issuer and audience', async () => {
        await get(
          strict,
          await identity.token({ sub: 'ok' }, { alg, audience: 'taskflow-api' }),
        ).expect(200);
      });

      it('accepts the right audience among several', async () => {
        const token = await signed(alg, valid({ sub: 'ok', aud: ['another-api', 'taskflow-api'] }));
        await get(strict, token).expect(200);
      });

      it('refuses a wrong issuer', async () => {
        const res = await get(
          strict,
          await identity.token(
            { sub: 'x' },
            { alg, audience: 'taskflow-api', issuer: 'http://evil' },
          ),
        ).expect(401);
        expect(res.body.error).toBe('Token issuer is not trusted');
      });

      it('refuses a wrong audience', async () => {
        const res = await get(
          strict,
          await identity.token({ sub: 'x' }, { alg, audience: 'another-api' }),
        ).expect(401);
        expect(res.body.error).toBe('Token audience is not this API');
      });

      it('refuses a token without iss or aud', async () => {
        const res = await get(strict, await signed(alg, { sub: 'x', exp: now() + 60 })).expect(401);
        expect(res.body.error).toMatch(/^Token (issuer is not trusted|audience is not this API)$/);
      });
    });

    it.each([
      ['RS256', 'EdDSA'],
      ['EdDSA', 'ES256'],
    ] as const)('with JWT_ALGORITHMS=%s, refuses %s', async (allowed, refused) => {
      const only = await TestApp.start({ identity, env: { JWT_ALGORITHMS: allowed } });
      try {
        await get(only, await identity.token({ sub: 'ok' }, { alg: allowed })).expect(200);
        const res = await get(only, await identity.token({ sub: 'x' }, { alg: refused })).expect(
          401,
        );
        expect(res.body.error).toBe(`Token algorithm "${refused}" is not accepted`);
      } finally {
        await only.close();
      }
    });
  });

  describe('keys and caching', () => {
    it('remembers a verified token until its exp, and not a moment longer, on both paths', async () => {
      const stats = t.app.get(TokenVerifier).stats;
      const tokens = await Promise.all(
        ALGS.map((alg) => identity.token({ sub: `cached-${alg}` }, { alg, expiresIn: 2 })),
      );
      const before = { ...stats };
      for (const token of tokens) {
        await me(token).expect(200);
        await me(token).expect(200);
        await me(token).expect(200);
      }
      expect(stats.signatureChecks - before.signatureChecks).toBe(3);
      expect(stats.cacheHits - before.cacheHits).toBe(6);

      await new Promise((resolve) => setTimeout(resolve, 2200));
      // Past exp the cache has dropped them: the signature is checked again (and passes only
      // thanks to the clock tolerance).
      for (const token of tokens) await me(token).expect(200);
      expect(stats.signatureChecks - before.signatureChecks).toBe(6);
    });

    describe('the JWKS, on an app of their own (unknown kids spend its refetch budget)', () => {
      let k: TestApp;

      beforeAll(async () => {
        k = await TestApp.start({ identity });
      });

      afterAll(() => k.close());

      const get = (token: string) =>
        request(k.server).get('/api/me').set('Authorization', `Bearer ${token}`);

      it.each(ALGS)('picks up a rotated %s key (new kid) without a restart', async (alg) => {
        await get(await identity.token({ sub: 'before' }, { alg })).expect(200);
        const kid = await identity.addKey(alg);
        const token = await identity.token({ sub: 'rotated' }, { kid });
        await get(token).expect(200);
      });

      // Each path holds its own jwks-rsa client, so each has its own budget of 10 refetches a
      // minute; RS256 and ES256 share one.
      it.each(BY_PATH)(
        '%s: refetches the JWKS at most a few times however many unknown kids arrive',
        async (_path, alg) => {
          const rogue = await attacker.unpublishedKey(alg);
          const before = identity.jwksRequests;
          for (let i = 0; i < 25; i++) {
            const token = await new SignJWT({ sub: 'x' })
              .setProtectedHeader({ alg, kid: `unknown-${i}` })
              .setExpirationTime('1h')
              .sign(rogue.key);
            const res = await get(token).expect(401);
            expect(res.body.error).toBe('Token signed with an unknown key');
          }
          expect(identity.jwksRequests - before).toBeLessThanOrEqual(10);
        },
      );
    });

    it.each(BY_PATH)(
      '%s: keeps accepting tokens signed with cached keys while the JWKS is down; unknown keys get 401, not 500',
      async (_path, alg) => {
        const jwksDown = await TestIdentityProvider.start([alg]);
        const app = await TestApp.start({ identity: jwksDown });
        try {
          const get = (token: string) =>
            request(app.server).get('/api/me').set('Authorization', `Bearer ${token}`);
          const cachedKid = jwksDown.publicJwk(alg).kid!;
          await get(await jwksDown.token({ sub: 'warm' }, { alg })).expect(200); // the key is now cached
          const newKid = await jwksDown.addKey(alg); // published, but never fetched
          await jwksDown.stop();

          const fresh = await jwksDown.token({ sub: 'fresh' }, { kid: cachedKid }); // new token, cached key
          await get(fresh).expect(200);
          const res = await get(await jwksDown.token({ sub: 'new-key' }, { kid: newKid })).expect(
            401,
          );
          expect(res.body.error).toBe(
            'Token signed with an unknown key (signing keys unavailable)',
          );
        } finally {
          await app.close();
          await jwksDown.stop();
        }
      },
    );
  });
});
