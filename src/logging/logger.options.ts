import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What the API learns about a request while serving it, kept on the raw request so that the
 * request log line (written by pino-http when the response finishes) can include it.
 */
export interface RequestLogFields {
  /** The matched route pattern, e.g. `/api/tasks/:id` (set in an onRequest hook). */
  taskflowRoute?: string;
  /** The caller's `sub`, once the token is verified (set by the JWT guard). */
  taskflowActor?: string;
}

/**
 * Fastify's `genReqId`: keeps a caller's `X-Request-Id` when it is sane, else mints one. The same
 * id names the request in every log line and comes back in the `X-Request-Id` response header.
 */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * One JSON line per request: id, method, path, route, status, duration and actor. Headers and
 * bodies are never logged, so tokens, passwords and cookies cannot leak into the logs; the
 * redact paths below are a second line of defence for anything that logs a request object.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      // Fastify has already named the request (see `requestId`); pino-http reuses `req.id`.
      quietReqLogger: true,
      customAttributeKeys: { responseTime: 'duration_ms' },
      serializers: {
        req: (req: IncomingMessage & { id?: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url?.split('?')[0],
        }),
        res: (res: ServerResponse) => ({ status: res.statusCode }),
      },
      customProps: (req: IncomingMessage & RequestLogFields) => ({
        route: req.taskflowRoute,
        actor_id: req.taskflowActor,
      }),
      customSuccessMessage: (req, res) =>
        `${req.method} ${req.url?.split('?')[0]} ${res.statusCode}`,
      customErrorMessage: (req, res) => `${req.method} ${req.url?.split('?')[0]} ${res.statusCode}`,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
  };
}
