import type { Client } from 'pg';

/**
 * The plans of the statements TaskFlow sent for one request (as the SQL trace recorded them,
 * with their parameters), by `EXPLAIN (ANALYZE, BUFFERS)` on the bench's own connection. They
 * run in one transaction, in the order the request sent them (a write's lock, update and audit
 * append see what the ones before them did) and are rolled back: the data stays as the
 * workloads left it. Statements EXPLAIN cannot take (SET, SAVEPOINT…) run as they are.
 *
 * A plan for the parameters given (a custom plan): a prepared statement that PostgreSQL has
 * switched to its generic plan after five executions may run another one in the server.
 */

export interface StatementPlan {
  sql: string;
  params: unknown[];
  /** EXPLAIN's lines; empty for a statement run as it is. */
  plan: string[];
  planningMs?: number;
  executionMs?: number;
  error?: string;
}

export interface RequestPlans {
  phase: 'main' | 'growth';
  tasks: number;
  name: string;
  /** `GET /api/tasks?limit=50` */
  request: string;
  status: number;
  statements: StatementPlan[];
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|END)\b/i;
const EXPLAINABLE = /^\s*(WITH|SELECT|INSERT|UPDATE|DELETE|VALUES)\b/i;

export async function explainStatements(
  db: Client,
  statements: { text: string; params: unknown[] }[],
): Promise<StatementPlan[]> {
  const plans: StatementPlan[] = [];
  await db.query('BEGIN');
  try {
    for (const { text, params } of statements) {
      if (TRANSACTION_CONTROL.test(text)) continue;
      const explain = EXPLAINABLE.test(text);
      const record: StatementPlan = { sql: text.trim(), params, plan: [] };
      // One failed statement must not abort the others: each behind a savepoint.
      await db.query('SAVEPOINT bench_plan');
      try {
        const result = await db.query<{ 'QUERY PLAN': string }>({
          text: explain ? `EXPLAIN (ANALYZE, BUFFERS) ${text}` : text,
          values: params,
        });
        if (explain) {
          record.plan = result.rows.map((row) => row['QUERY PLAN']);
          const time = (label: string) => {
            const line = record.plan.find((l) => l.startsWith(`${label} Time:`));
            return line ? Number(/([\d.]+) ms/.exec(line)?.[1]) : undefined;
          };
          record.planningMs = time('Planning');
          record.executionMs = time('Execution');
        }
        await db.query('RELEASE SAVEPOINT bench_plan');
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        await db.query('ROLLBACK TO SAVEPOINT bench_plan');
      }
      plans.push(record);
    }
  } finally {
    await db.query('ROLLBACK');
  }
  return plans;
}

/** The sum of the statements' execution times, ms. */
export const executionMs = (plans: RequestPlans): number =>
  plans.statements.reduce((sum, s) => sum + (s.executionMs ?? 0), 0);
