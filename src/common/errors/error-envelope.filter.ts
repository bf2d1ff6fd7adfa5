import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  PG,
  isDatabaseUnavailable,
  isPoolExhausted,
  sqlState,
  violatedConstraint,
} from './database-errors';
import {
  ConflictError,
  DomainError,
  DomainErrorKind,
  FieldError,
  assertUnreachable,
} from './domain-errors';
import type { ErrorCode } from './error-codes';

const RETRY_UNAVAILABLE_AFTER_SECONDS = 5;

/** The contract's error body: `{ error, status_code, code }`, plus `details` on a 422. */
export interface ErrorEnvelope {
  error: string;
  status_code: number;
  code: ErrorCode;
  details?: FieldError[];
}

interface Resolved {
  status: number;
  body: ErrorEnvelope;
  headers?: Record<string, string>;
}

function statusOf(kind: DomainErrorKind): number {
  switch (kind) {
    case DomainErrorKind.Validation:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case DomainErrorKind.Unauthenticated:
      return HttpStatus.UNAUTHORIZED;
    case DomainErrorKind.Forbidden:
      return HttpStatus.FORBIDDEN;
    case DomainErrorKind.NotFound:
      return HttpStatus.NOT_FOUND;
    case DomainErrorKind.Conflict:
      return HttpStatus.CONFLICT;
    case DomainErrorKind.PreconditionFailed:
      return HttpStatus.PRECONDITION_FAILED;
    case DomainErrorKind.Unavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    default:
      return assertUnreachable(kind);
  }
}

/**
 * The body of an error answered after a commit: a request whose work is recorded yet refused
 * (a `start` whose expired lease was the task's last attempt records the failure, then 409).
 */
export const errorEnvelope = (status: number, error: string, code: ErrorCode): ErrorEnvelope => ({
  error,
  status_code: status,
  code,
});

const envelope = (
  status: number,
  error: string,
  code: ErrorCode,
  details?: FieldError[],
): Resolved => ({
  status,
  body: details
    ? { error, status_code: status, code, details }
    : { error, status_code: status, code },
});

