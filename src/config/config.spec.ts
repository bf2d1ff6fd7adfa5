import { createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { ConfigError, loadConfig, parseDatabaseUrl } from './config';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.database.url).toBe('postgresql://postgres@127.0.0.1:5432/taskflow');
    expect(c.database.ssl).toBe(false);
    expect(c.auth).toMatchObject({
      authServerUrl: 'http://localhost:3001',
      jwksUrl: 'http://localhost:3001/api/auth/jwks',
      usingDefaultAuthServer: true,
      algorithms: ['EdDSA', 'ES256', 'RS256'],
    });
    expect(c.auth.issuer).toBeUndefined();
    expect(c.allowedOrigins).toEqual(['http://localhost:3000', 'http://localhost:3001']);
    expect(c.logLevel).toBe('info');
    expect(c.rateLimitPerMinute).toBe(1200);
    expect(c.redis).toBeUndefined();
  });

  it('shares the rate limits through REDIS_URL, under REDIS_KEY_PREFIX', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2' }).redis).toEqual({
      url: 'redis://cache:6379/2',
      keyPrefix: 'taskflow:',
    });
    expect(
      loadConfig({ REDIS_URL: 'rediss://:pw@cache:6380', REDIS_KEY_PREFIX: 'staging:' }).redis,
    ).toEqual({ url: 'rediss://:pw@cache:6380', keyPrefix: 'staging:' });
  });

  it('derives JWKS_URL from AUTH_SERVER_URL, and lets JWKS_URL override it', () => {
    expect(loadConfig({ AUTH_SERVER_URL: 'https://auth.example.com/' }).auth).toMatchObject({
      jwksUrl: 'https://auth.example.com/api/auth/jwks',
      usingDefaultAuthServer: false,
    });
    expect(
      loadConfig({
        AUTH_SERVER_URL: 'https://a.example.com',
        JWKS_URL: 'https://k.example.com/keys',
      }).auth.jwksUrl,
    ).toBe('https://k.example.com/keys');
  });

  it("accepts the seed's spellings (LOG_LEVEL=INFO) and treats empty variables as unset", () => {
    expect(loadConfig({ LOG_LEVEL: 'INFO', JWT_ISSUER: '' })).toMatchObject({
      logLevel: 'info',
      auth: expect.objectContaining({ issuer: undefined }),
    });
  });

  it.each([
    [
      { PORT: 'eighty' },
      /^Invalid configuration: PORT must be an integer between 0 and 65535 \(got "eighty"\)$/,
    ],
    [{ PORT: '70000' }, /PORT/],
    [
      { DATABASE_URL: 'mysql://x@y/z' },
      /^Invalid configuration: DATABASE_URL must be a postgresql:\/\/ URL$/,
    ],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL/],
    [
      { DATABASE_URL: 'postgresql://h/db?sslmode=sometimes' },
      /DATABASE_URL: unknown sslmode "sometimes"/,
    ],
    [{ AUTH_SERVER_URL: 'localhost:3001' }, /AUTH_SERVER_URL must be an http\(s\) URL/],
    [{ JWKS_URL: 'ftp://keys' }, /JWKS_URL/],
    [{ JWT_ALGORITHMS: 'EdDSA,HS256' }, /JWT_ALGORITHMS unknown or forbidden algorithm "HS256"/],
    [{ JWT_ALGORITHMS: 'none' }, /JWT_ALGORITHMS unknown or forbidden algorithm "none"/],
    [
      { JWT_ALGORITHMS: 'EdDSA,PS256' },
      /unknown or forbidden algorithm "PS256" \(allowed: EdDSA, ES256, RS256;/,
    ],
    [{ ALLOWED_ORIGINS: '*' }, /ALLOWED_ORIGINS "\*" is not allowed/],
    [{ ALLOWED_ORIGINS: 'http://ok.example.com,not-an-origin' }, /ALLOWED_ORIGINS "not-an-origin"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ RATE_LIMIT_PER_MINUTE: '-5' }, /RATE_LIMIT_PER_MINUTE/],
    [
      { REDIS_URL: 'cache:6379' },
      /^Invalid configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/,
    ],
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL must be a redis/],
    [
      { REDIS_URL: 'redis://cache', REDIS_KEY_PREFIX: 'my app:' },
      /REDIS_KEY_PREFIX must be 1 to 64 printable characters without spaces \(got "my app:"\)/,
    ],
  ])('stops on %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes DATABASE_URL or REDIS_URL, which may hold a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});

describe('DATABASE_URL sslmode', () => {
  it.each([
    ['postgresql://h/db', false],
    ['postgresql://h/db?sslmode=disable', false],
    ['postgresql://h/db?sslmode=require', { rejectUnauthorized: false }],
    ['postgresql://h/db?sslmode=verify-full', { rejectUnauthorized: true }],
  ])('%s gives ssl=%j', (url, ssl) => {
    const parsed = parseDatabaseUrl(url);
    expect(parsed.ssl).toEqual(ssl);
    expect(parsed.url).not.toContain('sslmode');
  });

  it('keeps the other parameters of a Neon URL', () => {
    const parsed = parseDatabaseUrl(
      'postgresql://u:p@ep-x.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require',
    );
    expect(parsed.url).toBe(
      'postgresql://u:p@ep-x.eu-central-1.aws.neon.tech/neondb?channel_binding=require',
    );
  });

  it('makes the driver ask the server for TLS on the wire when sslmode=require', async () => {
    // A server that records the first packet and refuses TLS, as a plain PostgreSQL would.
    const SSL_REQUEST_CODE = 80877103;
    let firstPacketCode: number | undefined;
    const server = createServer((socket) => {
      socket.once('data', (data) => {
        firstPacketCode = data.readInt32BE(4);
        socket.end('N');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const config = loadConfig({
        DATABASE_URL: `postgresql://u@127.0.0.1:${port}/db?sslmode=require`,
      });
      const ds = new DataSource({
        ...dataSourceOptions(config.database),
        entities: [],
        migrations: [],
      });
      await expect(ds.initialize()).rejects.toThrow(/does not support SSL/);
      expect(firstPacketCode).toBe(SSL_REQUEST_CODE);
    } finally {
      server.close();
    }
  });
});
