import { Inject, Injectable, Logger } from '@nestjs/common';
import { KeyObject, createPublicKey } from 'node:crypto';
import { JwksClient, SigningKeyNotFoundError } from 'jwks-rsa';
import { UnauthenticatedError } from '../common/errors/domain-errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/** Keys are re-read from the JWKS this often, so a retired key stops being trusted. */
const KEY_CACHE_MS = 10 * 60 * 1000;
/** While the auth server is down, keys already seen stay trusted this much longer. */
const STALE_KEY_GRACE_MS = 24 * 60 * 60 * 1000;
/** Unknown `kid`s refetch the JWKS; this caps how often an attacker can make that happen. */
const JWKS_REFETCHES_PER_MINUTE = 10;

/**
 * The public keys of the identity server, fetched from JWKS_URL by jwks-rsa (never from the
 * token: `jku`, `x5u` and embedded `jwk` headers are ignored). jwks-rsa caches them per `kid`,
 * rate-limits refetches (an unknown `kid` costs at most one, which is how rotation is picked
 * up), and keeps serving a cached key while the JWKS endpoint is unreachable.
 */
@Injectable()
export class SigningKeys {
  private readonly logger = new Logger('SigningKeys');
  private readonly client: JwksClient;
  /** jwks-rsa hands out PEM; parsing it once per key keeps verification cheap. */
  private readonly parsed = new Map<string, KeyObject>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = new JwksClient({
      jwksUri: config.auth.jwksUrl,
      cache: true,
      cacheMaxEntries: 20,
      cacheMaxAge: KEY_CACHE_MS,
      cacheMaxAgeFallback: STALE_KEY_GRACE_MS,
      onStaleCacheFallback: (error, kid) =>
        this.logger.warn(`JWKS unreachable (${error.message}); using the cached key ${kid ?? ''}`),
      rateLimit: true,
      jwksRequestsPerMinute: JWKS_REFETCHES_PER_MINUTE,
      timeout: 5000,
    });
  }

  /** The key for `kid`, with the algorithm the JWKS declares for it (if any). */
  async get(kid: string | undefined): Promise<{ key: KeyObject; alg?: string }> {
    try {
      const signingKey = await this.client.getSigningKey(kid);
      const pem = signingKey.getPublicKey();
      let key = this.parsed.get(pem);
      if (!key) {
        key = createPublicKey(pem);
        this.parsed.set(pem, key);
      }
      return { key, alg: signingKey.alg };
    } catch (error) {
      if (
        error instanceof SigningKeyNotFoundError ||
        (error as Error).name === 'JwksRateLimitError'
      ) {
        throw new UnauthenticatedError('Token signed with an unknown key');
      }
      this.logger.warn(`Cannot read the JWKS: ${(error as Error).message}`);
      throw new UnauthenticatedError('Token signed with an unknown key (signing keys unavailable)');
    }
  }
}
