import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoKey, JWK, JWTPayload, SignJWT, SignOptions, exportJWK, generateKeyPair } from 'jose';

export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TokenOptions {
  alg?: SigningAlgorithm;
  /** Sign with this key id (default: the newest key of `alg`). */
  kid?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** More protected header parameters (`jku`, `x5u`…). */
  header?: Record<string, unknown>;
}

/**
 * A real JWKS over HTTP with keys the tests generate, standing in for the Better Auth server
 * where a test needs to mint tokens itself (expired ones, foreign keys, other algorithms).
 * Nothing here is mocked on the API side: it fetches and verifies exactly as in production.
 * Ed25519 keys sign EdDSA tokens (the API's jose path), P-256 and RSA keys ES256 and RS256
 * tokens (its passport-jwt path); every key is generated when the provider starts, none is kept.
 */
export class TestIdentityProvider {
  readonly issuer = 'http://identity.test';
  readonly audience = 'http://identity.test';
  private readonly keys: SigningKey[] = [];
  private server?: Server;
  private port = 0;
  /** How many times the JWKS was fetched: key caching and refetch limits are visible here. */
  jwksRequests = 0;

  static async start(
    algs: SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'],
  ): Promise<TestIdentityProvider> {
    const provider = new TestIdentityProvider();
    for (const alg of algs) await provider.addKey(alg);
    await provider.listen();
    return provider;
  }

  get jwksUrl(): string {
    return `http://127.0.0.1:${this.port}/jwks`;
  }

  async addKey(alg: SigningAlgorithm): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
      extractable: true,
    });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg };
    this.keys.push({ kid, alg, privateKey, publicJwk });
    return kid;
  }

  /** A key the JWKS never publishes: tokens it signs have an unknown `kid`. */
  async unpublishedKey(
    alg: SigningAlgorithm = 'EdDSA',
  ): Promise<{ kid: string; key: CryptoKey; publicJwk: JWK }> {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
      extractable: true,
    });
    const kid = randomUUID();
    return { kid, key: privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
  }

  publicJwk(alg: SigningAlgorithm = 'EdDSA'): JWK {
    return this.newest(alg).publicJwk;
  }

  async token(claims: JWTPayload & { sub: string }, options: TokenOptions = {}): Promise<string> {
    const alg = options.alg ?? 'EdDSA';
    const key = options.kid ? this.keys.find((k) => k.kid === options.kid) : this.newest(alg);
    if (!key) throw new Error(`no key ${options.kid ?? alg}`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 3600))
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.audience)
      .sign(key.privateKey);
  }

  /** Signs a token built by the test (odd claims), with the newest key of its header's alg. */
  sign(jwt: SignJWT, alg: SigningAlgorithm = 'EdDSA', options?: SignOptions): Promise<string> {
    return jwt.sign(this.newest(alg).privateKey, options);
  }

  async listen(port = this.port): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      this.jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops serving the JWKS (the auth server is down); `listen()` brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private newest(alg: SigningAlgorithm): SigningKey {
    const key = [...this.keys].reverse().find((k) => k.alg === alg);
    if (!key) throw new Error(`no ${alg} key`);
    return key;
  }
}
