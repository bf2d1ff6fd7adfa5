import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import { TableRepository } from '../database/table-repository';
import type { ProjectRole } from './project-access';
import { ProjectMember } from './project-member.entity';

const toMember = (row: ProjectMember): ProjectMember => ({
  project_slug: row.project_slug,
  worker_id: row.worker_id,
  role: row.role,
  added_at: row.added_at,
});

/** The `project_members` table: each worker's role in a project. */
@Injectable()
export class ProjectMemberRepository extends TableRepository<ProjectMember> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, ProjectMember);
  }

  async roleOf(slug: string, workerId: string): Promise<ProjectRole | undefined> {
    const [row] = await this.select<{ role: ProjectRole }>(
      `SELECT role FROM project_members WHERE project_slug = $1 AND worker_id = $2`,
      [slug, workerId],
    );
    return row?.role;
  }

  /** One membership, if the worker is a member. */
  async find(slug: string, workerId: string): Promise<ProjectMember | undefined> {
    const [row] = await this.select<ProjectMember>(
      `SELECT * FROM project_members WHERE project_slug = $1 AND worker_id = $2`,
      [slug, workerId],
    );
    return row && toMember(row);
  }

  /** Adds a member or changes its role; returns the member and its role before (if any). */
  async upsert(
    slug: string,
    workerId: string,
    role: ProjectRole,
  ): Promise<{ member: ProjectMember; previous: ProjectRole | null }> {
    const previous = await this.roleOf(slug, workerId);
    const [row] = await this.write<ProjectMember>(
      `INSERT INTO project_members (project_slug, worker_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (project_slug, worker_id) DO UPDATE SET role = EXCLUDED.role RETURNING *`,
      [slug, workerId, role],
    );
    return { member: toMember(row), previous: previous ?? null };
  }

  /** Removes a member; undefined when it was none. */
  async delete(slug: string, workerId: string): Promise<ProjectMember | undefined> {
    const [row] = await this.write<ProjectMember>(
      `DELETE FROM project_members WHERE project_slug = $1 AND worker_id = $2 RETURNING *`,
      [slug, workerId],
    );
    return row && toMember(row);
  }

  async countOwners(slug: string): Promise<number> {
    const [{ owners }] = await this.select<{ owners: number }>(
      `SELECT count(*)::integer AS owners FROM project_members WHERE project_slug = $1 AND role = 'owner'`,
      [slug],
    );
    return owners;
  }

  /** A project's members by worker id, and how many there are. */
  async page(slug: string, limit: number, offset: number): Promise<Page<ProjectMember>> {
    const rows = await this.select<ProjectMember>(
      `SELECT * FROM project_members WHERE project_slug = $1 ORDER BY worker_id LIMIT $2 OFFSET $3`,
      [slug, limit, offset],
    );
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM project_members WHERE project_slug = $1`,
      [slug],
    );
    return { items: rows.map(toMember), total };
  }
}
