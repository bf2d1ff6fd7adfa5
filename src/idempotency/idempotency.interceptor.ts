import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Observable, from, lastValueFrom } from 'rxjs';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on a POST: the first request with a key runs and its answer is stored with
 * the change; a retry with the same key and the same request gets that answer again (with
 * `Idempotent-Replayed: true`) and changes nothing, writing no second audit entry. The same key
 * with a different request is a 422. Keys are per caller and kept 24 hours. Only successful
 * answers are stored: a request that failed changed nothing, so its retry simply runs.
 *
 * It runs inside the transaction `AuditInterceptor` opens (it is registered after it).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || header === undefined || !request.user) return next.handle();
    if (typeof header !== 'string' || !KEY.test(header)) {
      throw ValidationFailedError.field(
        'Idempotency-Key',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      );
    }
    const actor = request.user.id;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([request.method, request.url, request.body ?? null]))
      .digest('hex');

    return from(
      this.txHost.withTransaction(async () => {
        const claim = await this.keys.claim(actor, header, fingerprint);
        if (claim.kind === 'replay') {
          if (claim.fingerprint !== fingerprint) {
            throw ValidationFailedError.field(
              'Idempotency-Key',
              'this Idempotency-Key was already used for a different request',
            );
          }
          this.trail.unchanged();
          reply.status(claim.statusCode).header('Idempotent-Replayed', 'true');
          return claim.response ?? undefined;
        }
        const result: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        await this.keys.complete(actor, header, this.statusOf(context, reply), result);
        return result;
      }),
    );
  }

  /** The status the answer will have: set by the handler, else its @HttpCode, else 201. */
  private statusOf(context: ExecutionContext, reply: FastifyReply): number {
    if (reply.statusCode !== 200) return reply.statusCode;
    return this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? 201;
  }
}