/**
 * Every non-2xx answer goes through here, whatever raised it: a domain error, Nest's own
 * exceptions (unknown route, throttling), Fastify's body parser (malformed JSON, size limit) or
 * the database. Anything unrecognised is a 500 whose body says nothing about the internals; the
 * details go to the log under the request id.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorEnvelope');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const resolved = this.resolve(exception, request);

    const status = resolved.status as HttpStatus;
    if (status === HttpStatus.SERVICE_UNAVAILABLE) {
      this.logger.warn(
        { err: describe(exception), req_id: requestIdOf(request) },
        'Database unavailable',
      );
    } else if (resolved.status >= 500) {
      this.logger.error(
        { err: exception, req_id: requestIdOf(request), route: request?.url },
        'Unhandled error',
      );
    }

    const adapter = this.adapterHost.httpAdapter;
    if (status === HttpStatus.SERVICE_UNAVAILABLE) {
      // An outage is usually a restart or a failover: worth retrying soon, not in a tight loop.
      adapter.setHeader(reply, 'Retry-After', String(RETRY_UNAVAILABLE_AFTER_SECONDS));
    }
    if (status === HttpStatus.UNAUTHORIZED) {
      adapter.setHeader(reply, 'WWW-Authenticate', wwwAuthenticate(resolved.body.error));
    }
    for (const [name, value] of Object.entries(resolved.headers ?? {})) {
      adapter.setHeader(reply, name, value);
    }
    adapter.reply(reply, resolved.body, resolved.status);
  }

  private resolve(exception: unknown, request: FastifyRequest | undefined): Resolved {
    if (exception instanceof DomainError) {
      const details = 'details' in exception ? (exception.details as FieldError[]) : undefined;
      const resolved = envelope(
        statusOf(exception.kind),
        exception.message,
        exception.code,
        details,
      );
      return exception instanceof ConflictError && exception.headers
        ? { ...resolved, headers: exception.headers }
        : resolved;
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, request);
    }
    const state = sqlState(exception);
    if (isDatabaseUnavailable(exception)) {
      // Said apart, so a client (and the log) can tell an overloaded API from an outage.
      const why = isPoolExhausted(exception)
        ? 'Database busy: every connection is in use, try again shortly'
        : 'Database unavailable, try again shortly';
      return envelope(HttpStatus.SERVICE_UNAVAILABLE, why, 'database_unavailable');
    }
    switch (state as (typeof PG)[keyof typeof PG] | undefined) {
      case PG.uniqueViolation:
        return envelope(HttpStatus.CONFLICT, 'A record with this key already exists', 'conflict');
      case PG.foreignKeyViolation:
        return envelope(
          HttpStatus.CONFLICT,
          `The change conflicts with related records (${violatedConstraint(exception) ?? 'foreign key'})`,
          'conflict',
        );
      case PG.versionMismatch:
        return envelope(
          HttpStatus.PRECONDITION_FAILED,
          'The task changed since the version in If-Match; read it again',
          'precondition_failed',
        );
      case PG.serializationFailure:
      case PG.deadlockDetected:
      case PG.lockNotAvailable:
        return envelope(
          HttpStatus.CONFLICT,
          'Conflicting concurrent change, retry the request',
          'concurrent_change',
        );
      case PG.checkViolation:
      case PG.notNullViolation:
      case PG.stringTooLong:
      case PG.numericOutOfRange:
      case PG.invalidDatetime:
      case PG.datetimeOutOfRange:
      case PG.invalidTextRepresentation:
      case PG.untranslatableCharacter:
      case PG.characterNotInRepertoire:
        return envelope(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'Validation failed: a value is out of range',
          'validation_failed',
          [{ field: violatedConstraint(exception) ?? 'body', message: 'value is out of range' }],
        );
      default:
        return envelope(
          HttpStatus.INTERNAL_SERVER_ERROR,
          'Internal server error',
          'internal_error',
        );
    }
  }

  private fromHttpException(exception: HttpException, request?: FastifyRequest): Resolved {
    const status = exception.getStatus() as HttpStatus;
    switch (status) {
      case HttpStatus.NOT_FOUND:
        // Nest's router answers an unknown route with "Cannot GET /x".
        return envelope(
          status,
          `No route ${request?.method ?? ''} ${pathOf(request)}`.trim(),
          'route_not_found',
        );
      case HttpStatus.PAYLOAD_TOO_LARGE:
        return envelope(status, 'Request body is larger than the 1 MB limit', 'payload_too_large');
      case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
        return envelope(status, 'Content-Type must be application/json', 'unsupported_media_type');
      case HttpStatus.BAD_REQUEST:
        // Fastify's JSON parser: malformed JSON, an empty JSON body, a poisoned __proto__ key.
        return envelope(status, `Malformed JSON body: ${exception.message}`, 'malformed_json');
      case HttpStatus.TOO_MANY_REQUESTS:
        return envelope(status, 'Too many requests, slow down', 'rate_limited');
      case HttpStatus.METHOD_NOT_ALLOWED:
        return envelope(
          status,
          `Method ${request?.method ?? ''} not allowed here`,
          'method_not_allowed',
        );
      default:
        if (exception.getStatus() >= 500) {
          return envelope(status, 'Internal server error', 'internal_error');
        }
        return envelope(
          status,
          exception.message,
          status === HttpStatus.FORBIDDEN ? 'forbidden' : 'bad_request',
        );
    }
  }
}

/**
 * Fastify refuses two kinds of path before Nest (and so the filter above) ever sees the request:
 * escapes that are not UTF-8 (`/api/tasks/%zz`) and a parameter longer than the router's
 * `maxParamLength`. Both are a path parameter that fails validation, hence the contract's 422.
 * Anything else the router could raise here (async constraints, which no route uses) is a 500.
 */
export function frameworkErrorEnvelope(error: { code?: string }): ErrorEnvelope {
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the path is not valid percent-encoded UTF-8'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a path parameter is too long'
        : undefined;
  if (!message) return { error: 'Internal server error', status_code: 500, code: 'internal_error' };
  return {
    error: `Validation failed: ${message}`,
    status_code: HttpStatus.UNPROCESSABLE_ENTITY,
    code: 'validation_failed',
    details: [{ field: 'path', message }],
  };
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over the size limit, a
 * malformed request line, a client too slow to send its headers): Fastify's default answer is
 * JSON but not the envelope. Written straight to the socket, which is then closed, as Node does.
 */
export function writeClientErrorEnvelope(
  error: { code?: string },
  socket: { destroyed: boolean; writable: boolean; write(data: string): unknown; destroy(): void },
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message, code]: [number, string, string, ErrorCode] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          'the request headers are too large',
          'headers_too_large',
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request took too long to arrive', 'request_timeout']
        : [400, 'Bad Request', 'the request is not valid HTTP', 'bad_request'];
  const body = JSON.stringify({
    error: message,
    status_code: status,
    code,
  } satisfies ErrorEnvelope);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function pathOf(request?: FastifyRequest): string {
  const url = request?.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function requestIdOf(request?: FastifyRequest): string | undefined {
  const raw = request?.raw as { id?: unknown } | undefined;
  return typeof raw?.id === 'string' ? raw.id : request?.id;
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
}

function wwwAuthenticate(message: string): string {
  const quoted = message.replace(/["\\]/g, '');
  return `Bearer error="invalid_token", error_description="${quoted}"`;
}
