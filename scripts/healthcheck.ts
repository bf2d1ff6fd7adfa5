import { Client } from 'pg';

/**
 * The containers' healthcheck command (the slim image has no curl):
 *   node dist/scripts/healthcheck.js http://127.0.0.1:8000/api/health/db   → 0 when it answers 2xx
 *   node dist/scripts/healthcheck.js --database                           → 0 when DATABASE_URL answers
 * Exit 1 otherwise, within 3 seconds.
 */
const TIMEOUT_MS = 3000;

async function httpHealthy(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return res.ok;
}

async function databaseHealthy(): Promise<boolean> {
  const client = new Client({
    connectionString: process.env.DATABASE_URL,
    connectionTimeoutMillis: TIMEOUT_MS,
  });
  await client.connect();
  try {
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end();
  }
}

const target = process.argv[2];
if (!target) {
  console.error('usage: healthcheck <url> | --database');
  process.exit(2);
}
(target === '--database' ? databaseHealthy() : httpHealthy(target)).then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.error(`unhealthy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
