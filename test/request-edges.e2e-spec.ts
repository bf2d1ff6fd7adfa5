import { gzipSync } from 'node:zlib';
import { Actor, TestApp } from './support/test-app';

/** Bodies the API does not take: encoded, or not JSON. Refused whole, in the envelope. */
describe('Request bodies: encodings and content types (e2e)', () => {
  let t: TestApp;
  let alice: Actor;

  beforeAll(async () => {
    t = await TestApp.start();
    alice = await t.actor('alice');
  });

  afterAll(() => t.close());

  const titles = async () =>
    ((await alice.get('/api/tasks?limit=100').expect(200)).body as { title: string }[]).map(
      (task) => task.title,
    );

  it.each([
    ['gzip', gzipSync(JSON.stringify({ title: 'zipped' }))],
    ['x-bogus', Buffer.from(JSON.stringify({ title: 'bogus' }))],
    ['deflate, gzip', Buffer.from(JSON.stringify({ title: 'layered' }))],
  ])('Content-Encoding: %s is a 415, and nothing is created', async (encoding, body) => {
    const res = await alice
      .post('/api/tasks')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .send(body)
      .expect(415);
    expect(res.body).toEqual({
      error: 'Content-Encoding is not supported: send the body uncompressed (identity)',
      status_code: 415,
      code: 'unsupported_media_type',
    });
    expect(res.headers['accept-encoding']).toBe('identity');
    expect(await titles()).toEqual(expect.not.arrayContaining(['zipped', 'bogus', 'layered']));
  });

  it('Content-Encoding: identity is a plain body', async () => {
    await alice
      .post('/api/tasks')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'identity')
      .send(JSON.stringify({ title: 'plain' }))
      .expect(201);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'Content-Type: %s is a 415',
    async (type) => {
      const res = await alice.postText('/api/tasks', 'title=x', type).expect(415);
      expect(res.body.code).toBe('unsupported_media_type');
    },
  );

  it('malformed JSON stays a 400', async () => {
    const res = await alice.postText('/api/tasks', '{"title": ').expect(400);
    expect(res.body.code).toBe('malformed_json');
  });
});
