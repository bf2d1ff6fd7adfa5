import type { ErrorCode } from './error-codes';

/**
 * Typed domain errors. Services throw these; `ErrorEnvelopeFilter` is the one place that turns
 * them into HTTP statuses, with an exhaustive switch over the kind so that a new kind cannot be
 * forgotten. Each error also carries its machine `code` (see `error-codes.ts`): the kind decides
 * the HTTP status, the code tells a client which rule refused it.
 */
export enum DomainErrorKind {
  Validation = 'validation',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  PreconditionFailed = 'precondition_failed',
  Unavailable = 'unavailable',
}

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends DomainError {
  constructor(
    readonly details: FieldError[],
    code: ErrorCode = 'validation_failed',
  ) {
    super(DomainErrorKind.Validation, ValidationFailedError.summarise(details), code);
  }

  static field(
    field: string,
    message: string,
    code: ErrorCode = 'validation_failed',
  ): ValidationFailedError {
    return new ValidationFailedError([{ field, message }], code);
  }

  private static summarise(details: FieldError[]): string {
    return `Validation failed: ${details.map((d) => d.message).join('; ')}`;
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message: string, code: ErrorCode = 'unauthenticated') {
    super(DomainErrorKind.Unauthenticated, message, code);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string, code: ErrorCode = 'forbidden') {
    super(DomainErrorKind.Forbidden, message, code);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, code: ErrorCode = 'not_found') {
    super(DomainErrorKind.NotFound, message, code);
  }
}

export class ConflictError extends DomainError {
  constructor(
    message: string,
    code: ErrorCode = 'conflict',
    /** Headers the answer carries (`Retry-After` on `retry_later`). */
    readonly headers?: Record<string, string>,
  ) {
    super(DomainErrorKind.Conflict, message, code);
  }
}

/** A conditional request (`If-Match`) names a version that is no longer current. */
export class PreconditionFailedError extends DomainError {
  constructor(message: string) {
    super(DomainErrorKind.PreconditionFailed, message, 'precondition_failed');
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message: string, code: ErrorCode = 'database_unavailable') {
    super(DomainErrorKind.Unavailable, message, code);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
