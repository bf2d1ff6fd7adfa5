import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { freshDatabase, sql } from './support/database';
import { TestIdentityProvider } from './support/identity';
import { closedPort } from './support/ports';
import {
  Mutation,
  auditedMutations,
  maxAuditId,
  pairMutations,
  replayAuditTrails,
  runSoak,
} from './support/soak';
import { Mint, setUpBoard } from './support/soak-board';
import { TcpProxy } from './support/tcp-proxy';
import { TestApp } from './support/test-app';

/**
 * Faults injected in the middle of a soak (DRILL_SECONDS each, 15 in CI): the database cut, the
 * JWKS server stopped, SIGTERM. Afterwards, for everything that was answered, the invariants of
 * the soak hold: no 5xx but 503, no 2xx missing its change or its audit entry, and replaying the
 * audit trails gives the rows in the table.
 */
const SECONDS = Number(process.env.DRILL_SECONDS ?? 15);
const SEED = Number(process.env.SOAK_SEED ?? 20261126);
const COUNTS = { humans: 30, agents: 20, tasks: 150, seed: SEED };
const at = (fraction: number) => new Promise((r) => setTimeout(r, SECONDS * 1000 * fraction));

async function expectAnsweredWorkIntact(
  db: Client,
  since: number,
  answered: Mutation[],
): Promise<{ audited: number }> {
  const audited = await auditedMutations(db, since);
  // Every 2xx has its entry (the converse can fail only for a commit whose answer was lost).
  expect(pairMutations(answered, audited).unaudited).toEqual([]);
  const replay = await replayAuditTrails(db, since);
  expect(replay.problems).toEqual([]);
  return { audited: audited.length };
}

describe(`Fault drills in the middle of a soak (${SECONDS} s each, seed ${SEED}) (e2e)`, () => {
  it(
    'the database is cut, then restored',
    async () => {
      const url = new URL(await freshDatabase());
      const proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
      const t = await TestApp.start({
        databaseUrl: proxy.route(url.toString()),
        env: { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '2000' },
      });
      const db = await sql(url.toString());
      try {
        const baseUrl = await t.listen();
        const since = await maxAuditId(db);
        const mint: Mint = async (spec) => (await t.actor(spec)).token;
        const board = await setUpBoard(mint, baseUrl, COUNTS);
        const soak = runSoak({ baseUrl, ...board, seconds: SECONDS, seed: SEED });
        await at(0.3);
        proxy.cut('reset');
        await at(0.25);
        proxy.restore();
        const result = await soak;

        expect(result.failures).toEqual([]);
        expect(result.networkErrors).toBe(0);
        expect(result.byStatus['503']).toBeGreaterThan(0); // the outage really happened
        const { audited } = await expectAnsweredWorkIntact(db, since, [
          ...board.created,
          ...result.mutations,
        ]);
        console.log(
          `drill db-cut: ${JSON.stringify({ requests: result.requests, mutations: result.mutations.length, audited, by_status: result.byStatus })}`,
        );
      } finally {
        await db.end();
        await t.close();
        await proxy.stop();
      }
    },
    (SECONDS + 90) * 1000,
  );

  it(
    'the JWKS server stops: tokens signed with known keys keep working',
    async () => {
      const identity = await TestIdentityProvider.start(['EdDSA']);
      const t = await TestApp.start({ identity });
      const db = await sql(t.databaseUrl);
      try {
        const baseUrl = await t.listen();
        const since = await maxAuditId(db);
        const mint: Mint = async (spec) => (await t.actor(spec)).token;
        const board = await setUpBoard(mint, baseUrl, COUNTS);
        // After the stop, actors switch to tokens minted afterwards with the same (cached) key, so
        // it is the key cache that carries them, not the verified-token cache.
        const fresh = new Map<string, string>();
        let stopped = false;
        const soak = runSoak({
          baseUrl,
          ...board,
          seconds: SECONDS,
          seed: SEED + 1,
          tokenFor: (actor) => (stopped ? (fresh.get(actor.id) ?? actor.token) : actor.token),
        });
        await at(0.3);
        await identity.stop();
        for (const actor of board.actors) {
          fresh.set(
            actor.id,
            await identity.token({
              sub: actor.id,
              role: actor.id === 'human-0' || actor.id === 'human-1' ? 'admin' : 'user',
            }),
          );
        }
        stopped = true;
        const result = await soak;

        expect(result.failures).toEqual([]);
        expect(result.byStatus['401']).toBeUndefined();
        await expectAnsweredWorkIntact(db, since, [...board.created, ...result.mutations]);
        console.log(
          `drill jwks-down: ${JSON.stringify({ requests: result.requests, mutations: result.mutations.length, by_status: result.byStatus })}`,
        );
      } finally {
        await db.end();
        await t.close();
        await identity.stop();
      }
    },
    (SECONDS + 90) * 1000,
  );

  it(
    'SIGTERM: the API drains and exits 0; everything answered is intact',
    async () => {
      const identity = await TestIdentityProvider.start(['EdDSA']);
      const databaseUrl = await freshDatabase();
      const port = await closedPort();
      const api: ChildProcess = spawn(
        process.execPath,
        ['--require', 'ts-node/register/transpile-only', join('src', 'main.ts')],
        {
          cwd: join(__dirname, '..'),
          env: {
            ...process.env,
            TS_NODE_PROJECT: 'tsconfig.json',
            NODE_ENV: 'production',
            PORT: String(port),
            HOST: '127.0.0.1',
            DATABASE_URL: databaseUrl,
            JWKS_URL: identity.jwksUrl,
            LOG_LEVEL: 'warn',
            RATE_LIMIT_PER_MINUTE: '0',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const exited = new Promise<number | null>((resolve) =>
        api.once('exit', (code) => resolve(code)),
      );
      const db = await sql(databaseUrl);
      try {
        const baseUrl = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 150; i++) {
          if (
            await fetch(`${baseUrl}/health`).then(
              (r) => r.ok,
              () => false,
            )
          )
            break;
          await new Promise((r) => setTimeout(r, 200));
        }
        const since = await maxAuditId(db);
        const mint: Mint = (spec) => identity.token({ sub: spec.id, role: spec.role ?? 'user' });
        const board = await setUpBoard(mint, baseUrl, COUNTS);
        const soak = runSoak({ baseUrl, ...board, seconds: SECONDS, seed: SEED + 2 });
        await at(0.4);
        api.kill('SIGTERM');
        expect(await exited).toBe(0);
        const result = await soak;

        // Answers before and during the drain are complete (never a 5xx but 503); afterwards the
        // server is gone and requests fail to connect, which is expected.
        expect(result.failures).toEqual([]);
        expect(result.networkErrors).toBeGreaterThan(0);
        await expectAnsweredWorkIntact(db, since, [...board.created, ...result.mutations]);
        console.log(
          `drill sigterm: ${JSON.stringify({ requests: result.requests, mutations: result.mutations.length, network_errors_after_exit: result.networkErrors, by_status: result.byStatus })}`,
        );
      } finally {
        if (api.exitCode === null) api.kill('SIGKILL');
        await db.end();
        await identity.stop();
      }
    },
    (SECONDS + 120) * 1000,
  );
});
