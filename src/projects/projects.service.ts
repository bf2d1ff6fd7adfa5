import { Injectable } from '@nestjs/common';
import type { ProjectRole } from '../access/project-access';
import type { ProjectMember } from '../access/project-member.entity';
import { ProjectMemberRepository } from '../access/project-member.repository';
import type { Project } from '../access/project.entity';
import { ProjectChanges, ProjectRepository } from '../access/project.repository';
import { TaskRepository } from '../tasks/task.repository';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { fieldChanges } from '../common/field-changes';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors';
import { DEFAULT_PAGE_SIZE, Page, PaginationQuery } from '../common/pagination/pagination.query';
import { CreateProjectDto } from './dto/create-project.dto';
import { SetMemberDto } from './dto/set-member.dto';
import { UpdateProjectDto } from './dto/update-project.dto';

const EDITABLE = ['name', 'description', 'visibility', 'review_policy'] as const;
type Editable = (typeof EDITABLE)[number];

/** The project as its `project_created` and `project_deleted` entries describe it. */
const snapshot = (p: Project) => ({
  slug: p.slug,
  name: p.name,
  description: p.description,
  visibility: p.visibility,
  review_policy: p.review_policy,
  owner: p.owner,
});

const notFound = (slug: string) =>
  new NotFoundError(`Project '${slug}' not found`, 'project_not_found');

