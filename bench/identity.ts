import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoKey, JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';

/**
 * The bench's identity server: one EdDSA (Ed25519) key, its JWKS served over HTTP on loopback,
 * and real JWTs minted for the bench users. TaskFlow and the baseline both fetch the JWKS and
 * verify signatures exactly as in production. (The same idea as test/support/identity.ts, kept
 * separate: the bench does not depend on the test helpers.)
 */
export class BenchIdentity {
  readonly issuer = 'http://identity.bench';
  readonly audience = 'http://identity.bench';
  private server?: Server;
  private port = 0;
  jwksRequests = 0;

  private constructor(
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  static async start(): Promise<BenchIdentity> {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', {
      crv: 'Ed25519',
      extractable: true,
    });
    const kid = `bench-${Date.now().toString(36)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const identity = new BenchIdentity(kid, privateKey, publicJwk);
    await identity.listen();
    return identity;
  }

  get jwksUrl(): string {
    return `http://127.0.0.1:${this.port}/jwks`;
  }

  /** A JWT as Better Auth would issue it (sub, email, role), valid for `hours`. */
  token(sub: string, hours = 6): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub, email: `${sub}@bench.test`, role: 'user' })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + hours * 3600)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .sign(this.privateKey);
  }

  async tokens(subs: readonly string[]): Promise<Record<string, string>> {
    const entries = await Promise.all(subs.map(async (sub) => [sub, await this.token(sub)]));
    return Object.fromEntries(entries) as Record<string, string>;
  }

  private async listen(): Promise<void> {
    const body = JSON.stringify({ keys: [this.publicJwk] });
    const server = createServer((req, res) => {
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      this.jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
