import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { TableRepository } from '../database/table-repository';
import { TaskDependency } from './task-dependency.entity';

/**
 * SQL shared by every query that cares whether a task may be worked on yet: true when the task
 * aliased `alias` depends on a task that is not completed.
 */
export const hasUnfinishedDependency = (alias: string): string =>
  `EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
           WHERE d.task_id = ${alias}.id AND b.status <> 'completed')`;

/** The `task_dependencies` table: "task A is blocked by task B" edges. */
@Injectable()
export class TaskDependencyRepository extends TableRepository<TaskDependency> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, TaskDependency);
  }

  /** Task `id` and every task it depends on, directly or through other tasks. */
  async closure(id: number): Promise<number[]> {
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows = await this.select<{ id: number }>(
      `WITH RECURSIVE reach(id) AS (
         SELECT $1::int
         UNION
         SELECT d.depends_on_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
       )
       SELECT id FROM reach`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /** Whether `from` depends on `to`, directly or through other tasks. */
  async reaches(from: number, to: number): Promise<boolean> {
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows = await this.select(
      `WITH RECURSIVE reach(id) AS (
         SELECT depends_on_id FROM task_dependencies WHERE task_id = $1
         UNION
         SELECT d.depends_on_id FROM task_dependencies d JOIN reach r ON d.task_id = r.id
       )
       SELECT 1 FROM reach WHERE id = $2 LIMIT 1`,
      [from, to],
    );
    return rows.length > 0;
  }

  /** Adds the edge; false when it was already there. */
  async insert(taskId: number, dependsOnId: number): Promise<boolean> {
    const inserted = await this.writable
      .createQueryBuilder()
      .insert()
      .values({ task_id: taskId, depends_on_id: dependsOnId })
      .orIgnore()
      .returning('task_id')
      .execute();
    return (inserted.raw as unknown[]).length > 0;
  }

  /** Removes the edge; false when there was none. */
  async delete(taskId: number, dependsOnId: number): Promise<boolean> {
    const deleted = await this.writable.delete({ task_id: taskId, depends_on_id: dependsOnId });
    return (deleted.affected ?? 0) > 0;
  }
}
