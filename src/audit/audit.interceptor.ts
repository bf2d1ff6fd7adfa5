import { CallHandler, ExecutionContext, Injectable, NestInterceptor, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ModuleRef, Reflector } from '@nestjs/core';
import { Observable, from, lastValueFrom } from 'rxjs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import {
  IDEMPOTENCY_HEADER,
  fingerprintOf,
  idempotencyKeyOf,
} from '../idempotency/idempotency.service';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { CLIENT_HEADER, clientOf } from './client-header';
import { UnitOfWork } from './unit-of-work';
import { WRITE_PRECONDITION, WritePrecondition } from './write-precondition';

/**
 * The HTTP adapter of `UnitOfWork`: an `@Audited(action)` handler runs as one unit of work by
 * the caller, once per `Idempotency-Key` on a POST, after the route's write precondition
 * (`If-Match`). A replayed answer keeps its first status and says `Idempotent-Replayed: true`.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<unknown>): Observable<unknown> {
    const handler = context.getHandler();
    const action = this.reflector.get<AuditAction | undefined>(AUDITED_ACTION, handler);
    if (!action) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user: AuthUser }>();
    const reply = http.getResponse<FastifyReply>();
    const preconditionType = this.reflector.getAllAndOverride<Type<WritePrecondition> | undefined>(
      WRITE_PRECONDITION,
      [handler, context.getClass()],
    );
    const precondition =
      preconditionType && this.moduleRef.get(preconditionType, { strict: false });
    const key =
      request.method === 'POST' ? idempotencyKeyOf(request.headers[IDEMPOTENCY_HEADER]) : undefined;

    const work = {
      actorId: request.user.id,
      action,
      client: clientOf(request.headers[CLIENT_HEADER]),
      name: `${context.getClass().name}.${handler.name}`,
    };
    const idempotent =
      key === undefined
        ? undefined
        : {
            key,
            fingerprint: fingerprintOf(request.method, request.url, request.body),
            statusCode: () => this.statusOf(handler, reply),
          };
    return from(
      this.unitOfWork
        .runOnce(work, idempotent, async () => {
          await precondition?.check(request);
          return lastValueFrom(next.handle(), { defaultValue: undefined });
        })
        .then((outcome) => {
          if (!outcome.replayed) return outcome.value;
          reply.status(outcome.statusCode).header('Idempotent-Replayed', 'true');
          return outcome.response ?? undefined;
        }),
    );
  }

  /** The status the answer will have: set by the handler, else its @HttpCode, else 201. */
  private statusOf(
    handler: ReturnType<ExecutionContext['getHandler']>,
    reply: FastifyReply,
  ): number {
    if (reply.statusCode !== 200) return reply.statusCode;
    return this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) ?? 201;
  }
}
