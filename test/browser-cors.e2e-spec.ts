import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, Browser } from 'playwright-core';
import { TestApp } from './support/test-app';

/**
 * A real browser on another origin, which is what CORS is for: headless Chromium (Debian's
 * package, which `.ci/run` installs) loads a page from a second port and calls the API from it
 * with a bearer token. Browsers enforce what a CORS test with supertest can only assume: the
 * preflight of a PATCH with If-Match, and which response headers a script may read.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  process.stderr.write(
    `browser CORS test skipped: ${CHROMIUM} not found (apt-get install chromium; .ci/run does)\n`,
  );
}

/** What the page reports back; `error` when the browser refused to let it read an answer. */
type Outcome = { status?: number; headers?: Record<string, string | null>; error?: string };

(available ? describe : describe.skip)('A browser frontend on another origin (Chromium)', () => {
  let page: Server;
  let pagePort: number;
  let t: TestApp;
  let api: string;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    page = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>frontend</title>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pagePort = (page.address() as AddressInfo).port;
    // The same page server under two names: only the 127.0.0.1 origin is allowed.
    t = await TestApp.start({ env: { ALLOWED_ORIGINS: `http://127.0.0.1:${pagePort}` } });
    api = await t.listen();
    token = (await t.actor('frontend-user')).token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    page?.close();
  });

  /** Runs the frontend's calls in a page loaded from `origin`. */
  async function frontendAt(origin: string): Promise<Record<string, Outcome>> {
    const tab = await browser.newPage();
    try {
      await tab.goto(`${origin}/`);
      return await tab.evaluate(
        async ({ api, token }) => {
          const read = ['ETag', 'X-Total-Count', 'X-Request-Id', 'Link'];
          const call = async (method: string, path: string, headers = {}, body?: unknown) => {
            try {
              const res = await fetch(`${api}${path}`, {
                method,
                headers: { Authorization: `Bearer ${token}`, ...headers },
                body: body === undefined ? undefined : JSON.stringify(body),
              });
              const values = Object.fromEntries(read.map((h) => [h, res.headers.get(h)]));
              return {
                status: res.status,
                headers: values,
                body: res.status === 204 ? null : await res.json(),
              };
            } catch (error) {
              return { error: String(error) };
            }
          };
          const json = { 'Content-Type': 'application/json' };
          const created = await call('POST', '/api/tasks', json, { title: 'From the browser' });
          const id = (created.body as { id?: number } | null)?.id ?? 0;
          const etag = created.headers?.ETag ?? '';
          const patched = await call(
            'PATCH',
            `/api/tasks/${id}`,
            { ...json, 'If-Match': etag },
            { priority: 'high' },
          );
          const stale = await call(
            'PATCH',
            `/api/tasks/${id}`,
            { ...json, 'If-Match': etag },
            { priority: 'low' },
          );
          // A second task, so that the one-task page has a next page to link to.
          await call('POST', '/api/tasks', json, { title: 'Second from the browser' });
          const list = await call('GET', '/api/tasks?limit=1');
          const deleted = await call('DELETE', `/api/tasks/${id}`, {
            'If-Match': patched.headers?.ETag ?? '',
          });
          return { created, patched, stale, list, deleted };
        },
        { api, token },
      );
    } finally {
      await tab.close();
    }
  }

  it('lets a page on an allowed origin list, create, PATCH with If-Match and DELETE', async () => {
    const r = await frontendAt(`http://127.0.0.1:${pagePort}`);
    expect(r.created).toMatchObject({
      status: 201,
      headers: { ETag: expect.stringMatching(/^"\d+-1"$/) },
    });
    expect(r.patched).toMatchObject({
      status: 200,
      headers: { ETag: expect.stringMatching(/^"\d+-2"$/) },
    });
    expect(r.stale).toMatchObject({ status: 412 });
    expect(r.list.status).toBe(200);
    expect(Number(r.list.headers?.['X-Total-Count'])).toBeGreaterThanOrEqual(1);
    expect(r.list.headers?.['X-Request-Id']).toEqual(expect.any(String));
    expect(r.list.headers?.Link).toMatch(/^<\/api\/tasks\?limit=1&cursor=[\w-]+>; rel="next"$/);
    expect(r.deleted).toMatchObject({ status: 204 });
  });

  it('lets the browser block the same page on an origin that is not allowed', async () => {
    const before = (await (await t.actor('frontend-user')).get('/api/tasks').expect(200)).headers[
      'x-total-count'
    ];
    const r = await frontendAt(`http://localhost:${pagePort}`);
    for (const outcome of Object.values(r)) expect(outcome.error).toMatch(/TypeError/);
    // The POST's preflight failed, so the browser never sent it: nothing was created.
    const after = (await (await t.actor('frontend-user')).get('/api/tasks').expect(200)).headers[
      'x-total-count'
    ];
    expect(after).toBe(before);
  });

  it("Swagger UI's Authorize takes an API key, and Try it out sends it", async () => {
    const admin = await t.actor({ id: 'root', role: 'admin' });
    await admin
      .post('/api/workers', { id: 'ui-agent', name: 'UI agent', type: 'agent' })
      .expect(201);
    const { body } = await admin.post('/api/workers/ui-agent/keys', { name: 'ui' }).expect(201);
    const tab = await browser.newPage();
    try {
      await tab.goto(`${api}/docs`);
      await tab.locator('button.authorize').first().click();
      // One form per scheme; the API key's says so in its name.
      const form = tab.locator('.auth-container').filter({ hasText: 'api_key' });
      await form.locator('input').fill(body.key as string);
      await form.getByRole('button', { name: 'Apply credentials' }).click();
      await form.getByRole('button', { name: 'Remove authorization' }).waitFor();
      await tab.locator('button.close-modal').first().click();

      const operation = tab.locator('#operations-identity-Me_me');
      await operation.locator('.opblock-summary').click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      const [response] = await Promise.all([
        tab.waitForResponse((r) => r.url().endsWith('/api/me')),
        operation.getByRole('button', { name: 'Execute' }).click(),
      ]);
      expect(response.request().headers().authorization).toBe(`Bearer ${body.key}`);
      expect(response.status()).toBe(200);
      expect(await response.json()).toMatchObject({ id: 'ui-agent', worker_type: 'agent' });
    } finally {
      await tab.close();
    }
  });
});
