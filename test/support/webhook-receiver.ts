import { createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders, Server, createServer } from 'node:http';

/**
 * Delivery on, for an app whose receivers listen on loopback: quick polls and a tiny backoff, so
 * a spec waits milliseconds, not the production seconds, for each hop.
 */
export const DELIVERING_ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_BACKOFF_BASE_MS: '20',
  WEBHOOK_BACKOFF_MAX_MS: '80',
  WEBHOOK_TIMEOUT_MS: '3000',
};

/** One POST a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed: the audit entry. */
  entry: { id: number; action: string } & Record<string, unknown>;
  /** The status it answered. */
  status: number;
}

/** Checks `X-TaskFlow-Signature` the way docs/webhooks.md tells a receiver to. */
export function signatureValid(secret: string, header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2], 'hex'));
}

/**
 * A webhook receiver outside the system under test: a plain node:http server on loopback that
 * records every request. `answer` decides each status (200 unless told); `hold` keeps requests
 * unanswered until `release()`.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (request: { entry: Received['entry']; count: number }) => number = () => 200;
  private held: (() => void)[] = [];
  hold = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hook'): Promise<WebhookReceiver> {
    const ref: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const entry = JSON.parse(body) as Received['entry'];
        const receiver = ref.receiver!;
        const respond = () => {
          // A sender that gave up (timed out) never hears this answer: not a delivery.
          if (!res.socket || res.socket.destroyed) return;
          const status = receiver.answer({ entry, count: receiver.received.length });
          receiver.received.push({ headers: req.headers, body, entry, status });
          res.writeHead(status).end();
        };
        if (receiver.hold) receiver.held.push(respond);
        else respond();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    ref.receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`);
    return ref.receiver;
  }

  /** The requests held so far, for a test that waits until one is in flight. */
  get waiting(): number {
    return this.held.length;
  }

  release(): void {
    this.hold = false;
    for (const respond of this.held.splice(0)) respond();
  }

  /** The entries answered 2xx, in the order they arrived. */
  get delivered(): Received[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  async stop(): Promise<void> {
    this.held = [];
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
