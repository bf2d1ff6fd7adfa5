import { Writable } from 'node:stream';
import pino from 'pino';
import { prettyLogStream } from './logger';

describe('prettyLogStream', () => {
  it('pretty-prints only outside production and only at a terminal', () => {
    expect(prettyLogStream('production', true)).toBeUndefined();
    expect(prettyLogStream('development', false)).toBeUndefined();
    expect(prettyLogStream('development', true)).toBeDefined();
  });

  it('turns a JSON log line into a readable one', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const stream = prettyLogStream('development', true, sink)!;
    pino({ level: 'info' }, stream).info({ route: '/api/tasks' }, 'GET /api/tasks 200');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(text).toContain('GET /api/tasks 200');
    expect(() => JSON.parse(text)).toThrow();
  });
});
