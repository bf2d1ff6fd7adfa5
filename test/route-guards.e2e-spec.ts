import type { ApplicationConfig } from '@nestjs/core';
import request from 'supertest';
import { IS_PUBLIC } from '../src/auth/public.decorator';
import { listRoutes, metadataOf } from './support/routes';
import { TestApp } from './support/test-app';

/**
 * Deny by default, checked against the running app: every route a controller declares must
 * refuse a caller without a token, unless it is on this list. A new public route has to be
 * added here on purpose; a new private one is covered the moment it exists.
 */
const PUBLIC_ROUTES = ['GET /health', 'GET /api/health/db'];
/** Served by Swagger, outside the controllers; public by contract. */
const PUBLIC_DOCUMENTS = ['/openapi.json', '/docs'];

describe('Route guards (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });

  afterAll(() => t.close());

  it('finds the routes (sanity check of the listing itself)', () => {
    const names = listRoutes(t.app).map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining(['POST /api/tasks', 'GET /api/me', ...PUBLIC_ROUTES]),
    );
  });

  it('marks exactly the listed routes @Public()', () => {
    const marked = listRoutes(t.app)
      .filter((r) => metadataOf<boolean>(t.app, IS_PUBLIC, r))
      .map((r) => `${r.method} ${r.path}`);
    expect(marked.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('documents bearer auth once, globally, with exactly the @Public() routes opting out', async () => {
    const doc = (await request(t.server).get('/openapi.json').expect(200)).body;
    // Either scheme: a JWT, or a worker's API key.
    expect(doc.security).toEqual([{ bearer: [] }, { api_key: [] }]);
    const optedOut: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const [method, op] of Object.entries(item as Record<string, { security?: unknown[] }>)) {
        // Anything else than "the global default" or "public" would be a third, unchecked case.
        expect([undefined, 0]).toContain(op.security?.length);
        if (op.security) optedOut.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(optedOut.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it("runs every route through TaskFlow's own guards only, and reads through no interceptor", () => {
    // A global interceptor would put every read through rxjs; mutations bind theirs per route
    // (@Audited). Read from Nest's ApplicationConfig: a test may look where src/ must not.
    const config = (t.app as unknown as { config: ApplicationConfig }).config;
    const names = (list: unknown[]) => list.map((e) => (e as object).constructor.name);
    expect(names(config.getGlobalInterceptors())).toEqual([]);
    expect(names(config.getGlobalGuards())).toEqual([
      'JwtAuthGuard',
      'AdminGuard',
      'DatabaseReadyGuard',
    ]);
  });

  it('answers 401 to every other route when no token is sent', async () => {
    const open: string[] = [];
    for (const route of listRoutes(t.app)) {
      const name = `${route.method} ${route.path}`;
      if (PUBLIC_ROUTES.includes(name)) continue;
      const url = route.path.replace(/:[A-Za-z_]+/g, '1');
      const res = await request(t.server)[route.method.toLowerCase() as 'get'](url);
      if (res.status !== 401 || !/^Bearer/.test(String(res.headers['www-authenticate']))) {
        open.push(`${name} -> ${res.status}`);
      }
    }
    expect(open).toEqual([]);
  });

  it('serves the public routes and documents without a token', async () => {
    for (const name of PUBLIC_ROUTES) {
      const path = name.split(' ')[1];
      const res = await request(t.server).get(path);
      expect([200, 503]).toContain(res.status);
    }
    for (const path of PUBLIC_DOCUMENTS) await request(t.server).get(path).expect(200);
  });
});
