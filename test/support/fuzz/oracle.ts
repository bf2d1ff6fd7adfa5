import type { Contract, Operation } from './contract';
import type { Verdict } from './classify';
import type { WireResponse } from './http-client';

/**
 * No request, however hostile, may take this long: every answer here comes from a local
 * database in milliseconds, and a slow one is a cheap way to tie the server up.
 */
export const SLOW_MS = Number(process.env.FUZZ_SLOW_MS ?? 2000);

export interface Judgement {
  /** Contract breaches: any one fails the run. */
  failures: string[];
  /** A request valid by the document refused with 400/413/415/422: the document is looser than the code. */
  stricterThanDocumented?: string;
}

/**
 * What every response must be, whatever was sent: never a 5xx; a status the operation documents;
 * a body that validates against the documented schema for that status (the error envelope for
 * every non-2xx, with `status_code` equal to the status and `details` on 422 only); `401` with
 * `WWW-Authenticate: Bearer` to a caller without a valid token; never a 2xx to a request that
 * breaks the documented request schemas; never slower than `SLOW_MS`.
 */
export function judge(
  contract: Contract,
  op: Operation,
  verdict: Verdict,
  authenticated: boolean,
  response: WireResponse,
): Judgement {
  const failures: string[] = [];
  const { status } = response;
  const documented = op.responses.get(status);

  if (status >= 500) failures.push(`answered ${status}`);
  if (response.ms > SLOW_MS)
    failures.push(`took ${Math.round(response.ms)} ms (over ${SLOW_MS} ms)`);
  if (!documented) {
    failures.push(
      `answered ${status}, which ${op.id} does not document (documented: ${[...op.responses.keys()].join(', ')})`,
    );
  }

  const text = response.body.toString('utf8');
  let body: unknown;
  const contentType = String(response.headers['content-type'] ?? '');
  if (documented?.streams && status < 300) {
    if (!/^text\/event-stream\b/.test(contentType)) {
      failures.push(`content-type ${JSON.stringify(contentType)}, expected text/event-stream`);
    }
    if (!/^(retry: \d+|:.*|id: \d+)\n/.test(text)) {
      failures.push(`the stream opens with ${JSON.stringify(text.slice(0, 40))}, not an SSE field`);
    }
  } else if (documented?.schema || status >= 400) {
    if (!/^application\/json\b/.test(contentType)) {
      failures.push(`content-type ${JSON.stringify(contentType)}, expected application/json`);
    }
    try {
      body = JSON.parse(text);
    } catch {
      failures.push('body is not JSON');
    }
  } else if (documented && response.body.length > 0) {
    failures.push(`${status} documents no body, got ${response.body.length} bytes`);
  }

  if (body !== undefined && documented?.schema) {
    const problem = contract.validate(documented.schema, body);
    if (problem) failures.push(`body does not match the documented ${status} schema: ${problem}`);
  }
  if (status >= 400 && body !== undefined) {
    const envelope = body as { error?: unknown; status_code?: unknown; details?: unknown };
    if (typeof envelope !== 'object' || envelope === null || typeof envelope.error !== 'string') {
      failures.push('error body is not the envelope {error, status_code}');
    } else {
      if (envelope.status_code !== status) {
        failures.push(`status_code ${String(envelope.status_code)} differs from HTTP ${status}`);
      }
      if (status === 422 && !Array.isArray(envelope.details)) failures.push('422 without details');
      if (status !== 422 && 'details' in envelope) failures.push(`details on a ${status}`);
    }
  }
  if (status === 401 && !/^Bearer\b/.test(String(response.headers['www-authenticate'] ?? ''))) {
    failures.push('401 without WWW-Authenticate: Bearer');
  }
  if (status < 300 && documented) {
    for (const [name, { schema, required }] of Object.entries(documented.headers)) {
      const value = response.headers[name];
      if (value === undefined && !required) continue;
      const number = Number(value);
      const parsed = schema.type === 'integer' || schema.type === 'number' ? number : value;
      if (value === undefined || (typeof parsed === 'number' && !/^\d+$/.test(String(value)))) {
        failures.push(`header ${name} missing or not a number: ${String(value)}`);
      } else {
        const problem = contract.validate(schema, parsed);
        if (problem) failures.push(`header ${name}: ${problem}`);
      }
    }
  }

  if (op.secured && !authenticated) {
    const allowed = new Set([401]);
    if (verdict.transport.body) [400, 413, 415].forEach((s) => allowed.add(s));
    if (verdict.transport.url || verdict.violations.some((v) => v.startsWith('path')))
      allowed.add(422);
    if (!allowed.has(status)) {
      failures.push(`answered ${status} to a caller without a valid token (expected 401)`);
    }
  }
  if (verdict.violations.length > 0 && status < 300) {
    failures.push(
      `accepted (${status}) a request that breaks the contract: ${verdict.violations.join('; ')}`,
    );
  }

  let stricterThanDocumented: string | undefined;
  if (verdict.violations.length === 0 && authenticated && [400, 413, 415, 422].includes(status)) {
    const envelope = body as { error?: string; details?: { field: string; message: string }[] };
    stricterThanDocumented = envelope?.details?.length
      ? envelope.details.map((d) => `${d.field}: ${d.message}`).join('; ')
      : `${status} ${envelope?.error ?? ''}`;
  }
  return { failures, stricterThanDocumented };
}
