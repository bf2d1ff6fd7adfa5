import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleIdentifier } from '../app-role';

/**
 * `analytics_facts`: the audit entries the analytics summary counts, attributed when they are
 * written (docs/analytics.md). Reading them from the log made the summary's cost grow with
 * every entry in its window times two lookups (the task's current project, and per completion
 * the task's latest `started` entry): about 665 ms for 30 days on 200,000 tasks. Here each fact
 * is one narrow row, appended in time order, its start already found.
 *
 * The database keeps it, so no writer can forget it and the API's role only reads it:
 * - an AFTER INSERT trigger on `audit_entries` (only for the five actions, by its WHEN) adds the
 *   fact in the entry's transaction: the worker is the actor of the task's latest `started` entry
 *   before it for completions and rejections (else the entry's actor), the entry's actor for
 *   failures and usage; tokens and cost from a usage report's context. "Before it" walks the
 *   task's hash chain backwards (`uq_audit_task_chain`; the chain's order is the entries'),
 *   testing the action in the loop: with `action = 'started'` in the statement, a plan made on
 *   stale statistics (a bulk insert into a young table) ANDs in `idx_audit_action` and reads
 *   every `started` entry of the log, 1.7 ms per completion instead of 14 µs;
 * - an AFTER UPDATE trigger on `tasks` moves a task's facts with the task when it changes
 *   project, since visibility follows the task's current project as in the audit log. A deleted
 *   task's facts keep its last project, as its entries do.
 * Both run as the owner (SECURITY DEFINER): the API's role may read the facts, not write them.
 *
 * Existing entries are rebuilt from the log here, by the same rules. `idx_audit_action_time`,
 * which only the summary used, goes: one index less to maintain on every audit append.
 */
