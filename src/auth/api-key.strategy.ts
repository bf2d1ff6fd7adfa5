import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingHttpHeaders } from 'node:http';
import { Strategy as CustomStrategy } from 'passport-custom';
import { ApiKeyVerifier, isApiKey } from './api-key-verifier';
import { bearerToken } from './bearer-token';
import type { VerifiedToken } from './token-verifier';

/** This strategy's name for Passport, and `AuthGuard`'s. */
export const API_KEY_STRATEGY = 'api-key';

/**
 * `Authorization: Bearer tf_…`: a worker's API key, checked against `api_keys`. Any other token
 * (a JWT) is passed on to the next strategy without a reason of its own.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(CustomStrategy, API_KEY_STRATEGY) {
  constructor(private readonly verifier: ApiKeyVerifier) {
    super();
  }

  async validate(request: { headers: IncomingHttpHeaders }): Promise<VerifiedToken | null> {
    const token = bearerToken(request.headers.authorization);
    return isApiKey(token) ? this.verifier.verify(token) : null;
  }
}
