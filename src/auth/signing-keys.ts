import { Inject, Injectable, Logger } from '@nestjs/common';
import { KeyObject, createPublicKey } from 'node:crypto';
import { JwksClient, Options as JwksOptions, SigningKeyNotFoundError } from 'jwks-rsa';
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
 * How both verification paths read the identity server's keys with jwks-rsa: from JWKS_URL
 * (never from the token: `jku`, `x5u` and embedded `jwk` headers are ignored), cached per `kid`,
 * refetched at most JWKS_REFETCHES_PER_MINUTE times a minute (an unknown `kid` costs at most one,
 * which is how rotation is picked up), a cached key kept while the JWKS endpoint is unreachable.
 * The jose path (`SigningKeys`) and the passport-jwt path (`passportJwtSecret`) each hold a
 * client built from these options, so each has its own cache and its own refetch budget.
 */
export function jwksClientOptions(config: AppConfig, logger: Logger): JwksOptions {
  return {
    jwksUri: config.auth.jwksUrl,
    cache: true,
    cacheMaxEntries: 20,
    cacheMaxAge: KEY_CACHE_MS,
    cacheMaxAgeFallback: STALE_KEY_GRACE_MS,
    onStaleCacheFallback: (error, kid) =>
      logger.warn(`JWKS unreachable (${error.message}); using the cached key ${kid ?? ''}`),
    rateLimit: true,
    jwksRequestsPerMinute: JWKS_REFETCHES_PER_MINUTE,
    timeout: 5000,
  };
}

/** The 401 for a key jwks-rsa could not give: unknown `kid`, refetch budget spent, JWKS down. */
export function unknownKeyError(error: unknown, logger: Logger): UnauthenticatedError {
  if (
    error instanceof SigningKeyNotFoundError ||
    (error as Error | null)?.name === 'JwksRateLimitError'
  ) {
    return new UnauthenticatedError('Token signed with an unknown key');
  }
  logger.warn(`Cannot read the JWKS: ${(error as Error | null)?.message ?? String(error)}`);
  return new UnauthenticatedError('Token signed with an unknown key (signing keys unavailable)');
}

/** The public keys of the identity server for the jose (EdDSA) path; see `jwksClientOptions`. */
@Injectable()
export class SigningKeys {
  private readonly logger = new Logger('SigningKeys');
  private readonly client: JwksClient;
  /** jwks-rsa hands out PEM; parsing it once per key keeps verification cheap. */
  private readonly parsed = new Map<string, KeyObject>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = new JwksClient(jwksClientOptions(config, this.logger));
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
      throw unknownKeyError(error, this.logger);
    }
  }
}
