import type { ServerResponse } from 'node:http';
import type { AuditEntry } from '../audit/audit-entry.entity';
import type { EventSink } from './event-feed';

/** How long a client waits before reconnecting (the stream's `retry:` field). */
export const RETRY_MS = 2000;

/** Why the server ended a stream: the last event before it closes (no `id:`, so resume works). */
export type EndReason = 'overflow' | 'token_expired' | 'token_revoked' | 'shutdown' | 'unavailable';

const REASONS: Record<EndReason, string> = {
  overflow:
    'too far behind: more unsent data than the server keeps per stream; resume from the last id',
  token_expired: 'the token expired; reconnect with a fresh one and Last-Event-ID',
  token_revoked: 'the API key was revoked; reconnect with another token and Last-Event-ID',
  shutdown: 'this replica is shutting down; reconnect with Last-Event-ID',
  unavailable: 'the event log cannot be read right now; reconnect with Last-Event-ID',
};

export interface EventStreamOptions {
  heartbeatMs: number;
  /** Unsent bytes beyond which the client counts as too slow. */
  maxBufferBytes: number;
  /** When the caller's token expires (ms since the epoch): a JWT's `exp`, a key's `expires_at`. */
  expiresAt?: number;
}

/** The headers of every stream, and of the answer to HEAD. */
const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  // nginx (and proxies that honour it) must pass each event on as it comes.
  'X-Accel-Buffering': 'no',
} as const;

/**
 * The answer to HEAD: the stream's headers (`headers` first, as `EventStream.open` sends them),
 * then nothing. Node sends neither Content-Length nor Transfer-Encoding for a HEAD answer.
 */
export function answerHead(response: ServerResponse, headers: Record<string, unknown>): void {
  response.writeHead(200, { ...headers, ...STREAM_HEADERS }).end();
}

/** One `text/event-stream` frame of an entry: its id, its action as the event name, its JSON. */
export const eventFrame = (entry: AuditEntry): string =>
  `id: ${entry.id}\nevent: ${entry.action}\ndata: ${JSON.stringify(entry)}\n\n`;

/**
 * One client's Server-Sent Events response, written straight to the socket. Node buffers what
 * the socket cannot take yet (`writableLength`); past `maxBufferBytes` the client is too slow,
 * and rather than buffer without bound, the stream ends with an `overflow` event naming the last
 * id written, from which the client resumes.
 */
export class EventStream implements EventSink {
  private lastId?: number;
  private done = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly response: ServerResponse,
    private readonly options: EventStreamOptions,
  ) {}

  /** Writes the headers and the reconnection delay; `onEnd` runs once the response is over. */
  open(headers: Record<string, unknown>, onEnd: () => void): void {
    this.response.writeHead(200, { ...headers, ...STREAM_HEADERS, Connection: 'keep-alive' });
    this.response.socket?.setNoDelay(true);
    this.response.write(`retry: ${RETRY_MS}\n\n`);
    this.response.once('close', () => {
      this.done = true;
      for (const timer of this.timers) clearTimeout(timer);
      onEnd();
    });
    const heartbeat = setInterval(() => this.write(': keep-alive\n\n'), this.options.heartbeatMs);
    this.timers.push(heartbeat);
    if (this.options.expiresAt !== undefined) this.endAt(this.options.expiresAt);
  }

  /**
   * Ends the stream with `token_expired` at `expiresAt`. setTimeout's limit is 2^31-1 ms (24.8
   * days), less than an API key may live: a later expiry is waited for again then.
   */
  private endAt(expiresAt: number): void {
    const left = Math.max(0, expiresAt - Date.now());
    const wait = Math.min(left, 2 ** 31 - 1);
    this.timers.push(
      setTimeout(() => (wait < left ? this.endAt(expiresAt) : this.end('token_expired')), wait),
    );
  }

  send(entries: AuditEntry[]): boolean {
    if (entries.length === 0) return !this.done;
    const sent = this.write(entries.map(eventFrame).join(''));
    if (sent) this.lastId = entries[entries.length - 1].id;
    return sent;
  }

  get ended(): boolean {
    return this.done;
  }

  close(): void {
    this.end('shutdown');
  }

  revoked(): void {
    this.end('token_revoked');
  }

  /** Writes `text`, or ends the stream when the client is too far behind; false once ended. */
  private write(text: string): boolean {
    if (this.done) return false;
    if (this.response.writableLength > this.options.maxBufferBytes) {
      this.end('overflow');
      return false;
    }
    this.response.write(text);
    return true;
  }

  /** Ends the stream with a last event saying why. */
  end(reason: EndReason): void {
    if (this.done) return;
    this.done = true;
    const data = { reason, message: REASONS[reason], last_event_id: this.lastId ?? null };
    this.response.end(`event: ${reason}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
