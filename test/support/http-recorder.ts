import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through, with the status the server answered. */
export interface Exchange {
  method: string;
  /** Path and query. */
  path: string;
  /** The bearer token sent, if any. */
  token?: string;
  status: number;
  /** When the answer came (ms since the epoch). */
  at: number;
}

/**
 * An HTTP proxy that records what a client in another process sent and what it got back: which
 * token went with each request, and whether the server refused it. The server behind it is
 * real; the proxy forwards every byte, and presents itself as the server's own origin (an
 * `Origin` naming the proxy would be refused by Better Auth's origin check).
 */
export class HttpRecorder {
  readonly exchanges: Exchange[] = [];
  private readonly server: Server;
  url = '';

  private constructor(target: string) {
    const upstream = new URL(target);
    this.server = createServer((req, res) => {
      const headers = { ...req.headers, host: upstream.host };
      if (headers.origin) headers.origin = upstream.origin;
      const forward = httpRequest(
        new URL(req.url ?? '/', upstream),
        // No keep-alive pool: a socket left open would keep the Jest worker from exiting.
        { method: req.method, headers, agent: false },
        (answer) => {
          const auth = req.headers.authorization;
          this.exchanges.push({
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            token: auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined,
            status: answer.statusCode ?? 0,
            at: Date.now(),
          });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
    });
  }

  static async start(target: string): Promise<HttpRecorder> {
    const recorder = new HttpRecorder(target);
    await new Promise<void>((resolve) => recorder.server.listen(0, '127.0.0.1', resolve));
    recorder.url = `http://127.0.0.1:${(recorder.server.address() as AddressInfo).port}`;
    return recorder;
  }

  /** The exchanges from `index` on: what happened since `exchanges.length` was read. */
  since(index: number): Exchange[] {
    return this.exchanges.slice(index);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
