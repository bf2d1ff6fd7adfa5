/**
 * Typed domain errors. Services throw these; `ErrorEnvelopeFilter` is the one place that turns
 * them into HTTP statuses, with an exhaustive switch so that a new code cannot be forgotten.
 */
export enum DomainErrorCode {
  Validation = 'validation',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  Unavailable = 'unavailable',
}

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends DomainError {
  constructor(readonly details: FieldError[]) {
    super(DomainErrorCode.Validation, ValidationFailedError.summarise(details));
  }

  static field(field: string, message: string): ValidationFailedError {
    return new ValidationFailedError([{ field, message }]);
  }

  private static summarise(details: FieldError[]): string {
    return `Validation failed: ${details.map((d) => d.message).join('; ')}`;
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message: string) {
    super(DomainErrorCode.Unauthenticated, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(DomainErrorCode.Forbidden, message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super(DomainErrorCode.NotFound, message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(DomainErrorCode.Conflict, message);
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message: string) {
    super(DomainErrorCode.Unavailable, message);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
