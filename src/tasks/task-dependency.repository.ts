import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

/**
 * SQL shared by every query that cares whether a task may be worked on yet: true when the task
 * aliased `alias` depends on a task that is not completed.
 */
export const hasUnfinishedDependency = (alias: string): string =>
  `EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
           WHERE d.task_id = ${alias}.id AND b.status <> 'completed')`;

/** Any one constant serialises changes to the dependency graph, so two additions cannot close a cycle. */
const DEPENDENCY_GRAPH_LOCK = 0x64657073; // "deps"

/** The `task_dependencies` table: "task A is blocked by task B" edges. */
@Injectable()
export class TaskDependencyRepository {
  constructor(private readonly db: Db) {}

  /** Serialises graph changes until the transaction ends. */
  async lockGraph(): Promise<void> {
    await this.db.write('SELECT pg_advisory_xact_lock($1)', [DEPENDENCY_GRAPH_LOCK]);
  }

  /** Whether `from` depends on `to`, directly or through other tasks. */
  async reaches(from: number, to: number): Promise<boolean> {
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows = await this.db.rows(
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
    const rows = await this.db.write(
      `INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING task_id`,
      [taskId, dependsOnId],
    );
    return rows.length > 0;
  }

  /** Removes the edge; false when there was none. */
  async delete(taskId: number, dependsOnId: number): Promise<boolean> {
    const rows = await this.db.write(
      `DELETE FROM task_dependencies WHERE task_id = $1 AND depends_on_id = $2 RETURNING task_id`,
      [taskId, dependsOnId],
    );
    return rows.length > 0;
  }
}