export class AnalyticsFacts1764340000000 implements MigrationInterface {
  name = 'AnalyticsFacts1764340000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "analytics_facts" (
        "entry_id" bigint NOT NULL,
        "task_id" integer NOT NULL,
        "project_slug" varchar(100),
        "action" varchar(40) NOT NULL,
        "at" timestamptz NOT NULL,
        "worker_id" varchar(255) NOT NULL,
        "worker_type" "worker_type" NOT NULL,
        "cycle_us" bigint,
        "input_tokens" bigint,
        "output_tokens" bigint,
        "cost_usd" numeric,
        CONSTRAINT "pk_analytics_facts" PRIMARY KEY ("entry_id")
      )`);

    // A usage report's tokens and cost; nothing for the other actions.
    await q.query(`
      CREATE FUNCTION "analytics_usage_of"(action varchar, context jsonb,
        OUT input_tokens bigint, OUT output_tokens bigint, OUT cost_usd numeric)
        LANGUAGE sql IMMUTABLE AS $$
        SELECT (context ->> 'input_tokens')::bigint, (context ->> 'output_tokens')::bigint,
               (context ->> 'cost_usd')::numeric
         WHERE action = 'usage_reported'
      $$`);
    // The cycle in whole microseconds (timestamps have no finer precision): exact, and cheap to
    // sort when the summary takes its percentiles.
    await q.query(`
      CREATE FUNCTION "analytics_cycle_us"(started timestamptz, finished timestamptz) RETURNS bigint
        LANGUAGE sql IMMUTABLE AS $$
        SELECT (extract(epoch FROM finished - started) * 1000000)::bigint
      $$`);
    await q.query(`
      CREATE FUNCTION "analytics_fact_record"() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        slug varchar(100);
        starter_id varchar(255);
        starter_type worker_type;
        started timestamptz;
        reported record;
        earlier record;
      BEGIN
        SELECT t.project_slug INTO slug FROM tasks t WHERE t.id = NEW.task_id;
        IF NOT FOUND THEN
          slug := NEW.project_slug;
        END IF;
        IF NEW.action IN ('completed', 'approved', 'rejected') THEN
          FOR earlier IN
            SELECT d.action, d.actor_id, d.actor_type, d."timestamp" FROM audit_entries d
             WHERE d.task_id = NEW.task_id AND d.chain_seq < NEW.chain_seq
             ORDER BY d.chain_seq DESC
          LOOP
            IF earlier.action = 'started' THEN
              starter_id := earlier.actor_id;
              starter_type := earlier.actor_type;
              started := earlier."timestamp";
              EXIT;
            END IF;
          END LOOP;
        END IF;
        SELECT * INTO reported FROM analytics_usage_of(NEW.action, NEW.context);
        INSERT INTO analytics_facts (entry_id, task_id, project_slug, action, at, worker_id,
                                     worker_type, cycle_us, input_tokens, output_tokens, cost_usd)
        VALUES (NEW.id, NEW.task_id, slug, NEW.action, NEW."timestamp",
                COALESCE(starter_id, NEW.actor_id), COALESCE(starter_type, NEW.actor_type),
                analytics_cycle_us(started, NEW."timestamp"),
                reported.input_tokens, reported.output_tokens, reported.cost_usd);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "audit_entries_analytics_fact"
        AFTER INSERT ON "audit_entries" FOR EACH ROW
        WHEN (NEW.task_id IS NOT NULL
              AND NEW.action IN ('completed', 'approved', 'rejected', 'failed', 'usage_reported'))
        EXECUTE FUNCTION "analytics_fact_record"()`);

    await q.query(`
      CREATE FUNCTION "analytics_facts_follow_task"() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      BEGIN
        UPDATE analytics_facts SET project_slug = NEW.project_slug WHERE task_id = NEW.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "tasks_analytics_project"
        AFTER UPDATE OF "project_slug" ON "tasks" FOR EACH ROW
        WHEN (OLD.project_slug IS DISTINCT FROM NEW.project_slug)
        EXECUTE FUNCTION "analytics_facts_follow_task"()`);

    // The log so far, by the same rules (a deleted task's project: its latest entry's).
    await q.query(`
      INSERT INTO analytics_facts (entry_id, task_id, project_slug, action, at, worker_id,
                                   worker_type, cycle_us, input_tokens, output_tokens, cost_usd)
      SELECT e.id, e.task_id,
             CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)
                  THEN (SELECT t.project_slug FROM tasks t WHERE t.id = e.task_id)
                  ELSE (SELECT d.project_slug FROM audit_entries d
                         WHERE d.task_id = e.task_id ORDER BY d.chain_seq DESC LIMIT 1) END,
             e.action, e."timestamp", COALESCE(s.actor_id, e.actor_id),
             COALESCE(s.actor_type, e.actor_type), analytics_cycle_us(s."timestamp", e."timestamp"),
             u.input_tokens, u.output_tokens, u.cost_usd
        FROM audit_entries e
        LEFT JOIN LATERAL analytics_usage_of(e.action, e.context) AS u ON true
        LEFT JOIN LATERAL (
          SELECT d.actor_id, d.actor_type, d."timestamp" FROM audit_entries d
           WHERE e.action IN ('completed', 'approved', 'rejected')
             AND d.task_id = e.task_id AND d.chain_seq < e.chain_seq AND d.action = 'started'
           ORDER BY d.chain_seq DESC LIMIT 1
        ) AS s ON true
       WHERE e.task_id IS NOT NULL
         AND e.action IN ('completed', 'approved', 'rejected', 'failed', 'usage_reported')
       ORDER BY e.id`);
    // After the rows: built in one pass, and the table is read in time order from the start.
    await q.query(`CREATE INDEX "idx_analytics_facts_at" ON "analytics_facts" ("at")`);
    await q.query(`CREATE INDEX "idx_analytics_facts_task" ON "analytics_facts" ("task_id")`);
    await q.query(`DROP INDEX "idx_audit_action_time"`);

    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`GRANT SELECT ON analytics_facts TO ${role}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "idx_audit_action_time" ON "audit_entries" ("action", "timestamp")`,
    );
    await q.query(`DROP TRIGGER "tasks_analytics_project" ON "tasks"`);
    await q.query(`DROP FUNCTION "analytics_facts_follow_task"()`);
    await q.query(`DROP TRIGGER "audit_entries_analytics_fact" ON "audit_entries"`);
    await q.query(`DROP FUNCTION "analytics_fact_record"()`);
    await q.query(`DROP FUNCTION "analytics_usage_of"(varchar, jsonb)`);
    await q.query(`DROP FUNCTION "analytics_cycle_us"(timestamptz, timestamptz)`);
    await q.query(`DROP TABLE "analytics_facts"`);
  }
}
