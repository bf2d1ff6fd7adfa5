import { Client } from 'pg';

/**
 * Bulk seeding of the bench database, in a handful of set-based statements (generate_series),
 * so that a million tasks take seconds. The secondary indexes of `tasks` and `audit_entries` are
 * dropped first (but not the unique ones: the audit chain's trigger finds each chain's head
 * through them, row by row) and rebuilt afterwards from their own definitions (read from pg_indexes), which
 * is much faster than maintaining them row by row and leaves the schema exactly as the
 * migrations made it.
 *
 * The distribution (deterministic: `setseed`):
 * - projects of bounded size, 20 to 180 tasks each (about 100), so a project filter's result does
 *   not grow with the table; ids follow `created_at`, so a project's tasks are spread over the
 *   table as they would be after a year of use, not stored side by side;
 * - status: 30 % pending (unassigned), 35 % in_progress, 10 % review, 20 % completed, 5 % blocked;
 *   every in_progress, review and completed task and half of the blocked ones are assigned to
 *   one of the bench users (so workload 4 can act as the assignee);
 * - priority: 25 % low, 45 % medium, 22 % high, 8 % critical; 30 % have a due date;
 * - created over the last 365 days, updated some time after;
 * - one `created` audit entry per task, then each assigned task's history (`seedHistory`), so the
 *   audit log and the analytics facts hold a year of work.
 */

export interface SeedOptions {
  tasks: number;
  /** The JWT subjects of the bench users; tasks are created by and assigned to them. */
  users: readonly string[];
  /** Registered in `workers` as agents (the rest of `registeredHumans` as humans). */
  agents: readonly string[];
  registeredHumans: readonly string[];
  /** Progress lines (step and seconds). */
  log?: (message: string) => void;
}

export interface SeedStats {
  tasks: number;
  projects: number;
  byStatus: Record<string, number>;
  /** Audit entries in all, and the analytics facts of the summary's default window by action. */
  auditEntries: number;
  last30DaysFacts: Record<string, number>;
  seconds: number;
}

const SEED_TABLES = ['tasks', 'audit_entries', 'analytics_facts'];

const TITLE_VERBS = [
  'Fix',
  'Write',
  'Review',
  'Refactor',
  'Investigate',
  'Document',
  'Deploy',
  'Triage',
  'Benchmark',
  'Migrate',
  'Design',
  'Test',
];
const TITLE_OBJECTS = [
  'the login flow',
  'flaky integration test',
  'release notes',
  'billing export',
  'search ranking',
  'onboarding emails',
  'API rate limits',
  'dashboard charts',
  'database backups',
  'the CLI help text',
  'webhook retries',
  'audit log viewer',
  'mobile layout',
  'error messages',
  'the nightly job',
];
const DESCRIPTIONS = [
  'Customers reported this twice last week; reproduce it first, then fix and add a test.',
  'Follow the checklist in the runbook and link the pull request here when done.',
  'Blocked on the design review until the mockups are final; ask in the channel.',
  'Split into smaller tasks if it takes more than a day. Pair with someone from QA.',
  'Measure before and after; the numbers go into the weekly report.',
];

const sqlArray = (values: readonly string[]): string =>
  `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]::text[]`;

/** `'proj-000042'`: the slug of project number `n`. */
export const projectSlug = (n: number): string => `proj-${String(n).padStart(6, '0')}`;

/**
 * The task rows as a SELECT: `rows` (project, created_at, random draws), numbered by created_at.
 * Shared by the seed and by `addPendingTasks`, so both follow the same distribution.
 */
function taskColumnsSql(idExpr: string): string {
  return `
    ${idExpr} AS id,
    (${sqlArray(TITLE_VERBS)})[1 + floor(r_title * ${TITLE_VERBS.length})::int] || ' ' ||
      (${sqlArray(TITLE_OBJECTS)})[1 + floor(r_obj * ${TITLE_OBJECTS.length})::int] ||
      ' (' || project || ')' AS title,
    CASE WHEN r_desc < 0.4
      THEN (${sqlArray(DESCRIPTIONS)})[1 + floor(r_desc / 0.4 * ${DESCRIPTIONS.length})::int]
    END AS description,
    status::task_status AS status,
    (CASE WHEN r_prio < 0.25 THEN 'low' WHEN r_prio < 0.70 THEN 'medium'
          WHEN r_prio < 0.92 THEN 'high' ELSE 'critical' END)::task_priority AS priority,
    CASE status WHEN 'in_progress' THEN floor(r_pct * 91)::int
                WHEN 'review' THEN 90 + floor(r_pct * 11)::int
                WHEN 'completed' THEN 100 ELSE 0 END AS progress_percent,
    CASE WHEN status IN ('in_progress', 'review', 'completed')
           OR (status = 'blocked' AND r_user < 0.5)
         THEN users[1 + floor(r_user * cardinality(users))::int] END AS assigned_to,
    project AS project_slug,
    CASE WHEN r_due < 0.3
         THEN date_trunc('hour', now() + (r_due / 0.3 * 120 - 30) * interval '1 day') END AS due_date,
    users[1 + floor(r_creator * cardinality(users))::int] AS created_by,
    created_at,
    created_at + r_upd * (now() - created_at) AS updated_at`;
}

