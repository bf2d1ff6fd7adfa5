import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  type Type,
} from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Observable, from, lastValueFrom, map } from 'rxjs';
import type { AuthUser } from '../auth/auth-user';
import {
  IDEMPOTENCY_HEADER,
  fingerprintOf,
  idempotencyKeyOf,
} from '../idempotency/idempotency.service';
import { AUDITED_ACTION, type AuditAction } from './audit-actions';
import { CLIENT_HEADER, clientOf } from './client-header';
import { UnitOfWork } from './unit-of-work';
import { WRITE_PRECONDITION, type WritePrecondition } from './write-precondition';

/**
 * Records the audit entries of an `@Audited(action)` handler: the handler runs as one unit of
 * work by the caller (one transaction: the `Idempotency-Key` rule on a POST, the route's write
 * precondition such as `If-Match`, the change, and the audit entries the services recorded).
 * A replayed answer keeps its first status and says `Idempotent-Replayed: true`.
 *
 * Nest sets the route's status (`@HttpCode`, else 201 for a POST) before interceptors run, so
 * `reply.statusCode` after the handler is the status the answer will have.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<unknown>): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user: AuthUser }>();
    const reply = http.getResponse<FastifyReply>();
    const handler = context.getHandler();
    const controller = context.getClass();
    const preconditionType = this.reflector.getAllAndOverride<Type<WritePrecondition> | undefined>(
      WRITE_PRECONDITION,
      [handler, controller],
    );
    const precondition =
      preconditionType && this.moduleRef.get(preconditionType, { strict: false });
    const key =
      request.method === 'POST' ? idempotencyKeyOf(request.headers[IDEMPOTENCY_HEADER]) : undefined;
    const work = {
      actorId: request.user.id,
      action: this.reflector.get<AuditAction>(AUDITED_ACTION, handler),
      client: clientOf(request.headers[CLIENT_HEADER]),
      keyId: request.user.keyId ?? null,
      name: `${controller.name}.${handler.name}`,
    };
    const idempotent =
      key === undefined
        ? undefined
        : {
            key,
            fingerprint: fingerprintOf(request.method, request.url, request.body),
            statusCode: () => reply.statusCode,
          };
    const outcome = this.unitOfWork.runOnce(work, idempotent, async () => {
      await precondition?.check(request);
      return lastValueFrom(next.handle(), { defaultValue: undefined });
    });
    return from(outcome).pipe(
      map((done) => {
        if (!done.replayed) return done.value;
        void reply.status(done.statusCode).header('Idempotent-Replayed', 'true');
        return done.response ?? undefined;
      }),
    );
  }
}
