import { SetMetadata, Type } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * A condition on the current state that a write must meet, checked by `AuditInterceptor` inside
 * the write's own transaction, right before the handler (and after an `Idempotency-Key` replay,
 * which answers as the first request did). It throws to refuse the request; nothing is written.
 * A provider, so that it reads the state through its feature's repository.
 */
export interface WritePrecondition {
  check(request: FastifyRequest): Promise<void>;
}

export const WRITE_PRECONDITION = 'taskflow:write-precondition';

/** Attaches a `WritePrecondition` to the `@Audited` handlers of a controller or to one handler. */
export const CheckBeforeWrite = (check: Type<WritePrecondition>) =>
  SetMetadata(WRITE_PRECONDITION, check);
