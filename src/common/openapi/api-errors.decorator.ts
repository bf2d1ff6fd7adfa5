import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from '../errors/error-codes';

export class FieldErrorDto {
  @ApiProperty({ example: 'title' })
  field: string;

  @ApiProperty({ example: 'title must be a string of 1 to 200 characters, not blank, without NUL' })
  message: string;
}

/** The contract's error envelope, the body of every non-2xx response. */
export class ErrorResponse {
  @ApiProperty({ example: 'Task 42 not found' })
  error: string;

  @ApiProperty({ type: 'integer', example: 404, description: 'The HTTP status, repeated.' })
  status_code: number;

  @ApiProperty({
    enum: ERROR_CODES,
    enumName: 'ErrorCode',
    example: 'task_not_found',
    description: 'A stable machine name for the rule that refused the request; switch on this.',
  })
  code: ErrorCode;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on 422 only.' })
  details?: FieldErrorDto[];
}

const DESCRIPTIONS: Record<number, { description: string; example: string; code: ErrorCode }> = {
  400: {
    description: 'Malformed JSON',
    example: 'Malformed JSON body',
    code: 'malformed_json',
  },
  401: {
    description: 'Missing, invalid or expired token (with `WWW-Authenticate: Bearer`)',
    example: 'Token expired',
    code: 'unauthenticated',
  },
  403: {
    description: 'Authenticated but not allowed',
    example: 'Only admins may do this',
    code: 'forbidden',
  },
  404: { description: 'No such resource', example: 'Task 42 not found', code: 'task_not_found' },
  409: {
    description: 'State conflict',
    example: "Task is 'completed' and cannot move to 'review'",
    code: 'invalid_transition',
  },
  413: {
    description: 'Body over 1 MB',
    example: 'Request body is larger than the 1 MB limit',
    code: 'payload_too_large',
  },
  415: {
    description:
      'A body that is not `application/json`, or a `Content-Encoding` other than identity',
    example: 'Content-Type must be application/json',
    code: 'unsupported_media_type',
  },
  422: {
    description: 'Validation failed (body, query or path)',
    example: 'Validation failed: title must be a string of 1 to 200 characters',
    code: 'validation_failed',
  },
  429: {
    description: 'Rate limit exceeded (see `Retry-After`)',
    example: 'Too many requests',
    code: 'rate_limited',
  },
  503: {
    description: 'Database unreachable',
    example: 'Database unavailable, try again shortly',
    code: 'database_unavailable',
  },
};

/** Documents the listed error statuses with the envelope schema and an example each. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status].description,
        type: ErrorResponse,
        example: {
          error: DESCRIPTIONS[status].example,
          status_code: status,
          code: DESCRIPTIONS[status].code,
          ...(status === 422
            ? {
                details: [
                  { field: 'title', message: 'title must be a string of 1 to 200 characters' },
                ],
              }
            : {}),
        },
      }),
    ),
  );
}

/**
 * The errors of any route whose method can carry a body (POST, PATCH, DELETE), whether or not it
 * takes one: Fastify parses whatever body is sent before the route runs, so malformed JSON is a
 * 400, a body over 1 MB a 413 and one in another content type a 415 even on
 * `DELETE /api/tasks/{id}` or `…/start`.
 */
export const ApiBodyErrors = () => ApiErrors(400, 413, 415);

/** The errors any authenticated route can answer, whatever it does. */
export const ApiAuthenticatedErrors = () => ApiErrors(401, 429, 503);
