import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { DestinationStream, Logger } from 'pino';
import type { AppConfig } from '../config/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's `genReqId`: keeps a caller's `X-Request-Id` when it is sane, else mints one. The same
 * id names the request in every log line and comes back in the `X-Request-Id` response header.
 */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The root logger: JSON lines on stdout, at LOG_LEVEL. Nest's own logs go through it too.
 * Writes are buffered (up to 4 KB, flushed at least every 100 ms and on exit) rather than one
 * write per line: under load that is one system call for dozens of requests.
 */
export function createRootLogger(config: AppConfig): Logger {
  const pretty = prettyLogStream(config.nodeEnv, process.stdout.isTTY === true);
  if (pretty) return pino({ level: config.logLevel }, pretty);
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const flush = setInterval(() => destination.flush(), 100);
  flush.unref();
  // Whatever is still buffered when the process ends (exit 0 after draining, or a crash).
  process.once('exit', () => {
    clearInterval(flush);
    try {
      destination.flushSync();
    } catch {
      // The stream may already be closed; nothing left to save then.
    }
  });
  return pino({ level: config.logLevel }, destination);
}

/**
 * Outside production, at a terminal, the lines are pretty-printed (pino-pretty) for the person
 * reading them; anywhere else (production, a pipe, a log collector) they stay one JSON line per
 * request. pino-pretty is a dev dependency: a production install (`npm ci --omit=dev`, the
 * container image) does not have it, and then the lines stay JSON whatever NODE_ENV says.
 */
export function prettyLogStream(
  nodeEnv: AppConfig['nodeEnv'],
  isTerminal: boolean,
  destination: NodeJS.WritableStream | number = 1,
): DestinationStream | undefined {
  if (nodeEnv === 'production' || !isTerminal) return undefined;
  let pretty: typeof import('pino-pretty');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: absent in production installs
    pretty = require('pino-pretty') as typeof import('pino-pretty');
  } catch {
    return undefined;
  }
  return pretty({
    destination,
    colorize: true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * nestjs-pino, for Nest's own logs (start-up, errors) on the root logger. Its per-request
 * middleware (pino-http and a request-scoped AsyncLocalStorage) is not mounted: requests are
 * logged by `logRequest`, one line each.
 */
export function loggerOptions(logger: Logger): Params {
  return { pinoHttp: { logger }, forRoutes: [] };
}

/** What the API learns about a request while serving it, for its log line. */
export interface RequestLogFields {
  /** The caller's `sub`, once the token is verified (set by the JWT guard). */
  taskflowActor?: string;
}

/**
 * One line per request, written when the response has gone: id (as in `X-Request-Id`), method,
 * path, route pattern, status, duration and actor. Headers and bodies are never logged, so
 * tokens, passwords and cookies cannot leak. Written from a Fastify hook on the root logger,
 * rather than through a per-request child logger (pino-http), which cost more than the request.
 */
export function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply): void {
  const status = reply.statusCode;
  const level = status >= 500 ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const path = pathOf(request.url);
  logger[level](
    {
      req: { id: request.id, method: request.method, path },
      route: request.routeOptions.url,
      actor_id: (request.raw as RequestLogFields).taskflowActor,
      res: { status },
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    },
    `${request.method} ${path} ${status}`,
  );
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
