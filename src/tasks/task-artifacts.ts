import { Injectable } from '@nestjs/common';
import { withinAllowedProjects } from '../access/project-access';
import { ProjectAccess } from '../access/project-access.service';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ConflictError, NotFoundError } from '../common/errors/domain-errors';
import { MAX_ARTIFACTS } from '../common/limits';
import type { ArtifactInput } from './dto/collaboration.dto';
import type { Artifact, Task } from './task.entity';
import { TaskRepository } from './task.repository';

/**
 * The artifacts of a task (what the work produced), on a task the caller's transaction has
 * locked: for `POST/DELETE /api/tasks/{id}/artifacts` and for `review` and `complete`, which add
 * theirs in the move's transaction. One artifact per URL; each change is audited
 * (`artifact_added`, `artifact_removed`).
 */
@Injectable()
export class TaskArtifacts {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly access: ProjectAccess,
    private readonly trail: AuditTrail,
  ) {}

  /** The assignee (whatever its role now), the project's writers and admins change artifacts. */
  async assertMayChange(task: Task, caller: AuthUser): Promise<void> {
    if (task.assigned_to === caller.id && withinAllowedProjects(caller, task.project_slug)) return;
    await this.access.assertWriter(task.project_slug, caller);
  }

  /**
   * Adds each artifact, or replaces the one with the same URL in its place; refused whole (409
   * `too_many_artifacts`) when the task would hold more than MAX_ARTIFACTS.
   */
  async add(task: Task, caller: AuthUser, inputs: ArtifactInput[]): Promise<Task> {
    if (inputs.length === 0) return task;
    return this.tasks.setArtifacts(task.id, this.merge(task, caller, inputs));
  }

  /**
   * The artifacts the task holds once `inputs` are added (as `add`), audited, but not written: a
   * move writes them in its own UPDATE, so that the task's version goes up once per request.
   */
  merge(task: Task, caller: AuthUser, inputs: ArtifactInput[]): Artifact[] {
    const artifacts = [...task.artifacts];
    const now = new Date().toISOString();
    for (const input of inputs) {
      const artifact: Artifact = {
        kind: input.kind,
        url: input.url,
        title: input.title ?? null,
        added_by: caller.id,
        added_at: now,
      };
      const index = artifacts.findIndex((a) => a.url === input.url);
      if (index >= 0) artifacts[index] = artifact;
      else artifacts.push(artifact);
      this.trail.recordAs('artifact_added', {
        taskId: task.id,
        projectSlug: task.project_slug,
        context: { kind: artifact.kind, url: artifact.url, title: artifact.title },
      });
    }
    if (artifacts.length > MAX_ARTIFACTS) {
      throw new ConflictError(
        `Task ${task.id} would hold ${artifacts.length} artifacts; at most ${MAX_ARTIFACTS} are kept: remove some first (DELETE /api/tasks/${task.id}/artifacts?url=…)`,
        'too_many_artifacts',
      );
    }
    return artifacts;
  }

  async remove(task: Task, url: string): Promise<Task> {
    const removed = task.artifacts.find((a) => a.url === url);
    if (!removed) {
      throw new NotFoundError(
        `Task ${task.id} has no artifact with that url`,
        'artifact_not_found',
      );
    }
    this.trail.recordAs('artifact_removed', {
      taskId: task.id,
      projectSlug: task.project_slug,
      context: { kind: removed.kind, url: removed.url, title: removed.title },
    });
    return this.tasks.setArtifacts(
      task.id,
      task.artifacts.filter((a) => a.url !== url),
    );
  }
}
