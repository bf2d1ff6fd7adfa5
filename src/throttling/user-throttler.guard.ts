import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerTokenOrUndefined } from '../auth/bearer-token';
import { TokenVerifier } from '../auth/token-verifier';

/**
 * Rate limiting, in front of authentication (the first global guard), so that requests with no
 * token or a bad one are limited before they cost a signature check. One throttler, two keys:
 * a token already verified (in the verifier's cache, a lookup) counts for its user, or for its
 * key when it is an API key (each key of a worker has its own budget); anything
 * else counts for the client IP, including the first request of a new valid token. The counters
 * are in the throttler's storage: Redis shared by every replica with REDIS_URL
 * (`RedisThrottlerStorage`), else each replica's memory.
 */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {
    super(options, storage, reflector);
  }

  protected override getTracker(request: {
    headers: IncomingHttpHeaders;
    ip?: string;
  }): Promise<string> {
    const token = bearerTokenOrUndefined(request.headers.authorization);
    const user = token === undefined ? undefined : this.verifier.cached(token);
    if (!user) return Promise.resolve(`ip:${request.ip ?? 'unknown'}`);
    return Promise.resolve(user.keyId ? `key:${user.keyId}` : `user:${user.id}`);
  }
}
