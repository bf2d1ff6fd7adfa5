import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What agent work costs, and budgets that stop a runaway loop (docs/lifecycle.md, "Usage and
 * budgets"). `usage` accumulates every report on the task, totals and per model; money is
 * exact: `cost_usd` is kept as the text of a PostgreSQL `numeric` inside it, and `budget_usd`
 * is `numeric(14,6)`. A report that leaves the task over a budget blocks it.
 */
export class UsageAndBudgets1764330000000 implements MigrationInterface {
  name = 'UsageAndBudgets1764330000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "tasks"
        ADD "usage" jsonb NOT NULL
          DEFAULT '{"by_model": {}, "cost_usd": "0", "input_tokens": 0, "output_tokens": 0}',
        ADD "budget_tokens" bigint,
        ADD "budget_usd" numeric(14,6),
        ADD CONSTRAINT "chk_tasks_budget_tokens" CHECK ("budget_tokens" >= 0),
        ADD CONSTRAINT "chk_tasks_budget_usd" CHECK ("budget_usd" >= 0)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "tasks"
        DROP CONSTRAINT "chk_tasks_budget_usd",
        DROP CONSTRAINT "chk_tasks_budget_tokens",
        DROP COLUMN "budget_usd",
        DROP COLUMN "budget_tokens",
        DROP COLUMN "usage"`);
  }
}
