import {
  ExecutionContext,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { queryRows } from '../database/query-rows';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY = /^[\x21-\x7e]{1,255}$/;

/** How long a key protects against retries. */
export const KEY_TTL_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export type Claim =
  { kind: 'new' } | { kind: 'replay'; fingerprint: string; statusCode: number; response: unknown };

/**
 * `Idempotency-Key` on a POST: the first request with a key runs and its answer is stored with
 * the change; a retry with the same key and the same request gets that answer again (with
 * `Idempotent-Replayed: true`) and changes nothing, writing no second audit entry. The same key
 * with a different request is a 422. Keys are per caller and kept 24 hours. Only successful
 * answers are stored: a request that failed changed nothing, so its retry simply runs.
 *
 * A key is claimed by inserting its row in the transaction of the change it protects (the one
 * `AuditInterceptor` opens): a concurrent retry's INSERT waits on that row until the first
 * request commits (and then replays its answer) or rolls back (and then runs itself). So a
 * change happens once, however many retries race.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Idempotency');
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly dataSource: DataSource,
    private readonly trail: AuditTrail,
    private readonly reflector: Reflector,
  ) {}

  /**
   * Runs `handle` for the request in `context`, once per Idempotency-Key: a retry gets the stored
   * answer instead. Without the header (or on anything but a POST) it simply runs `handle`.
   * Call it inside the mutation's transaction.
   */
  async once(context: ExecutionContext, handle: () => Promise<unknown>): Promise<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || header === undefined || !request.user) return handle();
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

    const claim = await this.claim(actor, header, fingerprint);
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
    const result = await handle();
    await this.complete(actor, header, this.statusOf(context, reply), result);
    return result;
  }

  /** The status the answer will have: set by the handler, else its @HttpCode, else 201. */
  private statusOf(context: ExecutionContext, reply: FastifyReply): number {
    if (reply.statusCode !== 200) return reply.statusCode;
    return this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ?? 201;
  }

  /** In the current transaction: a fresh claim, or the stored answer of an earlier request. */
  async claim(actorId: string, key: string, fingerprint: string): Promise<Claim> {
    // An expired row is taken over as if new; a live one is left alone and read below.
    const claimed = await queryRows(
      this.txHost.tx,
      `INSERT INTO idempotency_keys (actor_id, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (actor_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - make_interval(hours => ${KEY_TTL_HOURS})
       RETURNING 1`,
      [actorId, key, fingerprint],
    );
    if (claimed.length > 0) return { kind: 'new' };
    const [row] = await queryRows<{ fingerprint: string; status_code: number; response: unknown }>(
      this.txHost.tx,
      `SELECT fingerprint, status_code, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [actorId, key],
    );
    return {
      kind: 'replay',
      fingerprint: row.fingerprint,
      statusCode: row.status_code,
      response: row.response,
    };
  }

  /** Stores the answer, in the same transaction as the change. */
  async complete(
    actorId: string,
    key: string,
    statusCode: number,
    response: unknown,
  ): Promise<void> {
    await this.txHost.tx.query(
      `UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE actor_id = $1 AND key = $2`,
      [actorId, key, statusCode, response === undefined ? null : JSON.stringify(response)],
    );
  }

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** Keys past their 24 hours are dead weight; expired ones are also taken over on reuse. */
  async purge(): Promise<number> {
    if (!this.dataSource.isInitialized) return 0;
    try {
      const purged = await queryRows(
        this.dataSource.manager,
        `DELETE FROM idempotency_keys
         WHERE created_at < now() - make_interval(hours => ${KEY_TTL_HOURS}) RETURNING key`,
      );
      return purged.length;
    } catch (error) {
      this.logger.warn(`purging old keys failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
