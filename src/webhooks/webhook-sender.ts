import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ResolvedAddress, UnsafeDestinationError, resolveDestination } from './ssrf-guard';

export interface Delivery {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryResult {
  /** The receiver's status; null when no answer came (refused, unreachable, timed out). */
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

/** What is kept of a receiver's answer: enough to read a status, never its whole body. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One POST to a receiver. The host is resolved and checked (`resolveDestination`) right before
 * the call, and the connection goes to that checked address (the `lookup` hook), the TLS name
 * staying the URL's host. Redirects are not followed (a 3xx is a failure like any non-2xx), and
 * the whole call, connect to last byte, is bounded by `timeoutMs`.
 */
export async function send(
  delivery: Delivery,
  options: { allowPrivate: boolean; timeoutMs: number },
): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(delivery.url);
  let destination: ResolvedAddress;
  try {
    [destination] = await resolveDestination(url.hostname, options.allowPrivate);
  } catch (error) {
    const message =
      error instanceof UnsafeDestinationError ? `refused: ${error.message}` : String(error);
    return { statusCode: null, error: message, latencyMs: elapsed() };
  }
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [destination]);
    } else {
      callback(null, destination.address, destination.family);
    }
  };
  const signal = AbortSignal.timeout(options.timeoutMs);
  return new Promise<DeliveryResult>((resolve) => {
    const finish = (statusCode: number | null, error: string | null) =>
      resolve({ statusCode, error, latencyMs: elapsed() });
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...delivery.headers, 'Content-Length': Buffer.byteLength(delivery.body) },
        lookup: pinned,
        signal,
        agent: false,
      },
      (response) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        const status = response.statusCode ?? 0;
        const done = () =>
          finish(status, status >= 200 && status < 300 ? null : `receiver answered ${status}`);
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    request.on('error', (error: Error & { code?: string }) => {
      const why = signal.aborted
        ? `timed out after ${options.timeoutMs} ms`
        : `${error.code ?? 'error'}: ${error.message}`;
      finish(null, why.slice(0, 500));
    });
    request.end(delivery.body);
  });
}
