import { Injectable } from '@nestjs/common';
import { ForbiddenError, ValidationFailedError } from '../common/errors/domain-errors';
import { Viewer, WRITER_ROLES, withinAllowedProjects } from './project-access';
import { ProjectMemberRepository } from './project-member.repository';
import { ProjectRepository } from './project.repository';

/**
 * The writes that are not moves (creating a task, editing its fields, deleting it, its
 * dependencies): on a project's tasks, only its owners and members (and admins) make them. Moves
 * carry the same rule in their table (task-moves.ts). Reads need no check here: the
 * repositories return nothing the caller may not see.
 */
@Injectable()
export class ProjectAccess {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly members: ProjectMemberRepository,
  ) {}

  /** 403 unless the caller may change tasks of `slug` (null: the shared board, open to all). */
  async assertWriter(slug: string | null, caller: Viewer): Promise<void> {
    if (!withinAllowedProjects(caller, slug)) {
      throw new ForbiddenError(
        `This API key is limited to the projects ${caller.projects!.join(', ')}; it cannot change ${slug === null ? 'the shared board' : `project '${slug}'`}`,
        'not_project_member',
      );
    }
    if (slug === null || caller.isAdmin) return;
    const role = await this.members.roleOf(slug, caller.id);
    if (role === undefined || !WRITER_ROLES.includes(role)) {
      throw new ForbiddenError(
        `Project '${slug}' is changed by its owners and members; you are ${role === 'viewer' ? 'a viewer' : 'not a member'}`,
        'not_project_member',
      );
    }
  }

  /**
   * A task's `project_slug` (on create, or a PATCH that moves it): the project must exist, not
   * be deleted, and be visible to the caller (422 otherwise, as for any reference to nothing),
   * and the caller must write there. The project stays locked until the task is written, so it
   * cannot be deleted, nor the caller's membership taken away, in between.
   */
  async assertCanPlaceIn(slug: string | null | undefined, caller: Viewer): Promise<void> {
    if (slug === null || slug === undefined) return this.assertWriter(null, caller);
    if (!(await this.projects.findForPlacement(slug, caller))) {
      throw ValidationFailedError.field(
        'project_slug',
        `project_slug '${slug}': no such project (create it with POST /api/projects)`,
      );
    }
    await this.assertWriter(slug, caller);
  }

  /**
   * A task of project `from` may point at (depend on, or sit under) a task of project `to` only
   * if everyone who sees the first also sees the second: the same project, the shared board, or
   * an internal project. Otherwise its `blocked_by` or `parent_id` would show a private task's id
   * to people outside that project.
   */
  async assertReferable(
    from: string | null,
    to: string | null,
    field: string,
    toId: number,
  ): Promise<void> {
    if (to === null || to === from) return;
    if ((await this.projects.visibilityOf(to)) === 'internal') return;
    throw ValidationFailedError.field(
      field,
      `task ${toId} belongs to private project '${to}'; only tasks of that project may refer to it`,
    );
  }

  /** The role a worker holds in a project, if any (for checks on someone else, e.g. a holder). */
  roleOf(slug: string, workerId: string) {
    return this.members.roleOf(slug, workerId);
  }
}
