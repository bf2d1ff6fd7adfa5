import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Observable, from, lastValueFrom } from 'rxjs';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { AuditTrail } from './audit-trail';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { AuditService } from './audit.service';
import { WRITE_PRECONDITION, WritePrecondition } from './write-precondition';

/**
 * The request boundary of every mutation. The handler of an `@Audited(action)` route runs inside
 * one transaction; when it succeeds, the entry it described (through `AuditTrail`) is appended in
 * that same transaction, and only then does it commit. Any failure, in the handler or in the
 * audit insert itself, rolls back both: there is never a change without its entry, or the reverse.
 * Services never commit.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<AuditAction | undefined>(
      AUDITED_ACTION,
      context.getHandler(),
    );
    if (!action) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & { user: AuthUser }>();
    const actor = request.user;
    const precondition = this.reflector.getAllAndOverride<WritePrecondition | undefined>(
      WRITE_PRECONDITION,
      [context.getHandler(), context.getClass()],
    );

    return from(
      this.txHost.withTransaction(async () => {
        this.trail.begin();
        const result = await this.idempotency.once(context, async () => {
          await precondition?.(this.txHost.tx, request);
          return lastValueFrom(next.handle(), { defaultValue: undefined });
        });
        const { entries, unchanged } = this.trail.take() ?? { entries: [], unchanged: false };
        if (entries.length === 0 && !unchanged) {
          throw new Error(
            `${context.getClass().name}.${context.getHandler().name} is @Audited('${action}') but recorded nothing`,
          );
        }
        for (const entry of entries)
          await this.audit.append(entry.action ?? action, actor.id, entry);
        return result;
      }),
    );
  }
}
