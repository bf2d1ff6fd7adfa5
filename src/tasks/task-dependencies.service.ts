import { Injectable } from '@nestjs/common';
import { ProjectAccess } from '../access/project-access.service';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import {
  ConflictError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { TaskDependencyRepository } from './task-dependency.repository';
import { Task } from './task.entity';
import { TaskRepository } from './task.repository';

/**
 * "Task A is blocked by task B": A cannot be started (nor claimed) until B is completed.
 * The graph stays acyclic; its changes are audited on the dependent task.
 */
@Injectable()
export class TaskDependenciesService {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly dependencies: TaskDependencyRepository,
    private readonly trail: AuditTrail,
    private readonly access: ProjectAccess,
  ) {}

  /** Changing what a task waits for is a write on that task: its project's members make it. */
  async add(taskId: number, dependsOnId: number, caller: AuthUser): Promise<void> {
    if (taskId === dependsOnId) {
      throw ValidationFailedError.field('other_id', 'a task cannot depend on itself');
    }
    // A → B closes a loop only through what B already depends on: hold the reference locks of A
    // and of B's closure, which every addition of an edge inside that closure also takes. They
    // come first, so the projects read below are those a concurrent move between projects
    // (which holds its task's lock too) has committed.
    await this.tasks.lockReferences(async () => [
      taskId,
      ...(await this.dependencies.closure(dependsOnId)),
    ]);
    const [task, other] = await this.existing(taskId, dependsOnId, caller);
    await this.access.assertWriter(task.project_slug, caller);
    await this.access.assertReferable(task.project_slug, other.project_slug, 'other_id', other.id);
    // Would B (transitively) depend on A already? Then A -> B closes a loop.
    if (await this.dependencies.reaches(dependsOnId, taskId)) {
      throw new ConflictError(
        `Task ${dependsOnId} already depends on task ${taskId}: adding this would make a cycle`,
        'dependency_cycle',
      );
    }
    if (!(await this.dependencies.insert(taskId, dependsOnId))) {
      this.trail.unchanged();
      return;
    }
    this.trail.record({
      taskId,
      projectSlug: task.project_slug,
      context: { depends_on: dependsOnId },
    });
  }

  async remove(taskId: number, dependsOnId: number, caller: AuthUser): Promise<void> {
    const task = await this.tasks.find(taskId, caller);
    if (!task) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    await this.access.assertWriter(task.project_slug, caller);
    if (!(await this.dependencies.delete(taskId, dependsOnId))) {
      throw new NotFoundError(
        `Task ${taskId} does not depend on task ${dependsOnId}`,
        'dependency_not_found',
      );
    }
    this.trail.record({
      taskId,
      projectSlug: task.project_slug,
      context: { depends_on: dependsOnId },
    });
  }

  /** Both tasks, locked against deletion for this transaction; 404 names the missing one. */
  private async existing(
    taskId: number,
    dependsOnId: number,
    caller: AuthUser,
  ): Promise<[Task, Task]> {
    const found = await this.tasks.keepFromDeletion([taskId, dependsOnId], caller);
    const task = found.find((t) => t.id === taskId);
    if (!task) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    const other = found.find((t) => t.id === dependsOnId);
    if (!other) throw new NotFoundError(`Task ${dependsOnId} not found`, 'task_not_found');
    return [task, other];
  }
}
