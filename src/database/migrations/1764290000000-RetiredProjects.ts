import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleIdentifier } from '../app-role';

/**
 * Deleting a project retires it instead of removing its row: `deleted_at` is set, its members
 * stay, and its slug is never handed out again. Its history is read through the visibility
 * rule, which looks the slug up in `projects`; with the row gone, whoever created a project of
 * the same slug would inherit that history, and the deleted project's own members would lose it.
 *
 * The API may no longer delete a project row at all (its privilege is revoked), so the rule does
 * not rest on the service alone.
 *
 * Projects deleted before this migration come back as retired rows, rebuilt from their history:
 * the `project_deleted` entry's snapshot, and the members at deletion replayed from the
 * `project_created`, `member_added` and `member_removed` entries since the project was last
 * created. A slug that has already been taken again keeps its current project: its entries
 * cannot be told apart by slug, so that history stays with the current holder, as before.
 */
export class RetiredProjects1764290000000 implements MigrationInterface {
  name = 'RetiredProjects1764290000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "projects" ADD "deleted_at" timestamptz`);

    await q.query(`
      CREATE TEMPORARY TABLE "retired" AS
      SELECT d."project_slug" AS "slug", d."id" AS "deleted_id", d."timestamp" AS "deleted_at",
             d."context", d."actor_id",
             COALESCE((SELECT max(c."id") FROM "audit_entries" c
                        WHERE c."project_slug" = d."project_slug" AND c."action" = 'project_created'
                          AND c."id" < d."id"), 0) AS "created_id"
        FROM (SELECT DISTINCT ON ("project_slug") * FROM "audit_entries"
               WHERE "action" = 'project_deleted' AND "project_slug" IS NOT NULL
               ORDER BY "project_slug", "id" DESC) AS d
       WHERE NOT EXISTS (SELECT 1 FROM "projects" p WHERE p."slug" = d."project_slug")`);
    await q.query(`
      INSERT INTO "projects" ("slug", "name", "description", "visibility", "owner", "created_at",
                              "updated_at", "deleted_at")
      SELECT r."slug", left(COALESCE(r."context" ->> 'name', r."slug"), 200),
             r."context" ->> 'description',
             CASE WHEN r."context" ->> 'visibility' = 'internal' THEN 'internal'
                  ELSE 'private' END::"project_visibility",
             COALESCE(r."context" ->> 'owner', r."actor_id"),
             COALESCE((SELECT c."timestamp" FROM "audit_entries" c WHERE c."id" = r."created_id"),
                      r."deleted_at"),
             r."deleted_at", r."deleted_at"
        FROM "retired" r`);
    // The last word on each worker before the deletion wins; a removal leaves no row.
    await q.query(`
      INSERT INTO "project_members" ("project_slug", "worker_id", "role", "added_at")
      SELECT "slug", "worker_id", "role"::"project_role", "at"
        FROM (SELECT DISTINCT ON (m."slug", m."worker_id") m.*
                FROM (SELECT r."slug", COALESCE(r."context" ->> 'owner', r."actor_id") AS "worker_id",
                             'owner' AS "role", r."created_id" AS "id", r."deleted_at" AS "at"
                        FROM "retired" r
                      UNION ALL
                      SELECT r."slug", e."context" ->> 'worker_id',
                             CASE WHEN e."action" = 'member_added' THEN e."context" ->> 'role' END,
                             e."id", e."timestamp"
                        FROM "retired" r
                        JOIN "audit_entries" e ON e."project_slug" = r."slug"
                         AND e."id" > r."created_id" AND e."id" < r."deleted_id"
                         AND e."action" IN ('member_added', 'member_removed')) AS m
               WHERE m."worker_id" IS NOT NULL
               ORDER BY m."slug", m."worker_id", m."id" DESC) AS last
       WHERE "role" IN ('owner', 'member', 'viewer')`);
    await q.query(`DROP TABLE "retired"`);

    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`REVOKE DELETE ON "projects" FROM ${role}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    const role = await appRoleIdentifier((sql) => q.query(sql));
    await q.query(`GRANT DELETE ON "projects" TO ${role}`);
    // Their members go with them (fk_project_members_project cascades).
    await q.query(`DELETE FROM "projects" WHERE "deleted_at" IS NOT NULL`);
    await q.query(`ALTER TABLE "projects" DROP COLUMN "deleted_at"`);
  }
}
