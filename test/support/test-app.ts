import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import passport from 'passport';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { API_KEY_STRATEGY, ApiKeyStrategy } from '../../src/auth/api-key.strategy';
import { JOSE_STRATEGY, JoseStrategy } from '../../src/auth/jose.strategy';
import { PASSPORT_JWT_STRATEGY, PassportJwtStrategy } from '../../src/auth/passport-jwt.strategy';
import { AppConfig, loadConfig } from '../../src/config/config';
import { freshDatabase } from './database';
import { apiDatabaseEnv } from './env';
import { TestIdentityProvider } from './identity';

export interface ActorSpec {
  id: string;
  email?: string;
  role?: string;
}

/** Someone calling the API with a real signed token. */
export class Actor {
  constructor(
    readonly id: string,
    readonly token: string,
    private readonly server: Server,
  ) {}

  private auth(test: request.Test): request.Test {
    return test.set('Authorization', `Bearer ${this.token}`);
  }

  get(url: string): request.Test {
    return this.auth(request(this.server).get(url));
  }

  post(url: string, body?: string | object): request.Test {
    const test = this.auth(request(this.server).post(url));
    return body === undefined ? test : test.send(body);
  }

  /** A POST whose body goes out as written, under `contentType` (malformed JSON, form data…). */
  postText(url: string, text: string, contentType = 'application/json'): request.Test {
    return this.post(url).set('Content-Type', contentType).send(text);
  }

  patch(url: string, body?: string | object): request.Test {
    const test = this.auth(request(this.server).patch(url));
    return body === undefined ? test : test.send(body);
  }

  delete(url: string): request.Test {
    return this.auth(request(this.server).delete(url));
  }
}

export interface TestAppOptions {
  /** Extra environment for `loadConfig` (e.g. `JWT_AUDIENCE`). */
  env?: Record<string, string>;
  /** Reuse a provider (to stop it mid-test, rotate keys…); one is started otherwise. */
  identity?: TestIdentityProvider;
  /** Reuse an existing database instead of a fresh copy of the template (the owner's URL). */
  databaseUrl?: string;
}

/**
 * The apps alive in this Jest process, oldest first. Passport keeps its strategies in one
 * registry per process, by name, so the strategies of the app built last verify the tokens of
 * every app (each app's guard still keeps its own verified-token cache). Apps whose lifetimes
 * nest (each used while it is the newest, as an app of its own inside a `describe` or a test)
 * each verify with their own keys, issuer, audience and clock tolerance: closing one hands the
 * names back to the app built before it.
 */
const liveApps: TestApp[] = [];

/**
 * The application exactly as `main.ts` builds it (same module, filters, pipes, guards), on a
 * private PostgreSQL database which it reaches as the restricted app role, trusting a local JWKS
 * served over HTTP. `databaseUrl` is the owner's connection, for what the tests check in SQL.
 */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly config: AppConfig,
    readonly identity: TestIdentityProvider,
    readonly databaseUrl: string,
    private readonly ownsIdentity: boolean,
  ) {}

  static async start(options: TestAppOptions = {}): Promise<TestApp> {
    const identity = options.identity ?? (await TestIdentityProvider.start());
    const databaseUrl = options.databaseUrl ?? (await freshDatabase());
    const config = loadConfig({
      NODE_ENV: 'test',
      ...apiDatabaseEnv(databaseUrl),
      JWKS_URL: identity.jwksUrl,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      RATE_LIMIT_PER_MINUTE: '0',
      // Off unless a test turns it on: it would take over the expired leases tests arrange.
      SWEEP_INTERVAL_MS: '0',
      ...options.env,
    });
    const app = await createApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const started = new TestApp(app, config, identity, databaseUrl, !options.identity);
    liveApps.push(started);
    return started;
  }

  /** Listens on a free loopback port, for clients in other processes (CLI, MCP server). */
  async listen(): Promise<string> {
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  get server(): Server {
    return this.app.getHttpServer();
  }

  /** Unauthenticated requests. */
  get anonymous(): request.Agent {
    return request(this.server);
  }

  /** A caller with an API key instead of a JWT (`Authorization: Bearer tf_…`). */
  keyActor(workerId: string, key: string): Actor {
    return new Actor(workerId, key, this.server);
  }

  async actor(spec: ActorSpec | string): Promise<Actor> {
    const s = typeof spec === 'string' ? { id: spec } : spec;
    const token = await this.identity.token({
      sub: s.id,
      email: s.email ?? `${s.id}@example.com`,
      role: s.role ?? 'user',
    });
    return new Actor(s.id, token, this.server);
  }

  async close(): Promise<void> {
    liveApps.splice(liveApps.indexOf(this), 1);
    const previous = liveApps.at(-1);
    if (previous) {
      passport.use(JOSE_STRATEGY, previous.app.get(JoseStrategy));
      passport.use(PASSPORT_JWT_STRATEGY, previous.app.get(PassportJwtStrategy));
      passport.use(API_KEY_STRATEGY, previous.app.get(ApiKeyStrategy));
    }
    await this.app.close();
    if (this.ownsIdentity) await this.identity.stop();
  }
}
