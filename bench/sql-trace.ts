import { appendFileSync } from 'node:fs';
import { Client } from 'pg';

/**
 * Preloaded (`node --require …/bench/sql-trace.js`) into TaskFlow and the baseline for the SQL
 * check that starts every `npm run bench`, never into a measured server: appends every statement that
 * node-postgres sends (its text and parameters) to the file named by BENCH_SQL_TRACE, one JSON
 * line each, so the bench can check that both servers send the same SQL for each workload.
 */
const file = process.env.BENCH_SQL_TRACE;
if (file) {
  type Query = (this: Client, ...args: unknown[]) => unknown;
  const proto = Client.prototype as unknown as { query: Query };
  const original = proto.query;
  proto.query = function (this: Client, ...args: unknown[]) {
    const [config, values] = args as [unknown, unknown];
    const text = typeof config === 'string' ? config : (config as { text?: string })?.text;
    const params = Array.isArray(values) ? values : (config as { values?: unknown[] })?.values;
    // The name says it ran as a prepared statement (bench/statement-cpu.ts replays it so).
    const name = typeof config === 'string' ? undefined : (config as { name?: string })?.name;
    appendFileSync(file, `${JSON.stringify({ text, params: params ?? [], name })}\n`);
    return original.apply(this, args);
  };
}
