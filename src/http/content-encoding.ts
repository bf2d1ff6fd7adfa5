import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ErrorEnvelope } from '../common/errors/error-envelope.filter';

/**
 * Bodies are taken as sent: the API decompresses nothing. Without this, a gzip body failed with
 * a misleading 400 (its size did not match Content-Length) and an unknown encoding was ignored
 * and the bytes parsed as if plain. `Accept-Encoding` names what is taken (RFC 7694).
 */
export function refuseContentEncoding(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') {
    done();
    return;
  }
  const body: ErrorEnvelope = {
    error: 'Content-Encoding is not supported: send the body uncompressed (identity)',
    status_code: 415,
    code: 'unsupported_media_type',
  };
  void reply.code(415).header('Accept-Encoding', 'identity').send(body);
}
