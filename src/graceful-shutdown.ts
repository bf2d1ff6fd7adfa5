import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';

/**
 * Closes the HTTP server and waits for the requests in flight. `server.close()` only closes the
 * connections idle at that moment; a keep-alive connection whose request finishes afterwards
 * would hold the server open until its keep-alive timeout. So idle connections are swept until
 * the server has closed.
 */
async function drainHttp(app: INestApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await app.getHttpAdapter().close();
  } finally {
    clearInterval(sweep);
  }
}

/**
 * On SIGTERM or SIGINT: stop accepting connections and let the requests in flight finish (the
 * HTTP server closes first: Fastify answers 503 to anything new on a kept-alive connection), then
 * run the app's shutdown hooks, which close the database pool, and exit 0. If draining takes
 * longer than `timeoutMs`, exit 1 rather than hang: the orchestrator would kill us anyway.
 *
 * Nest's own `enableShutdownHooks()` is not used: it runs module-destroy hooks before closing the
 * HTTP server, and ends the process by re-raising the signal (exit code 143, not 0).
 */
export function installGracefulShutdown(
  app: INestApplication,
  timeoutMs: number,
  beforeExit: () => void = () => undefined,
): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: draining requests in flight (at most ${timeoutMs} ms)`);
    setTimeout(() => {
      logger.error(`still draining after ${timeoutMs} ms; exiting`);
      beforeExit();
      process.exit(1);
    }, timeoutMs).unref();
    void (async () => {
      try {
        await drainHttp(app);
        await app.close();
        logger.log('stopped cleanly');
        beforeExit();
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        beforeExit();
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
