import type { Contract, Operation, Parameter } from './contract';
import { isPoisoned } from './json-text';

/** The body limit the contract states (1 MB); a longer body is a 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The request as the server receives it, decoded the way the server decodes it. */
export interface SentRequest {
  method: string;
  /** The path id decoded; `null` when its escapes are not valid UTF-8. */
  pathId?: string | null;
  /** Query pairs decoded (`+` is a space); a key alone has the value `''`. */
  query: [string, string][];
  body?: Buffer;
  contentType?: string;
  /** Sent with a valid token. */
  authenticated: boolean;
}

export interface Verdict {
  /** Why the request breaks the documented request schemas; empty when it does not. */
  violations: string[];
  /** Broken in the URL or the body bytes, which the server refuses before any guard runs. */
  transport: { url: boolean; body: boolean };
}

/** How a server decodes a query component: `+` is a space, a broken escape stays as written. */
export function decodeQueryComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * How a number is written in a URL: plain decimal (leading zeros allowed, `007` is seven). An
 * exponent (`1e9`) is not a spelling any client uses for an id or a page size.
 */
const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Judges a request by the committed openapi.json alone: parameters against their schemas (text
 * read as a number where the schema says number), the body against its schema (a missing body
 * counts as `{}`, since the API treats an empty JSON body as none), and the transport rules the
 * contract states (JSON only, 1 MB).
 */
export function classify(contract: Contract, op: Operation, request: SentRequest): Verdict {
  const violations: string[] = [];
  const transport = { url: false, body: false };

  const pathParam = op.parameters.find((p) => p.in === 'path');
  if (pathParam) {
    if (request.pathId === null || request.pathId === undefined) {
      transport.url = true;
      violations.push(`path ${pathParam.name} is not valid percent-encoded UTF-8`);
    } else {
      const problem = checkParameter(contract, pathParam, request.pathId);
      if (problem) violations.push(problem);
    }
  }

  const queryParams = op.parameters.filter((p) => p.in === 'query');
  // Routes without query parameters ignore the query; the others refuse what they do not know.
  if (queryParams.length > 0) {
    const seen = new Map<string, number>();
    for (const [key] of request.query) seen.set(key, (seen.get(key) ?? 0) + 1);
    for (const [key, count] of seen) {
      const param = queryParams.find((p) => p.name === key);
      if (!param) violations.push(`unknown query parameter ${JSON.stringify(key)}`);
      else if (count > 1) violations.push(`query ${key} given ${count} times`);
    }
    for (const param of queryParams) {
      const pair = request.query.find(([key]) => key === param.name);
      if (!pair) {
        if (param.required) violations.push(`query ${param.name} is required`);
        continue;
      }
      if ((seen.get(param.name) ?? 0) > 1) continue;
      const problem = checkParameter(contract, param, pair[1]);
      if (problem) violations.push(problem);
    }
  }

  if (request.method !== 'GET') {
    let value: unknown;
    const bytes = request.body ?? Buffer.alloc(0);
    if (bytes.length > 0) {
      const parsed = parseBody(bytes, request.contentType);
      if ('error' in parsed) {
        transport.body = true;
        violations.push(parsed.error);
      } else {
        value = parsed.value;
      }
    }
    if (op.body && !transport.body) {
      const problem = contract.validate(op.body.schema, value === undefined ? {} : value);
      if (problem) violations.push(`body: ${problem}`);
    }
  }
  return { violations, transport };
}

function checkParameter(contract: Contract, param: Parameter, text: string): string | null {
  const type = contract.resolve(param.schema).type as string | undefined;
  let value: unknown = text;
  if (type === 'number' || type === 'integer') {
    if (!NUMBER.test(text))
      return `${param.in} ${param.name}=${JSON.stringify(text)} is not a number`;
    value = Number(text);
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') {
      return `${param.in} ${param.name}=${JSON.stringify(text)} is not true or false`;
    }
    value = text === 'true';
  }
  const problem = contract.validate(param.schema, value);
  return problem ? `${param.in} ${param.name}=${JSON.stringify(text)}: ${problem}` : null;
}

function parseBody(bytes: Buffer, contentType?: string): { value: unknown } | { error: string } {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { error: `body sent as ${JSON.stringify(contentType ?? '(no content type)')}` };
  }
  if (bytes.length > BODY_LIMIT_BYTES) return { error: `body of ${bytes.length} bytes` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { error: 'body is not UTF-8' };
  }
  if (text.trim() === '') return { value: undefined };
  try {
    const value: unknown = JSON.parse(text.replace(/^\ufeff/, ''));
    if (isPoisoned(value)) return { error: 'body has a __proto__ or constructor.prototype key' };
    return { value };
  } catch {
    return { error: 'body is not JSON' };
  }
}
