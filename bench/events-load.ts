import path from 'node:path';
import { parseEventStream } from '../src/client/event-stream';
import { loadConfig } from '../src/config/config';
import { recreateDatabase, runMigrations } from '../src/database/database-admin';
import { BenchIdentity } from './identity';
import {
  cpuMs,
  distPath,
  freePort,
  killAllChildren,
  memoryMb,
  ROOT_DIR,
  sleep,
  startServer,
  stopServer,
} from './processes';

/**
 * `npm run bench:events`: the event stream under load. One API process (the production build),
 * CLIENTS SSE clients connected to it (USERS distinct non-admin users), then WRITES task
 * creations through REST at CONCURRENCY in flight. Prints, per event and client, the delay from
 * the write's answer to the event's arrival (p50/p95/p99), and the server's RSS and CPU: the
 * same writes are made once with no client connected, so the difference is the streams' cost.
 */
const CLIENTS = Number(process.env.BENCH_EVENTS_CLIENTS ?? 500);
const USERS = 50;
const WRITES = Number(process.env.BENCH_EVENTS_WRITES ?? 300);
const CONCURRENCY = 10;
const DB_URL =
  process.env.BENCH_EVENTS_DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/taskflow_bench_events';

const log = (line: string) => process.stdout.write(`${line}\n`);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function writeTasks(url: string, token: string, label: string) {
  const answeredAt = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WRITES) {
        const n = next++;
        const response = await fetch(`${url}/api/tasks`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `${label} ${n}` }),
        });
        const body = (await response.json()) as { id: number };
        if (response.status !== 201) throw new Error(`write failed: ${JSON.stringify(body)}`);
        answeredAt.set(body.id, performance.now());
      }
    }),
  );
  return answeredAt;
}

async function main(): Promise<void> {
  const database = loadConfig({ DATABASE_URL: DB_URL }).database;
  log(`database ${new URL(DB_URL).pathname.slice(1)}: recreating and migrating`);
  await recreateDatabase(database);
  await runMigrations(database);
  const identity = await BenchIdentity.start();
  const port = await freePort();
  const server = await startServer({
    name: 'TaskFlow API',
    script: distPath('src', 'main.js'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: DB_URL,
      JWKS_URL: identity.jwksUrl,
      JWT_ISSUER: identity.issuer,
      JWT_AUDIENCE: identity.audience,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    port,
    readyPath: '/api/health/db',
    logFile: path.join(ROOT_DIR, 'bench', 'events-load.log'),
  });
  try {
    const writer = await identity.token('bench-writer');
    const tokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) => identity.token(`watcher-${i}`)),
    );

    // Warm-up, then the same writes with nobody listening: the cost of a write without streams.
    await writeTasks(server.url, writer, 'warm-up');
    const quietCpu = cpuMs(server.pid)!;
    const quietStart = performance.now();
    await writeTasks(server.url, writer, 'quiet');
    const quietCpuPerWrite = (cpuMs(server.pid)! - quietCpu) / WRITES;
    const quietSeconds = (performance.now() - quietStart) / 1000;
    const idleRss = memoryMb(server.pid)!.rss;

    const arrivals = new Map<number, number[]>();
    const abort = new AbortController();
    let connected = 0;
    const readers = Array.from({ length: CLIENTS }, async (_, i) => {
      const response = await fetch(`${server.url}/api/events?action=created`, {
        headers: { Authorization: `Bearer ${tokens[i % USERS]}` },
        signal: abort.signal,
      });
      if (response.status !== 200) throw new Error(`stream ${i}: ${response.status}`);
      connected += 1;
      for await (const message of parseEventStream(response.body!, '', abort.signal)) {
        const id = (JSON.parse(message.data) as { task_id: number }).task_id;
        const list = arrivals.get(id) ?? [];
        list.push(performance.now());
        arrivals.set(id, list);
      }
    });
    const failures: unknown[] = [];
    for (const reader of readers) {
      reader.catch((e: unknown) => {
        if (!abort.signal.aborted) failures.push(e);
      });
    }
    while (connected < CLIENTS) {
      if (failures.length) throw failures[0] as Error;
      await sleep(50);
    }
    await sleep(1000);
    const connectedRss = memoryMb(server.pid)!.rss;

    const loadCpu = cpuMs(server.pid)!;
    const loadStart = performance.now();
    const answeredAt = await writeTasks(server.url, writer, 'streamed');
    const writeSeconds = (performance.now() - loadStart) / 1000;
    for (let waited = 0; waited < 30_000; waited += 100) {
      const complete = [...answeredAt.keys()].every(
        (id) => (arrivals.get(id)?.length ?? 0) >= CLIENTS,
      );
      if (complete) break;
      await sleep(100);
    }
    const loadCpuPerWrite = (cpuMs(server.pid)! - loadCpu) / WRITES;
    const loadedRss = memoryMb(server.pid)!;

    const latencies: number[] = [];
    let missing = 0;
    for (const [id, at] of answeredAt) {
      const got = arrivals.get(id) ?? [];
      missing += CLIENTS - got.length;
      for (const t of got) latencies.push(t - at);
    }
    latencies.sort((x, y) => x - y);
    abort.abort();

    const ms = (v: number) => `${v.toFixed(1)} ms`;
    log('');
    log(
      `${CLIENTS} SSE clients (${USERS} users) on one API process, ${WRITES} creates at ${CONCURRENCY} in flight`,
    );
    log(`  deliveries: ${latencies.length} (${missing} missing)`);
    log(
      `  delivery latency after the write's answer: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1) ?? 0)}`,
    );
    log(
      `  writes: ${(WRITES / quietSeconds).toFixed(0)}/s with no stream, ${(WRITES / writeSeconds).toFixed(0)}/s with ${CLIENTS} streams`,
    );
    log(
      `  server CPU per write: ${quietCpuPerWrite.toFixed(2)} ms with no stream, ${loadCpuPerWrite.toFixed(2)} ms with ${CLIENTS} streams (+${(loadCpuPerWrite - quietCpuPerWrite).toFixed(2)} ms, fan-out included)`,
    );
    log(
      `  server RSS: ${idleRss.toFixed(0)} MB before the streams, ${connectedRss.toFixed(0)} MB with ${CLIENTS} connected, ${loadedRss.rss.toFixed(0)} MB after the writes (peak ${loadedRss.hwm.toFixed(0)} MB)`,
    );
    if (missing > 0) process.exitCode = 1;
  } finally {
    await stopServer(server);
    await identity.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  killAllChildren();
  process.exit(1);
});
