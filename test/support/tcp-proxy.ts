import { Server, Socket, createConnection, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A TCP proxy between the API and PostgreSQL, so a test can take the database away from one app
 * without stopping the server everyone else uses.
 * - `cut('reset')`: open connections are torn down and new ones dropped at once (a crash, a
 *   failover, a network partition that the kernel reports);
 * - `cut('blackhole')`: new connections are accepted and never answered (packets lost);
 * - `restore()`: traffic flows again.
 *
 * With `delayMs`, every chunk reaches the other side that much later, in each direction: the
 * database one network hop away (`npm run bench -- --db-latency-ms N`). A latency, not a
 * bandwidth limit: each direction of each connection keeps its own queue and timer, so
 * connections never wait on one another and a chunk waits only for its own delay.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private mode: 'up' | 'reset' | 'blackhole' = 'up';
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private readonly delayMs: number,
  ) {}

  static async start(
    targetHost: string,
    targetPort: number,
    options: { delayMs?: number } = {},
  ): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort, options.delayMs ?? 0);
    await proxy.listen();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  route(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  cut(mode: 'reset' | 'blackhole' = 'reset'): void {
    this.mode = mode;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.mode = 'up';
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    if (this.mode === 'reset') {
      client.destroy();
      return;
    }
    this.track(client);
    if (this.mode === 'blackhole') return; // accepted, never answered
    const upstream = createConnection(this.targetPort, this.targetHost);
    this.track(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    if (this.delayMs <= 0) {
      client.pipe(upstream).pipe(client);
      client.on('close', close);
      upstream.on('close', close);
      return;
    }
    delayed(client, upstream, this.delayMs);
    delayed(upstream, client, this.delayMs);
    // A side that ended cleanly still has chunks on their way: `delayed` ends the other side
    // once they are through. Only an abrupt close tears both down at once.
    const closeUnlessEnded = (socket: Socket) => () => {
      if (!socket.readableEnded) close();
    };
    client.on('close', closeUnlessEnded(client));
    upstream.on('close', closeUnlessEnded(upstream));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/**
 * Copies `from` to `to`, each chunk `delayMs` after it arrived, in arrival order, then passes the
 * end on. One timer at a time per direction, armed for the oldest chunk. Node's timers count
 * whole milliseconds, so a chunk waits at least `delayMs` and at most about a millisecond more.
 */
function delayed(from: Socket, to: Socket, delayMs: number): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) continue;
      if (!to.write(chunk) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now);
    else if (ended && !to.destroyed) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    ended = true;
    timer ??= setTimeout(flush, 0);
  });
}
