import { TcpProxy } from '../test/support/tcp-proxy';

/**
 * `--db-latency-ms`: the TCP proxy that puts PostgreSQL one network hop away from both servers,
 * in a process of its own (forked by run.ts), so that its CPU time is its own and its timers do
 * not share an event loop with the orchestrator's sampling. Loopback only, both ends: it takes
 * the PostgreSQL port and the delay as arguments and answers its own port over IPC.
 */
const LOOPBACK = '127.0.0.1';

async function main(): Promise<void> {
  const [port, delay] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(port) || !(delay >= 0)) {
    throw new Error('usage: db-proxy <postgres port on 127.0.0.1> <delay ms>');
  }
  const proxy = await TcpProxy.start(LOOPBACK, port, { delayMs: delay });
  process.send?.({ port: proxy.port });
}

if (!process.send) {
  console.error('bench/db-proxy is started by bench/run (it answers over IPC)');
  process.exit(2);
}
// The orchestrator is gone: nothing is measured through this any more.
process.once('disconnect', () => process.exit(0));
main().catch((error: unknown) => {
  console.error(`db-proxy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
