import http from 'node:http';

export interface WireRequest {
  method: string;
  /** Path and query exactly as sent: nothing is normalised or re-encoded on the way. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/**
 * A raw HTTP/1.1 client over loopback with kept-alive connections. Unlike supertest or fetch it
 * sends the path byte for byte (broken escapes, `%00`, `..` included) and always states the
 * body's length, so the server sees exactly the generated request.
 */
export class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  async send(request: WireRequest): Promise<WireResponse> {
    try {
      return await this.once(request);
    } catch (error) {
      // A kept-alive socket the server closed between two requests (after a 413, say): the
      // request never reached the application, so sending it again is safe.
      if ((error as { reusedSocket?: boolean }).reusedSocket) return this.once(request);
      throw error;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private once(request: WireRequest): Promise<WireResponse> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...request.headers };
      if (request.body) headers['content-length'] = String(request.body.length);
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method: request.method,
          path: request.url,
          headers,
          agent: this.agent,
        },
        (res) => {
          if (/^text\/event-stream\b/.test(res.headers['content-type'] ?? '')) {
            // A stream never ends by itself: its first chunk (the `retry:` line) is the answer.
            res.once('data', (chunk: Buffer) => {
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: chunk,
                ms: performance.now() - started,
              });
              req.destroy();
            });
            res.on('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
              ms: performance.now() - started,
            }),
          );
        },
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        const reused = req.reusedSocket && error.code === 'ECONNRESET';
        reject(Object.assign(error, { reusedSocket: reused }));
      });
      req.end(request.body);
    });
  }
}
