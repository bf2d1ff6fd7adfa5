import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { Client } from 'pg';

/**
 * PostgreSQL's CPU for one request's statements, replayed: `npm run bench:statements -- --trace
 * <file> --from <i> --to <j>` runs statements i..j of a SQL trace (the JSON lines the bench's SQL
 * check writes to bench/out/sql-trace-taskflow.jsonl) on one connection, `--replays` times after
 * a warm-up, and prints the CPU the connection's backend used per replay, read from
 * /proc/<pid>/stat (so PostgreSQL on this machine, readable /proc). Statements the server ran
 * named (prepared) are replayed named, the others unnamed, so planning costs what it cost there.
 *
 * What it is for: comparing the database's share of a request between builds whose schemas
 * differ (an earlier commit, migrated and seeded by its own bench with `--check-sql --keep-db`,
 * against this one), where running one build's server on the other's data would not be fair.
 * A replay that writes, writes: point it at a bench database, never at one you keep.
 */

interface TracedStatement {
  text: string;
  params: unknown[];
  name?: string;
}

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('not an integer');
  return n;
};

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench:statements --')
    .requiredOption('--trace <file>', 'a SQL trace (JSON lines of {text, params, name})')
    .option('--list', 'print the trace with each statement’s index, then exit', false)
    .option('--from <i>', 'first statement to replay (index in the trace)', integer, 0)
    .option('--to <j>', 'last statement to replay (inclusive)', integer)
    .option('--replays <n>', 'measured replays', integer, 2000)
    .option(
      '--database <url>',
      'where to replay (a bench database)',
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/taskflow_bench',
    )
    .option(
      '--clock-ticks <n>',
      'the kernel’s clock ticks per second (getconf CLK_TCK)',
      integer,
      100,
    )
    .allowExcessArguments(false);
  program.parse(process.argv);
  const o = program.opts<{
    trace: string;
    list: boolean;
    from: number;
    to?: number;
    replays: number;
    database: string;
    clockTicks: number;
  }>();
  const trace = readFileSync(o.trace, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as TracedStatement);
  if (o.list) {
    trace.forEach((s, i) =>
      console.log(
        `${i}\t${s.name ? 'named  ' : 'unnamed'}\t${s.text.replace(/\s+/g, ' ').slice(0, 110)}`,
      ),
    );
    return;
  }
  const statements = trace.slice(o.from, (o.to ?? trace.length - 1) + 1);
  if (statements.length === 0) throw new Error('no statement in that range');
  const client = new Client({ connectionString: o.database, application_name: 'bench-statements' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0].pid;
    // Named statements get names of their own: the traced ones may collide across requests.
    const replay = async () => {
      for (const [i, s] of statements.entries()) {
        await client.query(
          s.name
            ? { name: `replay-${i}`, text: s.text, values: s.params }
            : { text: s.text, values: s.params },
        );
      }
    };
    for (let i = 0; i < 50; i++) await replay(); // warm-up: caches, and the plan choice after 5
    const ticks = cpuTicks(pid);
    const started = process.hrtime.bigint();
    for (let i = 0; i < o.replays; i++) await replay();
    const cpuUs = ((cpuTicks(pid) - ticks) * 1e6) / o.clockTicks / o.replays;
    const wallUs = Number(process.hrtime.bigint() - started) / 1e3 / o.replays;
    console.log(
      `${statements.length} statements (${o.from}..${o.from + statements.length - 1}) × ${o.replays}: ` +
        `${cpuUs.toFixed(0)} µs of the backend's CPU per replay, ${wallUs.toFixed(0)} µs wall`,
    );
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
