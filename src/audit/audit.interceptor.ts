import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Observable, from, lastValueFrom } from 'rxjs';
import type { AuditAction } from './audit-actions';
import { AUDITED_ACTION } from './audited.decorator';

/**
 * The request boundary of every mutation: the handler of an `@Audited()` route runs inside one
 * transaction, which commits only when the handler succeeded. Services never commit.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<AuditAction | undefined>(
      AUDITED_ACTION,
      context.getHandler(),
    );
    if (!action) return next.handle();
    return from(
      this.txHost.withTransaction(() => lastValueFrom(next.handle(), { defaultValue: undefined })),
    );
  }
}
