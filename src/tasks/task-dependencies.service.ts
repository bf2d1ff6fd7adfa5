import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Sql } from '../database/sql';
import {
  ConflictError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import type { TaskStatus } from './task.enums';

/** Serialises changes to the dependency graph, so two additions cannot close a cycle. */
const DEPENDENCY_GRAPH_LOCK = 0x64657073; // "deps"

/**
 * "Task A is blocked by task B": A cannot be started (nor claimed) until B is completed.
 * The graph stays acyclic; its changes are audited on the dependent task.
 */
@Injectable()
export class TaskDependenciesService {
  constructor(
    private readonly sql: Sql,
    private readonly trail: AuditTrail,
  ) {}

  private query<T>(text: string, params: unknown[]): Promise<T[]> {
    return this.sql.rows<T>(text, params);
  }

  async add(taskId: number, dependsOnId: number): Promise<void> {
    if (taskId === dependsOnId) {
      throw ValidationFailedError.field('other_id', 'a task cannot depend on itself');
    }
    const task = await this.existing(taskId, dependsOnId);
    await this.query('SELECT pg_advisory_xact_lock($1)', [DEPENDENCY_GRAPH_LOCK]);
    // Would B (transitively) depend on A already? Then A -> B closes a loop.
    const loop = await this.query(
      `WITH RECURSIVE reach(id) AS (
         SELECT depends_on_id FROM task_dependencies WHERE task_id = $1
         UNION
         SELECT d.depends_on_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
       )
       SELECT 1 FROM reach WHERE id = $2 LIMIT 1`,
      [dependsOnId, taskId],
    );
    if (loop.length > 0) {
      throw new ConflictError(
        `Task ${dependsOnId} already depends on task ${taskId}: adding this would make a cycle`,
        'dependency_cycle',
      );
    }
    const inserted = await this.query(
      `INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING task_id`,
      [taskId, dependsOnId],
    );
    if (inserted.length === 0) {
      this.trail.unchanged();
      return;
    }
    this.trail.record({
      taskId,
      projectSlug: task.project_slug,
      context: { depends_on: dependsOnId },
    });
  }

  async remove(taskId: number, dependsOnId: number): Promise<void> {
    const [task] = await this.query<{ project_slug: string | null }>(
      `SELECT project_slug FROM tasks WHERE id = $1`,
      [taskId],
    );
    if (!task) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    const deleted = await this.query(
      `DELETE FROM task_dependencies WHERE task_id = $1 AND depends_on_id = $2 RETURNING task_id`,
      [taskId, dependsOnId],
    );
    if (deleted.length === 0) {
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

  /** The first dependency of `taskId` that is not completed, if any. */
  async firstUnfinished(taskId: number): Promise<{ id: number; status: TaskStatus } | undefined> {
    const [row] = await this.query<{ id: number; status: TaskStatus }>(
      `SELECT b.id, b.status FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
       WHERE d.task_id = $1 AND b.status <> 'completed' ORDER BY b.id LIMIT 1`,
      [taskId],
    );
    return row;
  }

  /** 409 naming the dependency that still blocks `taskId`. */
  async assertReady(taskId: number): Promise<void> {
    const blocker = await this.firstUnfinished(taskId);
    if (blocker) {
      throw new ConflictError(
        `Task ${taskId} is blocked by task ${blocker.id}, which is '${blocker.status}'; it can start once that one is completed`,
        'dependency_unfinished',
      );
    }
  }

  /** Both tasks, locked against deletion for this transaction; 404 names the missing one. */
  private async existing(
    taskId: number,
    dependsOnId: number,
  ): Promise<{ project_slug: string | null }> {
    const rows = await this.query<{ id: number; project_slug: string | null }>(
      `SELECT id, project_slug FROM tasks WHERE id = ANY($1) FOR KEY SHARE`,
      [[taskId, dependsOnId]],
    );
    const task = rows.find((r) => r.id === taskId);
    if (!task) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    if (!rows.some((r) => r.id === dependsOnId))
      throw new NotFoundError(`Task ${dependsOnId} not found`, 'task_not_found');
    return task;
  }
}
