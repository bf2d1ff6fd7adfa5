import {
  EventQuery,
  StreamMessage,
  followEvents,
  parseEventStream,
} from '../../src/client/event-stream';
import { AuditEntry, createTaskflowClient } from '../../src/client/taskflow-client';

/**
 * A client of `GET /api/events` over real HTTP, through the same reader the CLI and the MCP
 * server use (`followEvents`): it collects what arrives and reconnects with Last-Event-ID.
 */
export class EventWatcher {
  readonly entries: AuditEntry[] = [];
  /** Why each connection ended (server end events and dropped connections). */
  readonly disconnects: string[] = [];
  opens = 0;
  private readonly abort = new AbortController();
  private readonly running: Promise<void>;
  private waiters: (() => void)[] = [];
  error?: unknown;

  constructor(
    baseUrl: string | (() => string),
    token: string,
    query: EventQuery = {},
    after?: number,
  ) {
    this.running = followEvents({
      client: () =>
        createTaskflowClient({
          baseUrl: typeof baseUrl === 'function' ? baseUrl() : baseUrl,
          token,
        }),
      query,
      after,
      signal: this.abort.signal,
      minDelayMs: 50,
      maxDelayMs: 500,
      onOpen: () => {
        this.opens += 1;
        this.notify();
      },
      onEvent: (entry) => {
        this.entries.push(entry);
        this.notify();
      },
      onDisconnect: (why) => this.disconnects.push(why),
    }).catch((error: unknown) => {
      this.error = error;
      this.notify();
    });
  }

  get ids(): number[] {
    return this.entries.map((e) => e.id);
  }

  /** Resolves once `done()` holds (checked on every event), or fails after `timeoutMs`. */
  async until(done: (w: EventWatcher) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      if (this.error) throw this.error as Error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; got ids [${this.ids.join(', ')}]`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until an entry with id `id` (or above) has arrived. */
  reached(id: number, timeoutMs?: number): Promise<void> {
    return this.until((w) => w.ids.some((i) => i >= id), `event ${id}`, timeoutMs);
  }

  /** Waits until the stream is open (`count` times in all). */
  opened(count = 1): Promise<void> {
    return this.until((w) => w.opens >= count, `${count} open stream(s)`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The raw answer of `GET /api/events` (status, headers, and the body as it streams). */
export async function openRawStream(
  baseUrl: string,
  token: string | undefined,
  path = '/api/events',
  headers: Record<string, string> = {},
): Promise<{ response: Response; abort: AbortController }> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    signal: abort.signal,
  });
  return { response, abort };
}

/** A single `GET /api/events` connection, read raw (see `rawEventIds`). */
export interface RawEventIds {
  /** Every id as sent, in arrival order. */
  ids: number[];
  /** When each id was parsed off the wire (`Date.now()`), for the push path's latency. */
  arrivedAt: Map<number, number>;
  opened: Promise<void>;
  /** Resolves once an id of `id` or above has arrived, or fails after `timeoutMs`. */
  reached: (id: number, timeoutMs?: number) => Promise<void>;
  /** Ends the connection from the client side (the socket is destroyed), as a dropped link. */
  stop: () => Promise<void>;
}

/**
 * Every event id a single connection receives, exactly as sent (no client-side de-duplication,
 * so a duplicate or an out-of-order id shows); `stop()` ends it. It resumes after `after` with
 * `?after=`, or with the `Last-Event-ID` header (what a reconnecting EventSource sends) when
 * `resume` says so.
 */
export function rawEventIds(
  baseUrl: string,
  token: string,
  after: number,
  resume: 'query' | 'header' = 'query',
): RawEventIds {
  const ids: number[] = [];
  const arrivedAt = new Map<number, number>();
  const abort = new AbortController();
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reading = (async () => {
    const response = await fetch(
      resume === 'header' ? `${baseUrl}/api/events` : `${baseUrl}/api/events?after=${after}`,
      {
        headers: {
          Authorization: `Bearer ${token}`,
          ...(resume === 'header' ? { 'Last-Event-ID': String(after) } : {}),
        },
        signal: abort.signal,
      },
    );
    open();
    for await (const message of parseEventStream(response.body!, '', abort.signal)) {
      if (!message.lastEventId) continue;
      const id = Number(message.lastEventId);
      ids.push(id);
      if (!arrivedAt.has(id)) arrivedAt.set(id, Date.now());
    }
  })().catch(() => undefined);
  const reached = async (id: number, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!ids.some((i) => i >= id)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for event ${id}; got ids [${ids.join(', ')}]`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    ids,
    arrivedAt,
    opened,
    reached,
    stop: async () => {
      abort.abort();
      await reading;
    },
  };
}

/** A single `GET /api/events` connection read raw until the server ends it (see `streamToEnd`). */
export interface StreamToEnd {
  /** Every message as parsed, end events included, in arrival order. */
  messages: StreamMessage[];
  /** The answer's status, once its headers have come. */
  opened: Promise<number>;
  /** Every message, once the server has ended the response; fails after `timeoutMs`. */
  ended: (timeoutMs?: number) => Promise<StreamMessage[]>;
  /** Ends the connection from the client side. */
  stop: () => void;
}

/**
 * Opens `GET /api/events` with `token` and reads it raw, end events included (which the
 * reconnecting `EventWatcher` consumes), until the server completes the response.
 */
export function streamToEnd(baseUrl: string, token: string): StreamToEnd {
  const messages: StreamMessage[] = [];
  const abort = new AbortController();
  const response = fetch(`${baseUrl}/api/events`, {
    headers: { Authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  const reading = response.then(async (r) => {
    for await (const message of parseEventStream(r.body!, '', abort.signal)) {
      messages.push(message);
    }
    return messages;
  });
  // Stopped before the end: nobody waits for it then.
  reading.catch(() => undefined);
  const ended = async (timeoutMs = 20_000) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the stream did not end within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([reading, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    messages,
    opened: response.then((r) => r.status),
    ended,
    stop: () => abort.abort(),
  };
}
