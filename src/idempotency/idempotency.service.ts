import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { IDEMPOTENCY_KEY_PATTERN } from '../common/limits';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { withoutSecrets } from './secret-field';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** How long a key protects against retries. */
export const KEY_TTL_HOURS = 24;
const PURGE_EVERY_MS = 10 * 60 * 1000;

/** A request that carries an Idempotency-Key. */
export interface IdempotentRequest {
  actorId: string;
  key: string;
  /** Same key, different request: refused. See `fingerprintOf`. */
  fingerprint: string;
  /** The status the answer will have, read once the work has run. */
  statusCode: () => number;
}

/** The work ran (`value`), or an earlier request's answer is replayed and nothing ran. */
export type Outcome<T> =
  { replayed: false; value: T } | { replayed: true; statusCode: number; response: unknown };

/** A validated key, or undefined when the header is absent; 422 when it is malformed. */
export function idempotencyKeyOf(header: unknown): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header)) {
    throw ValidationFailedError.field(
      'Idempotency-Key',
      'Idempotency-Key must be 1 to 255 printable ASCII characters',
    );
  }
  return header;
}

/** What makes two requests "the same" for a key: method, URL and body. */
export const fingerprintOf = (method: string, url: string, body: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify([method, url, body ?? null]))
    .digest('hex');

/**
 * `Idempotency-Key`: the first request with a key runs and its answer is stored with the change;
 * a retry with the same key and the same request gets that answer again and changes nothing. The
 * same key with a different request is a 422. Keys are per caller and kept 24 hours. Only
 * successful answers are stored: a request that failed changed nothing, so its retry simply runs.
 * A secret in the answer (`@SecretField`) is answered once: it is left out of what is stored, so
 * a replay is the first answer without it.
 *
 * The key is claimed by inserting its row in the transaction of the change it protects: a
 * concurrent retry's INSERT waits on that row until the first request commits (and then replays
 * its answer) or rolls back (and then runs itself). So a change happens once, however many
 * retries race.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Idempotency');
  private purgeTimer?: NodeJS.Timeout;

  constructor(private readonly keys: IdempotencyKeyRepository) {}

  /** Runs `work` once per key; call it inside the transaction of the change. */
  async once<T>(request: IdempotentRequest, work: () => Promise<T>): Promise<Outcome<T>> {
    const { actorId, key, fingerprint } = request;
    if (!(await this.keys.claim(actorId, key, fingerprint, KEY_TTL_HOURS))) {
      const stored = await this.keys.stored(actorId, key);
      if (stored.fingerprint !== fingerprint) {
        throw ValidationFailedError.field(
          'Idempotency-Key',
          'this Idempotency-Key was already used for a different request',
        );
      }
      return { replayed: true, statusCode: stored.statusCode, response: stored.response };
    }
    const value = await work();
    await this.keys.store(actorId, key, request.statusCode(), withoutSecrets(value));
    return { replayed: false, value };
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
    try {
      return await this.keys.purge(KEY_TTL_HOURS);
    } catch (error) {
      this.logger.warn(`purging old keys failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
