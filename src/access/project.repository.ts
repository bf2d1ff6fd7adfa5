import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import { TableRepository } from '../database/table-repository';
import {
  allowedProjectsOf,
  type ProjectVisibility,
  type ReviewPolicy,
  type Viewer,
} from './project-access';
import { Project } from './project.entity';

/**
 * SQL: true when `slug` is within the caller's project allow-list (`allowed`, a placeholder for
 * a `varchar[]`, NULL when the caller has none, see `Viewer.projects`). The shared board (a NULL
 * slug) is outside every list. Never NULL itself, so that `NOT` of it means what it says.
 */
export const withinAllowed = (slug: string, allowed: string): string =>
  `(${allowed}::varchar[] IS NULL OR COALESCE(${slug} = ANY(${allowed}::varchar[]), false))`;

/**
 * SQL: true when the viewer may read what belongs to project `slug` (an expression; NULL is the
 * shared board, open to everyone). `viewer`, `admin` and `allowed` are placeholders for the
 * caller's id, admin flag and project allow-list (`withinAllowed`). Every query that returns tasks, audit entries or projects applies it, so no route
 * can forget it; a row the caller may not see is simply not there (404, never 403).
 *
 * A deleted project keeps its row and its members (`deleted_at`): its history stays readable by
 * those who were its members when it went, whatever its visibility was, and by admins.
 */
export const readableProject = (
  slug: string,
  viewer: string,
  admin: string,
  allowed: string,
): string =>
  `(${withinAllowed(slug, allowed)} AND (${slug} IS NULL OR ${admin}::boolean OR EXISTS (
     SELECT 1 FROM projects vp WHERE vp.slug = ${slug}
       AND ((vp.visibility = 'internal' AND vp.deleted_at IS NULL)
         OR EXISTS (SELECT 1 FROM project_members vm
                     WHERE vm.project_slug = vp.slug AND vm.worker_id = ${viewer}::varchar)))))`;

/**
 * The rule of `readableProject` for statements that read many tasks in an order (a page of the
 * list, its bounded count): `visibleTasksFrom(viewer)` is their FROM item, `tasks t` with its
 * project and the viewer's membership joined on unique keys, and `readableJoined(admin, allowed)`
 * their condition. Same rows as `readableProject('t.project_slug', …)`. Why a join: PostgreSQL
 * may run readableProject's EXISTS as a hashed subplan, which first reads every project the
 * viewer may read (at 10,000 projects about 6 ms per statement, paid by a page of 51 rows too);
 * it costs joins knowing the LIMIT, and probes per project (memoized) when the page is small.
 */
export const visibleTasksFrom = (viewer: string): string => `tasks t
  LEFT JOIN projects vp ON vp.slug = t.project_slug
  LEFT JOIN project_members vm ON vm.project_slug = t.project_slug AND vm.worker_id = ${viewer}::varchar`;

/**
 * SQL: `readableProject`'s own condition on a project joined as `vp` with the viewer's
 * membership of it joined as `vm` (`visibleTasksFrom`, `readableProjectAmongMany`).
 */
const READABLE_WHEN_JOINED = `(vp.visibility = 'internal' AND vp.deleted_at IS NULL) OR vm.worker_id IS NOT NULL`;

/** The condition of `visibleTasksFrom`'s rows the viewer may read (see there). */
export const readableJoined = (admin: string, allowed: string): string =>
  `(${withinAllowed('t.project_slug', allowed)} AND (t.project_slug IS NULL OR ${admin}::boolean
     OR ${READABLE_WHEN_JOINED}))`;

/**
 * The rule of `readableProject` for a statement that reads a great many rows of a few thousand
 * projects (the analytics summary: about 100,000 facts in a month at a million tasks): the
 * projects the viewer may read are listed once (a hashed subplan; about 15 ms for a member of
 * 13,000 projects) and each row probes that set. A list page does the opposite
 * (`visibleTasksFrom`), as it reads a few rows and must not pay for listing every project.
 */
export const readableProjectAmongMany = (
  slug: string,
  viewer: string,
  admin: string,
  allowed: string,
): string =>
  `(${withinAllowed(slug, allowed)} AND (${slug} IS NULL OR ${admin}::boolean OR ${slug} IN (
     SELECT vp.slug FROM projects vp
       LEFT JOIN project_members vm ON vm.project_slug = vp.slug AND vm.worker_id = ${viewer}::varchar
      WHERE ${READABLE_WHEN_JOINED})))`;

/** SQL: a project the viewer may see as a project (not deleted, and readable). */
const liveAndReadable = (viewer: string, admin: string, allowed: string): string =>
  `p.deleted_at IS NULL AND ${readableProject('p.slug', viewer, admin, allowed)}`;

/** The fields an owner may change. */
export type ProjectChanges = Partial<
  Pick<Project, 'name' | 'description' | 'visibility' | 'review_policy'>
>;

