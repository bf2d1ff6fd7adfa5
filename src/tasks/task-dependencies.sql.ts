/**
 * SQL shared by every query that cares whether a task may be worked on yet: true when the task
 * aliased `alias` depends on a task that is not completed.
 */
export const hasUnfinishedDependency = (alias: string): string =>
  `EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id
           WHERE d.task_id = ${alias}.id AND b.status <> 'completed')`;
