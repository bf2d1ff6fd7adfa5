import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleIdentifier } from '../app-role';

/**
 * What the API's own role (DATABASE_APP_ROLE) may do, and nothing more. It owns nothing, so it
 * cannot ALTER, DROP or disable a trigger; it holds no TRUNCATE; on the audit log it may only
 * read and append, and only the columns a new entry describes (the id, time and hash chain are
 * the database's). A migration that adds a table grants here what the API needs of it
 * (`test/database-roles.e2e-spec.ts` fails for a table the role cannot use).
 *
 * The role is created (without login) when missing, so the grants can be made; `npm start`
 * and `npm run migrate` give it its login and password (`ensureAppRole`).
 */
export class AppRoleGrants1764260000000 implements MigrationInterface {
  name = 'AppRoleGrants1764260000000';

  public async up(q: QueryRunner): Promise<void> {
    const role = await appRoleIdentifier((sql) => q.query(sql));
    // Roles are server-wide: another migration run may create it at the same moment.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${role} NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    // PostgreSQL 15 no longer lets every role create objects in `public`; older servers do.
    await q.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await q.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON tasks, workers, idempotency_keys TO ${role}`,
    );
    await q.query(`GRANT SELECT, INSERT, DELETE ON task_dependencies TO ${role}`);
    await q.query(`GRANT SELECT ON audit_entries TO ${role}`);
    await q.query(
      `GRANT INSERT (task_id, project_slug, actor_id, actor_type, action, context) ON audit_entries TO ${role}`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    const role = await appRoleIdentifier((sql) => q.query(sql));
    // The role itself stays: it is the whole server's, and other databases may use it.
    await q.query(
      `REVOKE ALL ON tasks, workers, idempotency_keys, task_dependencies, audit_entries FROM ${role}`,
    );
    await q.query(`REVOKE ALL ON SCHEMA public FROM ${role}`);
  }
}
