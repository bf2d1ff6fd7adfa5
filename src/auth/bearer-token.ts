import { UnauthenticatedError } from '../common/errors/domain-errors';

/** No whitespace in the token: passport-jwt's extractor must read the same token as this. */
const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/** The token of `Authorization: Bearer <token>`, or a 401 saying what is wrong with the header. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthenticatedError('Missing bearer token');
  const match = BEARER.exec(header);
  if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  return match[1];
}

/** The bearer token if the header carries one, without judging it (the rate limiter's view). */
export function bearerTokenOrUndefined(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}
