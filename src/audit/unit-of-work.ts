import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { IdempotencyService, IdempotentRequest, Outcome } from '../idempotency/idempotency.service';
import type { AuditAction } from './audit-actions';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditTrail } from './audit-trail';

/** Who makes a change, and the audit action it is recorded as unless a service says otherwise. */
export interface Work {
  actorId: string;
  action: AuditAction;
  /** Names the work in the error raised when it records nothing (e.g. the handler). */
  name?: string;
  /** The client program acting for the actor (e.g. `taskflow-cli/1.0.0`), recorded with each entry. */
  client?: string | null;
  /** The API key the actor acts with (`AuthUser.keyId`), recorded with each entry. */
  keyId?: string | null;
  /** `system`: the API's own work (the sweeper), recorded as such whatever the registry says. */
  actorType?: 'system';
}

/**
 * Every change to the board runs as one unit of work: one transaction that applies the
 * idempotency rule, runs the services (which say what they changed through `AuditTrail`), and
 * appends those audit entries before it commits. Any failure, in the work or in the audit
 * insert itself, rolls back both: there is never a change without its entry, or the reverse.
 *
 * The transaction is TypeORM's (an EntityManager on a QueryRunner), carried to the repositories
 * by `@nestjs-cls/transactional`. A unit of work run inside another one is a savepoint
 * (`Propagation.Nested`): if it fails and the outer code catches the failure, its changes and
 * its audit entries are undone and the outer transaction carries on; otherwise its entries are
 * committed with the outer ones.
 *
 * HTTP reaches it through `AuditInterceptor` (bound by `@Audited`); anything else (the webhook
 * worker, a script, a service-level test) calls `run` directly and gets the same guarantees.
 */
@Injectable()
export class UnitOfWork {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
    private readonly entries: AuditEntryRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  /** Runs `work` as `actor`, recording what it changed; returns what `work` returned. */
  async run<T>(work: Work, fn: () => Promise<T>): Promise<T> {
    const outcome = await this.runOnce(work, undefined, fn);
    if (outcome.replayed) throw new Error('unreachable: no idempotency key was given');
    return outcome.value;
  }

  /**
   * `run`, once per Idempotency-Key when `key` is given: a retry gets the first answer back,
   * with nothing run and nothing recorded.
   */
  runOnce<T>(
    work: Work,
    key: Omit<IdempotentRequest, 'actorId'> | undefined,
    fn: () => Promise<T>,
  ): Promise<Outcome<T>> {
    return this.txHost.withTransaction(Propagation.Nested, () =>
      this.trail.collect(async (pending) => {
        const outcome: Outcome<T> = key
          ? await this.idempotency.once({ ...key, actorId: work.actorId }, fn)
          : { replayed: false, value: await fn() };
        if (outcome.replayed) return outcome;
        if (pending.entries.length === 0 && !pending.unchanged && !pending.nestedRecorded) {
          throw new Error(
            `${work.name ?? 'a unit of work'} runs as '${work.action}' but recorded nothing`,
          );
        }
        for (const entry of pending.entries) {
          await this.entries.append({
            ...entry,
            action: entry.action ?? work.action,
            actorId: work.actorId,
            client: work.client ?? null,
            keyId: work.keyId ?? null,
            actorType: work.actorType ?? null,
          });
        }
        return outcome;
      }),
    );
  }
}
