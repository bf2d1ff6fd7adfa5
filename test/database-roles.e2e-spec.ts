import { Client } from 'pg';
import { sql } from './support/database';
import { TEST_APP_ROLE } from './support/env';
import { createTask, startApp, stopApp } from './support/board';
import { Actor, TestApp } from './support/test-app';

/**
 * The API's own credentials cannot rewrite the audit log: every way round the append-only
 * trigger that worked for the superuser `postgres` is tried with the app role's connection, the
 * very one the API under test uses.
 */
describe('Database roles: the API runs as a role that cannot tamper (e2e)', () => {
  let t: TestApp;
  let owner: Client;
  let app: Client;
  let alice: Actor;

  beforeAll(async () => {
    ({ t, db: owner } = await startApp());
    app = await sql(t.config.database.url);
    alice = await t.actor('alice');
    await createTask(alice, { title: 'Recorded' }); // an entry to attack
  });

  afterAll(() => stopApp(t, app, owner));

  const entries = async () =>
    (await owner.query('SELECT id, actor_id, hash FROM audit_entries ORDER BY id')).rows;

  it('is the role the API connects as', async () => {
    expect(new URL(t.config.database.url).username).toBe(TEST_APP_ROLE);
    const { rows } = await app.query('SELECT current_user AS role');
    expect(rows[0].role).toBe(TEST_APP_ROLE);
  });

  it.each([
    ['UPDATE', `UPDATE audit_entries SET actor_id = 'mallory'`],
    ['DELETE', 'DELETE FROM audit_entries'],
    ['TRUNCATE', 'TRUNCATE audit_entries'],
    ['DISABLE TRIGGER', 'ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete'],
    ['DISABLE TRIGGER ALL', 'ALTER TABLE audit_entries DISABLE TRIGGER ALL'],
    ['SET session_replication_role', 'SET session_replication_role = replica'],
    ['ALTER TABLE', 'ALTER TABLE audit_entries ADD COLUMN note text'],
    ['DROP TRIGGER', 'DROP TRIGGER audit_entries_chain ON audit_entries'],
    ['DROP TABLE', 'DROP TABLE audit_entries'],
    [
      'CREATE OR REPLACE the hash function',
      `CREATE OR REPLACE FUNCTION audit_entry_hash(bigint, integer, integer, varchar, varchar, worker_type, varchar, jsonb, timestamptz, char) RETURNS char(64) LANGUAGE sql AS $$ SELECT $10 $$`,
    ],
    ['CREATE TABLE', 'CREATE TABLE shadow (id int)'],
    [
      'INSERT with its own hash',
      `INSERT INTO audit_entries (task_id, actor_id, actor_type, action, chain_seq, hash) VALUES (1, 'x', 'human', 'created', 1, repeat('0', 64))`,
    ],
    [
      'INSERT with its own timestamp',
      `INSERT INTO audit_entries (task_id, actor_id, actor_type, action, "timestamp") VALUES (1, 'x', 'human', 'created', '2020-01-01')`,
    ],
  ])('refuses %s', async (_what, statement) => {
    const before = await entries();
    const error = await app.query(statement).then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    );
    expect(error).toBeDefined();
    // 42501 insufficient_privilege (the trigger raises the same code for UPDATE/DELETE);
    // 42501 "must be owner" for ALTER/DROP/CREATE OR REPLACE.
    expect({ statement, code: error!.code }).toEqual({ statement, code: '42501' });
    expect(await entries()).toEqual(before);
    expect((await app.query('SHOW session_replication_role')).rows[0]).toEqual({
      session_replication_role: 'origin',
    });
  });

  it('owns nothing and holds no role attributes', async () => {
    const { rows } = await owner.query(
      `SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
              (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS relations,
              (SELECT count(*)::int FROM pg_proc p WHERE p.proowner = r.oid) AS functions,
              (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
         FROM pg_roles r WHERE r.rolname = $1`,
      [TEST_APP_ROLE],
    );
    expect(rows).toEqual([
      {
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
        rolreplication: false,
        relations: 0,
        functions: 0,
        memberships: 0,
      },
    ]);
  });

  it('holds exactly the privileges the API uses, table by table', async () => {
    const { rows } = await owner.query<{ table_name: string; privileges: string }>(
      `SELECT t.table_name,
              string_agg(p.privilege_type, ',' ORDER BY p.privilege_type) AS privileges
         FROM information_schema.tables t
         LEFT JOIN information_schema.role_table_grants p
           ON p.table_name = t.table_name AND p.table_schema = t.table_schema AND p.grantee = $1
        WHERE t.table_schema = 'public'
        GROUP BY t.table_name ORDER BY t.table_name`,
      [TEST_APP_ROLE],
    );
    // A new table without grants shows up here as null: its migration must grant what it needs.
    expect(Object.fromEntries(rows.map((r) => [r.table_name, r.privileges]))).toEqual({
      // Kept by the database's own triggers from the audit log (AnalyticsFacts): read only.
      analytics_facts: 'SELECT',
      // Plus UPDATE of revoked_at and last_used_at only (below): a key's secret never changes.
      api_keys: 'INSERT,SELECT',
      audit_entries: 'SELECT',
      idempotency_keys: 'DELETE,INSERT,SELECT,UPDATE',
      migrations: null,
      project_members: 'DELETE,INSERT,SELECT,UPDATE',
      // Deleting a project retires its row (RetiredProjects): the API never removes one.
      projects: 'INSERT,SELECT,UPDATE',
      // Append-only, like the audit log (its trigger refuses UPDATE and DELETE besides).
      task_comments: 'INSERT,SELECT',
      task_dependencies: 'DELETE,INSERT,SELECT',
      tasks: 'DELETE,INSERT,SELECT,UPDATE',
      webhook_deliveries: 'INSERT,SELECT',
      webhooks: 'DELETE,INSERT,SELECT,UPDATE',
      workers: 'DELETE,INSERT,SELECT,UPDATE',
    });
    const columns = await owner.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.column_privileges
        WHERE grantee = $1 AND table_name = 'audit_entries' AND privilege_type = 'INSERT'
        ORDER BY column_name`,
      [TEST_APP_ROLE],
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual([
      'action',
      'actor_id',
      'actor_type',
      'client',
      'context',
      'key_id',
      'project_slug',
      'task_id',
    ]);
    const keyColumns = await owner.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.column_privileges
        WHERE grantee = $1 AND table_name = 'api_keys' AND privilege_type = 'UPDATE'
        ORDER BY column_name`,
      [TEST_APP_ROLE],
    );
    expect(keyColumns.rows.map((r) => r.column_name)).toEqual(['last_used_at', 'revoked_at']);
  });

  it('reports no warning at /api/health/db', async () => {
    const res = await t.anonymous.get('/api/health/db').expect(200);
    expect(res.body).toEqual({ database: 'connected' });
  });

  it('reports a superuser connection at /api/health/db', async () => {
    const privileged = await TestApp.start({
      identity: t.identity,
      databaseUrl: t.databaseUrl,
      env: { DATABASE_URL: t.databaseUrl },
    });
    try {
      const res = await privileged.anonymous.get('/api/health/db').expect(200);
      expect(res.body).toEqual({
        database: 'connected',
        warning: expect.stringMatching(/^connected as a superuser: /),
      });
    } finally {
      await privileged.close();
    }
  });

  it('reports the owner of audit_entries at /api/health/db', async () => {
    const ownerRole = `taskflow_test_owner_${process.pid}`;
    await owner.query(`CREATE ROLE ${ownerRole} LOGIN`);
    try {
      await owner.query(`ALTER TABLE audit_entries OWNER TO ${ownerRole}`);
      const url = new URL(t.databaseUrl);
      url.username = ownerRole;
      const privileged = await TestApp.start({
        identity: t.identity,
        databaseUrl: t.databaseUrl,
        env: { DATABASE_URL: url.toString() },
      });
      try {
        const res = await privileged.anonymous.get('/api/health/db').expect(200);
        expect(res.body.warning).toMatch(/^connected as the owner of audit_entries: /);
      } finally {
        await privileged.close();
      }
    } finally {
      await owner.query(`ALTER TABLE audit_entries OWNER TO postgres`);
      await owner.query(`DROP ROLE ${ownerRole}`);
    }
  });
});