/**
 * Projects and their members. A project the caller may not read is not there (404, never 403):
 * the repositories apply the visibility rule. Every write locks the project's row first, so
 * changes to one project's members run one after the other and the owner count they check
 * stays true until they commit.
 */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly members: ProjectMemberRepository,
    private readonly trail: AuditTrail,
    private readonly tasks: TaskRepository,
  ) {}

  /** The caller creates the project and becomes its first owner. */
  async create(dto: CreateProjectDto, caller: AuthUser): Promise<Project> {
    const project = await this.projects.insert({
      slug: dto.slug,
      name: dto.name,
      description: dto.description ?? null,
      visibility: dto.visibility ?? 'internal',
      review_policy: dto.review_policy ?? 'other',
      owner: caller.id,
    });
    if (project === 'retired') {
      throw new ConflictError(
        `Project slug '${dto.slug}' belonged to a deleted project and is not used again; choose another`,
        'project_slug_retired',
      );
    }
    if (project === 'taken') {
      throw new ConflictError(`Project '${dto.slug}' already exists`, 'project_exists');
    }
    await this.members.upsert(project.slug, caller.id, 'owner');
    this.trail.record({ projectSlug: project.slug, context: snapshot(project) });
    return project;
  }

  list(caller: AuthUser, query: PaginationQuery): Promise<Page<Project>> {
    return this.projects.page(caller, query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0);
  }

  async findOne(slug: string, caller: AuthUser): Promise<Project> {
    const project = await this.projects.find(slug, caller);
    if (!project) throw notFound(slug);
    return project;
  }

  async update(slug: string, dto: UpdateProjectDto, caller: AuthUser): Promise<Project> {
    const current = await this.lockAsOwner(slug, caller);
    const { changes, values } = fieldChanges<ProjectChanges, Editable>(current, dto, EDITABLE);
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return current;
    }
    if (values.visibility === 'private') {
      // Tasks elsewhere that point into the project would show its ids to non-members.
      // A referring task the owner cannot see still refuses (its readers would see the id), but
      // the answer does not name it, as for a move into a private project.
      const reference = await this.tasks.outsideReferenceTo(slug, caller);
      if (reference) {
        const referrer = reference.visible ? `Task ${reference.id}` : 'A task you cannot see';
        throw new ConflictError(
          `${referrer}, outside project '${slug}', refers to its task ${reference.target} (as parent or dependency); remove that reference before making the project private`,
          'project_referenced',
        );
      }
    }
    const updated = await this.projects.update(slug, values);
    this.trail.record({ projectSlug: slug, context: changes });
    return updated;
  }

  /**
   * Deletes a project; refused while any task is in it. The project is retired, not removed: its
   * members keep reading its history, and its slug is never given to another project. The lock
   * makes a concurrent placement of a task there either finish first (and be counted here) or
   * wait and find the project gone.
   */
  async remove(slug: string, caller: AuthUser): Promise<void> {
    await this.lockAsOwner(slug, caller);
    if (await this.tasks.anyInProject(slug)) {
      throw new ConflictError(
        `Project '${slug}' still has tasks; move or delete them first`,
        'project_has_tasks',
      );
    }
    const deleted = await this.projects.retire(slug);
    if (!deleted) throw notFound(slug);
    this.trail.record({ projectSlug: slug, context: snapshot(deleted) });
  }

  /** A project's members, for anyone who may read the project. */
  async listMembers(
    slug: string,
    caller: AuthUser,
    query: PaginationQuery,
  ): Promise<Page<ProjectMember>> {
    await this.findOne(slug, caller);
    return this.members.page(slug, query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0);
  }

  /**
   * Adds a member, or changes its role (`added` tells which). Setting the role it already has
   * changes nothing and records nothing. The last owner cannot be demoted.
   */
  async setMember(
    slug: string,
    dto: SetMemberDto,
    caller: AuthUser,
  ): Promise<{ member: ProjectMember; added: boolean }> {
    await this.lockAsOwner(slug, caller);
    const previous = await this.members.roleOf(slug, dto.worker_id);
    if (previous === dto.role) {
      this.trail.unchanged();
      const member = await this.members.find(slug, dto.worker_id);
      if (!member) throw new Error(`unreachable: ${dto.worker_id} has a role but no membership`);
      return { member, added: false };
    }
    if (previous === 'owner') await this.assertNotLastOwner(slug, dto.worker_id, 'demoted');
    const { member } = await this.members.upsert(slug, dto.worker_id, dto.role);
    this.trail.record({
      projectSlug: slug,
      context: { worker_id: dto.worker_id, role: dto.role, previous_role: previous ?? null },
    });
    return { member, added: previous === undefined };
  }

  /** Owners and admins remove anyone; any member may remove itself. Never the last owner. */
  async removeMember(slug: string, workerId: string, caller: AuthUser): Promise<void> {
    if (workerId === caller.id) {
      if (!(await this.projects.lock(slug, caller))) throw notFound(slug);
    } else {
      await this.lockAsOwner(slug, caller);
    }
    const role = await this.members.roleOf(slug, workerId);
    if (role === undefined) {
      throw new NotFoundError(
        `${workerId} is not a member of project '${slug}'`,
        'member_not_found',
      );
    }
    if (role === 'owner') await this.assertNotLastOwner(slug, workerId, 'removed');
    await this.members.delete(slug, workerId);
    this.trail.record({ projectSlug: slug, context: { worker_id: workerId, role } });
  }

  /**
   * Locks the project for a change only its owners (and admins) make: 404 when the caller may
   * not even see it, 403 when it may see it but does not own it.
   */
  private async lockAsOwner(slug: string, caller: AuthUser): Promise<Project> {
    const project = await this.projects.lock(slug, caller);
    if (!project) throw notFound(slug);
    if (caller.isAdmin) return project;
    const role: ProjectRole | undefined = await this.members.roleOf(slug, caller.id);
    if (role !== 'owner') {
      throw new ForbiddenError(
        `Project '${slug}' is managed by its owners; you are ${role ? `a ${role}` : 'not a member'}`,
        'project_owner_required',
      );
    }
    return project;
  }

  /** Called with the project locked, so no concurrent change can take the other owners away. */
  private async assertNotLastOwner(slug: string, workerId: string, what: string): Promise<void> {
    if ((await this.members.countOwners(slug)) <= 1) {
      throw new ConflictError(
        `${workerId} is the last owner of project '${slug}' and cannot be ${what}; make someone else an owner first`,
        'last_owner',
      );
    }
  }
}
