import { connect } from 'node:net';
import request from 'supertest';
import { version } from '../package.json';
import { closedPort } from './support/ports';
import { Actor, TestApp } from './support/test-app';

describe('Application shell (e2e)', () => {
  let t: TestApp;
  let alice: Actor;

  beforeAll(async () => {
    t = await TestApp.start({
      env: { ALLOWED_ORIGINS: 'http://localhost:3000,https://app.example.com' },
    });
    alice = await t.actor('alice');
  });

  afterAll(() => t.close());

  describe('health', () => {
    it('GET /health answers without the database', async () => {
      const res = await t.anonymous.get('/health').expect(200);
      expect(res.body).toEqual({ status: 'healthy', version });
    });

    it('GET /api/health/db answers 200 when the database is up', async () => {
      const res = await t.anonymous.get('/api/health/db').expect(200);
      expect(res.body).toEqual({ database: 'connected' });
    });

    it('answers 503 from /api/health/db and data routes when the database cannot be reached', async () => {
      const port = await closedPort();
      const down = await TestApp.start({
        identity: t.identity,
        databaseUrl: `postgresql://postgres@127.0.0.1:${port}/taskflow`,
        env: { DB_CONNECT_TIMEOUT_MS: '500' },
      });
      try {
        const started = Date.now();
        const res = await down.anonymous.get('/api/health/db').expect(503);
        expect(res.body).toEqual({
          error: 'Database unreachable',
          status_code: 503,
          code: 'database_unavailable',
        });
        await down.anonymous.get('/health').expect(200);
        const token = (await down.actor('alice')).token;
        const data = await request(down.server)
          .get('/api/tasks')
          .set('Authorization', `Bearer ${token}`)
          .expect(503);
        expect(data.body).toEqual({
          error: 'Database unavailable, try again shortly',
          status_code: 503,
          code: 'database_unavailable',
        });
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await down.close();
      }
    });
  });

  describe('CORS and security headers', () => {
    it('allows a listed origin, with the headers a browser client needs', async () => {
      const res = await alice
        .get('/api/tasks')
        .set('Origin', 'https://app.example.com')
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(String(res.headers['access-control-expose-headers']).split(/, */).sort()).toEqual(
        [
          'ETag',
          'Idempotent-Replayed',
          'Link',
          'Retry-After',
          'X-Request-Id',
          'X-Total-Count',
          'X-Total-Count-Estimated',
        ].sort(),
      );
    });

    it('answers a preflight from a listed origin', async () => {
      const res = await t.anonymous
        .options('/api/tasks')
        .set('Origin', 'http://localhost:3000')
        .set('Access-Control-Request-Method', 'PATCH')
        .set('Access-Control-Request-Headers', 'authorization,content-type,if-match');
      expect(res.status).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      expect(String(res.headers['access-control-allow-methods']).split(/, */)).toEqual(
        expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS']),
      );
      expect(String(res.headers['access-control-allow-headers']).split(/, */)).toEqual(
        expect.arrayContaining([
          'Authorization',
          'Content-Type',
          'Idempotency-Key',
          'If-Match',
          'If-None-Match',
        ]),
      );
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
    });

    it('gives a disallowed origin no allow-origin header (and never *)', async () => {
      const res = await alice
        .get('/api/tasks')
        .set('Origin', 'https://evil.example.com')
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('sets the usual security headers', async () => {
      const res = await t.anonymous.get('/health').expect(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('names every response with X-Request-Id, keeping a sane one sent by the caller', async () => {
      const mine = await t.anonymous.get('/health').set('X-Request-Id', 'trace-42').expect(200);
      expect(mine.headers['x-request-id']).toBe('trace-42');
      const minted = await t.anonymous
        .get('/health')
        .set('X-Request-Id', 'bad id\twith tab')
        .expect(200);
      expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('requests refused by the HTTP parser', () => {
    let port: number;
    beforeAll(async () => {
      port = Number(new URL(await t.listen()).port);
    });

    /** Sends raw bytes and reads the whole answer; the server closes the connection after it. */
    const exchange = async (raw: string): Promise<{ status: number; body: unknown }> => {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(raw));
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      const [head, body] = text.split('\r\n\r\n');
      return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as unknown };
    };

    it('answers headers over the size limit with the 431 envelope', async () => {
      const res = await exchange(
        `GET /api/tasks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(res).toEqual({
        status: 431,
        body: {
          error: 'the request headers are too large',
          status_code: 431,
          code: 'headers_too_large',
        },
      });
    });

    it('answers a request that is not HTTP with the 400 envelope', async () => {
      const res = await exchange('NONSENSE\r\n\r\n');
      expect(res).toEqual({
        status: 400,
        body: { error: 'the request is not valid HTTP', status_code: 400, code: 'bad_request' },
      });
    });
  });

  describe('OpenAPI and Swagger UI', () => {
    it('serves /openapi.json with every route, its schemas and the bearer scheme', async () => {
      const res = await t.anonymous.get('/openapi.json').expect(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(routes).toEqual(
        expect.arrayContaining([
          'GET /health',
          'GET /api/health/db',
          'POST /api/tasks',
          'GET /api/tasks',
          'GET /api/tasks/{id}',
          'PATCH /api/tasks/{id}',
          'DELETE /api/tasks/{id}',
          'GET /api/tasks/{id}/subtasks',
        ]),
      );
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining(['Task', 'CreateTaskDto', 'UpdateTaskDto', 'ErrorResponse']),
      );
      expect(
        doc.paths['/api/tasks/{id}'].get.responses['404'].content['application/json'].schema,
      ).toEqual({
        $ref: '#/components/schemas/ErrorResponse',
      });
    });

    it('renders Swagger UI at /docs with its assets', async () => {
      const res = await t.anonymous.get('/docs').expect(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.text).toContain('swagger-ui');
      const init = await t.anonymous.get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('/api/tasks');
      await t.anonymous.get('/docs/swagger-ui-bundle.js').expect(200);
    });
  });
});