const toProject = (row: Project): Project => ({
  slug: row.slug,
  name: row.name,
  description: row.description,
  visibility: row.visibility,
  review_policy: row.review_policy,
  owner: row.owner,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** The `projects` table. */
@Injectable()
export class ProjectRepository extends TableRepository<Project> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Project);
  }

  /** Creates a project; `taken` when the slug is in use, `retired` when a deleted project had it. */
  async insert(project: {
    slug: string;
    name: string;
    description: string | null;
    visibility: ProjectVisibility;
    review_policy: ReviewPolicy;
    owner: string;
  }): Promise<Project | 'taken' | 'retired'> {
    const [row] = await this.write<Project>(
      `INSERT INTO projects (slug, name, description, visibility, review_policy, owner)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slug) DO NOTHING RETURNING *`,
      [
        project.slug,
        project.name,
        project.description,
        project.visibility,
        project.review_policy,
        project.owner,
      ],
    );
    if (row) return toProject(row);
    const [holder] = await this.select<{ retired: boolean }>(
      `SELECT deleted_at IS NOT NULL AS retired FROM projects WHERE slug = $1`,
      [project.slug],
    );
    return holder?.retired ? 'retired' : 'taken';
  }

  /** The project if it is not deleted and the viewer may see it. */
  async find(slug: string, viewer: Viewer): Promise<Project | undefined> {
    const [row] = await this.select<Project>(
      `SELECT * FROM projects p WHERE p.slug = $1 AND ${liveAndReadable('$2', '$3', '$4')}`,
      [slug, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row && toProject(row);
  }

  /**
   * `find`, held (FOR SHARE) until the transaction ends, for placing a task in the project: a
   * deletion, or a change to its members, waits for the placement to commit, and a placement
   * that waited for a deletion finds no project (the row is checked again once it is free).
   */
  async findForPlacement(slug: string, viewer: Viewer): Promise<Project | undefined> {
    const [row] = await this.write<Project>(
      `SELECT * FROM projects p WHERE p.slug = $1 AND ${liveAndReadable('$2', '$3', '$4')} FOR SHARE OF p`,
      [slug, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row && toProject(row);
  }

  /**
   * The project's visibility, held (FOR SHARE) until the transaction ends: a reference made on
   * the strength of it cannot race a change to private.
   */
  async visibilityOf(slug: string): Promise<ProjectVisibility | undefined> {
    const [row] = await this.write<{ visibility: ProjectVisibility }>(
      `SELECT visibility FROM projects WHERE slug = $1 FOR SHARE`,
      [slug],
    );
    return row?.visibility;
  }

  /** `find`, locked until the transaction ends (for a read-modify-write). */
  async lock(slug: string, viewer: Viewer): Promise<Project | undefined> {
    const [row] = await this.write<Project>(
      `SELECT * FROM projects p WHERE p.slug = $1 AND ${liveAndReadable('$2', '$3', '$4')}
       FOR NO KEY UPDATE OF p`,
      [slug, viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)],
    );
    return row && toProject(row);
  }

  /**
   * Which of `viewers` (non-admins) may read which of `slugs`, in one statement: the event feed
   * asks it once per batch of entries for every connected viewer, by the same rule as every read.
   * Per worker, not per credential: the feed applies a key's project allow-list itself.
   */
  async readablePairs(
    viewers: string[],
    slugs: string[],
  ): Promise<{ viewer: string; slug: string }[]> {
    return this.select<{ viewer: string; slug: string }>(
      `SELECT v AS viewer, s AS slug FROM unnest($1::varchar[]) AS v, unnest($2::varchar[]) AS s
        WHERE ${readableProject('s', 'v', 'false', 'NULL')}`,
      [viewers, slugs],
    );
  }

  /** The projects the viewer may see, by slug, and how many there are. */
  async page(viewer: Viewer, limit: number, offset: number): Promise<Page<Project>> {
    const visible = liveAndReadable('$1', '$2', '$3');
    const params = [viewer.id, viewer.isAdmin, allowedProjectsOf(viewer)];
    const rows = await this.select<Project>(
      `SELECT * FROM projects p WHERE ${visible} ORDER BY p.slug ASC LIMIT $4 OFFSET $5`,
      [...params, limit, offset],
    );
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM projects p WHERE ${visible}`,
      params,
    );
    return { items: rows.map(toProject), total };
  }

  async update(slug: string, changes: ProjectChanges): Promise<Project> {
    const [row] = await this.write<Project>(
      `UPDATE projects SET name = COALESCE($2, name),
              description = CASE WHEN $3::boolean THEN $4 ELSE description END,
              visibility = COALESCE($5, visibility),
              review_policy = COALESCE($6, review_policy), updated_at = now()
        WHERE slug = $1 RETURNING *`,
      [
        slug,
        changes.name ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.visibility ?? null,
        changes.review_policy ?? null,
      ],
    );
    return toProject(row);
  }

  /** Marks a project deleted; its row and members stay, for its history and its slug. */
  async retire(slug: string): Promise<Project | undefined> {
    const [row] = await this.write<Project>(
      `UPDATE projects SET deleted_at = now(), updated_at = now()
        WHERE slug = $1 AND deleted_at IS NULL RETURNING *`,
      [slug],
    );
    return row && toProject(row);
  }
}
