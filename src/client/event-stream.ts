import type { paths } from './schema';
import { ApiError, type AuditEntry, type TaskflowClient, unwrap } from './taskflow-client';

/** One message of a `text/event-stream`, as the HTML spec's parser dispatches it. */
export interface StreamMessage {
  /** The last `id:` seen on the stream so far (it carries over messages without one). */
  lastEventId: string;
  event: string;
  data: string;
  /** `retry:`, when this message set it. */
  retry?: number;
}

/**
 * Parses a `text/event-stream` body (the HTML spec's rules: `\n`, `\r\n` or `\r` line ends,
 * `:` comments, `field: value`, a blank line dispatches). Comments (heartbeats) yield nothing.
 */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>,
  lastEventId = '',
  signal?: AbortSignal,
): AsyncGenerator<StreamMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  // Not every fetch ends a body already being read when its signal aborts: end it here.
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end: RegExpExecArray | null;
      // A lone trailing \r may be the first half of \r\n: wait for the next chunk.
      while ((end = /\r\n|\n|\r(?!$)/.exec(buffer)) !== null) {
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        if (line === '') {
          if (data.length > 0) {
            yield { lastEventId, event: event || 'message', data: data.join('\n'), retry };
          }
          event = '';
          data = [];
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) lastEventId = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}

export type EventQuery = NonNullable<paths['/api/events']['get']['parameters']['query']>;

/** The last event of a stream the server ended on purpose; the reader reconnects after it. */
export interface StreamEnd {
  /**
   * `overflow`, `token_expired`, `token_revoked`, `shutdown` or `unavailable` (others may come
   * later).
   */
  reason: string;
  message?: string;
  last_event_id?: number | null;
}

const END_EVENTS = new Set([
  'overflow',
  'token_expired',
  'token_revoked',
  'shutdown',
  'unavailable',
]);

export interface FollowOptions {
  /**
   * The client to connect with, asked again on each reconnection: a caller whose token is
   * renewed (the CLI's login session) hands out a client with the fresh one.
   */
  client: () => TaskflowClient | Promise<TaskflowClient>;
  query?: EventQuery;
  /** Start after this id (resume); without it, only events from now on. */
  after?: number;
  onEvent: (entry: AuditEntry) => void | Promise<void>;
  /** The connection is open: `after` is the id it resumed from (undefined: from now on). */
  onOpen?: (after: number | undefined) => void;
  /** The stream ended or failed and will be reopened after `delayMs`. */
  onDisconnect?: (why: string, delayMs: number) => void;
  signal?: AbortSignal;
  /** Reconnection backoff bounds (the server's `retry:` is the starting delay). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Answers worth retrying: the API is down, restarting, overloaded or limiting us. */
const RETRYABLE = new Set([0, 429, 500, 502, 503, 504]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * Follows `GET /api/events` until `signal` aborts: each audit entry goes to `onEvent` once, in
 * the log's order. A dropped connection, a server restart or an `overflow` end is resumed with
 * `Last-Event-ID`, with exponential backoff while the API is unreachable, so nothing is missed
 * and nothing comes twice. Throws `ApiError` for answers a retry cannot fix (401, 403, 422).
 * Written on `fetch`, so it runs in browsers too (where EventSource cannot send Authorization).
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const { signal } = options;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 30_000;
  let lastId = options.after;
  let delay = minDelay;
  while (!signal?.aborted) {
    let why: string;
    // Outside the retry: a client that cannot be made (no token) is the caller's to report.
    const api = await options.client();
    try {
      const { data } = await unwrap(
        api.GET('/api/events', {
          params: {
            query: options.query,
            header: lastId === undefined ? undefined : { 'Last-Event-ID': String(lastId) },
          },
          parseAs: 'stream',
          signal,
        }),
      );
      options.onOpen?.(lastId);
      why = 'the stream ended';
      for await (const message of parseEventStream(
        data as ReadableStream<Uint8Array>,
        '',
        signal,
      )) {
        if (message.retry !== undefined) delay = Math.max(minDelay, message.retry);
        if (END_EVENTS.has(message.event)) {
          const end = JSON.parse(message.data) as StreamEnd;
          why = end.message ?? end.reason;
          // Only the server's own end may cut the wait short: it is not failing, it asks us back.
          if (end.reason !== 'unavailable') delay = minDelay;
          break;
        }
        const entry = JSON.parse(message.data) as AuditEntry;
        // Ids only grow; one not above the last is a replay, never delivered twice.
        if (lastId !== undefined && entry.id <= lastId) continue;
        await options.onEvent(entry);
        lastId = entry.id;
        delay = minDelay;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof ApiError && !RETRYABLE.has(error.status)) throw error;
      why = error instanceof Error ? error.message : String(error);
    }
    if (signal?.aborted) return;
    options.onDisconnect?.(why, delay);
    await sleep(delay, signal);
    delay = Math.min(maxDelay, delay * 2);
  }
}