const TASK_COLUMNS =
  'id, title, description, status, priority, progress_percent, assigned_to, project_slug, due_date, created_by, created_at, updated_at';

/** Random draws per row; `status` from r_status with the distribution above. */
const DRAWS = `
  random() AS r_title, random() AS r_obj, random() AS r_desc, random() AS r_prio,
  random() AS r_pct, random() AS r_user, random() AS r_due, random() AS r_creator,
  random() AS r_upd`;
const STATUS_FROM = (r: string) =>
  `CASE WHEN ${r} < 0.30 THEN 'pending' WHEN ${r} < 0.65 THEN 'in_progress'
        WHEN ${r} < 0.75 THEN 'review' WHEN ${r} < 0.95 THEN 'completed' ELSE 'blocked' END`;

async function secondaryIndexes(client: Client): Promise<{ name: string; def: string }[]> {
  const result = await client.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        AND i.indexdef NOT LIKE 'CREATE UNIQUE INDEX %'
      ORDER BY i.tablename, i.indexname`,
    [SEED_TABLES],
  );
  return result.rows.map((r) => ({ name: r.indexname, def: r.indexdef }));
}

/**
 * Rebuilds the dropped indexes on two connections at once (the bench machine has two cores),
 * longest builds first: the trigram (GIN) indexes take most of the time.
 */
async function rebuildIndexes(
  connectionString: string,
  indexes: { name: string; def: string }[],
): Promise<void> {
  const queue = [...indexes].sort(
    (a, b) => Number(/USING gin/i.test(b.def)) - Number(/USING gin/i.test(a.def)),
  );
  const worker = async (): Promise<void> => {
    const client = new Client({ connectionString, application_name: 'taskflow-bench-seed' });
    await client.connect();
    try {
      await client.query(`SET maintenance_work_mem = '256MB'`);
      await client.query(`SET max_parallel_maintenance_workers = 0`);
      for (let index = queue.shift(); index; index = queue.shift()) await client.query(index.def);
    } finally {
      await client.end();
    }
  };
  await Promise.all([worker(), worker()]);
}

/**
 * The work behind each assigned task, as the moves would have logged it, appended in time order
 * (so ids follow time, as in a real log, and the database files the analytics facts as it goes):
 * - every task that was worked on (in progress, in review, completed, or blocked with a holder)
 *   was `started` by its assignee some time after it was created; one in ten of them failed a
 *   first attempt (`started`, then `failed`) before that;
 * - half reported usage once (`usage_reported`: tokens and an exact cost);
 * - of the tasks that reached review or completion, 15 % were `rejected` by their creator first;
 * - review tasks are `review_requested`; completed ones `completed` by the assignee, or 30 % of
 *   them `approved` by the creator, at the task's `updated_at`.
 * Completions thus follow `updated_at`: about 29 % of them fall in the last 30 days (recent work
 * weighs more), a busier month than a steady year would give the default summary window.
 */
async function seedHistory(client: Client): Promise<void> {
  await client.query(
    `WITH worked AS (
       SELECT t.id, t.project_slug, t.status, t.assigned_to AS holder, t.created_by AS creator,
              COALESCE(w.type, 'human'::worker_type) AS holder_type,
              COALESCE(c.type, 'human'::worker_type) AS creator_type,
              t.created_at, t.updated_at,
              t.created_at + (t.updated_at - t.created_at) * (0.1 + 0.4 * random()) AS started,
              random() < 0.1 AS failed_first, random() < 0.5 AS reported,
              random() < 0.15 AND t.status IN ('review', 'completed') AS rejected,
              random() < 0.3 AS approved, random() AS r_tokens
         FROM tasks t
         LEFT JOIN workers w ON w.id = t.assigned_to
         LEFT JOIN workers c ON c.id = t.created_by
        WHERE t.assigned_to IS NOT NULL
     ), events AS (
       SELECT id, 1 AS seq, created_at + (started - created_at) * 0.3 AS at, 'started' AS action,
              holder AS actor, holder_type AS actor_type, NULL::jsonb AS context
         FROM worked WHERE failed_first
       UNION ALL
       SELECT id, 2, created_at + (started - created_at) * 0.6, 'failed', holder, holder_type,
              jsonb_build_object('reason', 'crashed', 'retryable', true, 'attempt', 1,
                                 'next_attempt_at', NULL)
         FROM worked WHERE failed_first
       UNION ALL
       SELECT id, 3, started, 'started', holder, holder_type, NULL FROM worked
       UNION ALL
       SELECT id, 4, started + (updated_at - started) * 0.3, 'usage_reported', holder, holder_type,
              jsonb_build_object('model', 'model-a',
                                 'input_tokens', 1000 + floor(r_tokens * 90000)::int,
                                 'output_tokens', 100 + floor(r_tokens * 9000)::int,
                                 'cost_usd', round((r_tokens * 2)::numeric, 6)::text)
         FROM worked WHERE reported
       UNION ALL
       SELECT id, 5, started + (updated_at - started) * 0.5, 'rejected', creator, creator_type,
              jsonb_build_object('reason', 'needs tests')
         FROM worked WHERE rejected
       UNION ALL
       SELECT id, 6, updated_at,
              CASE WHEN status = 'review' THEN 'review_requested'
                   WHEN approved THEN 'approved' ELSE 'completed' END,
              CASE WHEN status = 'completed' AND approved THEN creator ELSE holder END,
              CASE WHEN status = 'completed' AND approved THEN creator_type ELSE holder_type END,
              NULL
         FROM worked WHERE status IN ('review', 'completed')
     )
     INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context, "timestamp")
     SELECT e.id, w.project_slug, e.actor, e.actor_type, e.action, e.context, e.at
       FROM events e JOIN worked w ON w.id = e.id
      ORDER BY e.at, e.id, e.seq`,
  );
}

/** Seeds an empty, migrated database. */
export async function seed(connectionString: string, options: SeedOptions): Promise<SeedStats> {
  const started = Date.now();
  let last = started;
  const step = (name: string) => {
    const now = Date.now();
    options.log?.(`${name} (${((now - last) / 1000).toFixed(1)} s)`);
    last = now;
  };
  const client = new Client({ connectionString, application_name: 'taskflow-bench-seed' });
  await client.connect();
  try {
    await client.query(`SET synchronous_commit = off`);
    await client.query(`SET maintenance_work_mem = '256MB'`);
    await client.query(`SET work_mem = '64MB'`);
    const indexes = await secondaryIndexes(client);
    for (const index of indexes) await client.query(`DROP INDEX "${index.name}"`);

    await client.query(`SELECT setseed(0.4242)`);
    // Enough projects for the total even if the sizes come out small; the surplus stays empty.
    const projectCount = Math.ceil((options.tasks / 100) * 1.3) + 2;
    // Every other project private, every bench user a member of each (the first one its owner):
    // the visibility rule then runs its member lookup on half the reads, as a mixed board would.
    await client.query(
      `INSERT INTO projects (slug, name, visibility, owner)
       SELECT 'proj-' || lpad(p::text, 6, '0'), 'Bench project ' || p,
              (CASE WHEN p % 2 = 0 THEN 'private' ELSE 'internal' END)::project_visibility, $2::text
         FROM generate_series(1, $1::int) AS p`,
      [projectCount, options.users[0]],
    );
    await client.query(
      `INSERT INTO project_members (project_slug, worker_id, role)
       SELECT p.slug, u, (CASE WHEN u = p.owner THEN 'owner' ELSE 'member' END)::project_role
         FROM projects p, unnest($1::text[]) AS u`,
      [options.users],
    );
    step(`${projectCount} projects with ${options.users.length} members each`);
    await client.query(
      `WITH sized AS (
         SELECT p, 20 + floor(random() * 161)::int AS size
           FROM generate_series(1, $2::int) AS p
       ), spans AS (
         SELECT p, size, sum(size) OVER (ORDER BY p) - size AS first FROM sized
       ), raw AS (
         SELECT 'proj-' || lpad(p::text, 6, '0') AS project,
                now() - random() * interval '365 days' AS created_at,
                random() AS r_status,
                ${DRAWS}
           FROM spans, generate_series(1, spans.size) AS k
          WHERE spans.first + k <= $1::int
       ), rows AS (
         SELECT raw.*, ${STATUS_FROM('r_status')} AS status, $3::text[] AS users FROM raw
       )
       INSERT INTO tasks (${TASK_COLUMNS})
       SELECT ${taskColumnsSql('row_number() OVER (ORDER BY created_at)')} FROM rows`,
      [options.tasks, projectCount, options.users],
    );
    step(`${options.tasks} tasks inserted`);
    await client.query(`SELECT setval(pg_get_serial_sequence('tasks', 'id'), $1)`, [
      Math.max(options.tasks, 1),
    ]);

    await client.query(
      `INSERT INTO workers (id, name, type)
       SELECT id, 'Bench agent ' || id, 'agent'::worker_type FROM unnest($1::text[]) AS id
       UNION ALL
       SELECT id, 'Bench human ' || id, 'human'::worker_type FROM unnest($2::text[]) AS id`,
      [options.agents, options.registeredHumans],
    );
    await client.query(
      `INSERT INTO audit_entries (task_id, project_slug, actor_id, actor_type, action, context, "timestamp")
       SELECT t.id, t.project_slug, t.created_by, COALESCE(w.type, 'human'::worker_type), 'created',
              jsonb_build_object('title', t.title, 'priority', t.priority, 'project_slug', t.project_slug),
              t.created_at
         FROM tasks t LEFT JOIN workers w ON w.id = t.created_by
        ORDER BY t.id`,
    );
    step('audit entries inserted');
    await seedHistory(client);
    step('history inserted');

    await rebuildIndexes(connectionString, indexes);
    step('indexes rebuilt');
    await client.query(
      `VACUUM (ANALYZE) tasks, audit_entries, analytics_facts, workers, projects, project_members`,
    );
    step('vacuum analyze');

    const counts = await client.query<{ status: string; n: string }>(
      `SELECT status::text AS status, count(*) AS n FROM tasks GROUP BY 1 ORDER BY 1`,
    );
    const projects = await client.query<{ n: string }>(
      `SELECT count(DISTINCT project_slug) AS n FROM tasks`,
    );
    const byStatus = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]));
    const entries = await client.query<{ n: string }>(`SELECT count(*) AS n FROM audit_entries`);
    const facts = await client.query<{ action: string; n: string }>(
      `SELECT action, count(*) AS n FROM analytics_facts
        WHERE at >= now() - interval '30 days' GROUP BY 1 ORDER BY 1`,
    );
    return {
      tasks: Object.values(byStatus).reduce((a, b) => a + b, 0),
      projects: Number(projects.rows[0].n),
      byStatus,
      auditEntries: Number(entries.rows[0].n),
      last30DaysFacts: Object.fromEntries(facts.rows.map((r) => [r.action, Number(r.n)])),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await client.end();
  }
}

/**
 * Adds `count` fresh, unassigned pending tasks to existing projects (same title/priority/due
 * distribution), for workload 5, which needs a distinct pending task per request. Returns their
 * ids in random order.
 */
export async function addPendingTasks(
  connectionString: string,
  count: number,
  projects: number,
  users: readonly string[],
): Promise<number[]> {
  const client = new Client({ connectionString, application_name: 'taskflow-bench-seed' });
  await client.connect();
  try {
    await client.query(`SET synchronous_commit = off`);
    const result = await client.query<{ id: number }>(
      `WITH raw AS (
         SELECT 'proj-' || lpad((1 + floor(random() * $2::int))::text, 6, '0') AS project,
                now() - random() * interval '2 days' AS created_at,
                'pending' AS status,
                ${DRAWS}
           FROM generate_series(1, $1::int)
       ), rows AS (
         SELECT raw.*, $3::text[] AS users FROM raw
       )
       INSERT INTO tasks (${TASK_COLUMNS})
       SELECT ${taskColumnsSql("nextval(pg_get_serial_sequence('tasks', 'id'))")} FROM rows
       RETURNING id`,
      [count, projects, users],
    );
    await client.query(`ANALYZE tasks`);
    const ids = result.rows.map((r) => r.id);
    return ids;
  } finally {
    await client.end();
  }
}

/** What the workloads need from the seeded data. */
export interface WorkloadData {
  maxSeededId: number;
  projects: string[];
  /** [id, assignee] of every in_progress task assigned to a bench user. */
  inProgress: [number, string][];
  pending: number[];
}

export async function readWorkloadData(
  connectionString: string,
  users: readonly string[],
): Promise<WorkloadData> {
  const client = new Client({ connectionString, application_name: 'taskflow-bench-seed' });
  await client.connect();
  try {
    const max = await client.query<{ max: number | null }>(`SELECT max(id) AS max FROM tasks`);
    const projects = await client.query<{ project_slug: string }>(
      `SELECT DISTINCT project_slug FROM tasks WHERE project_slug IS NOT NULL ORDER BY 1`,
    );
    const inProgress = await client.query<{ id: number; assigned_to: string }>(
      `SELECT id, assigned_to FROM tasks
        WHERE status = 'in_progress' AND assigned_to = ANY($1) ORDER BY id`,
      [users],
    );
    const pending = await client.query<{ id: number }>(
      `SELECT id FROM tasks WHERE status = 'pending' ORDER BY id`,
    );
    return {
      maxSeededId: max.rows[0].max ?? 0,
      projects: projects.rows.map((r) => r.project_slug),
      inProgress: inProgress.rows.map((r) => [r.id, r.assigned_to]),
      pending: pending.rows.map((r) => r.id),
    };
  } finally {
    await client.end();
  }
}
