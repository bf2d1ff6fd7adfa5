export const TASK_STATUSES = ['pending', 'in_progress', 'review', 'completed', 'blocked'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Declared lowest first: the PostgreSQL enum keeps this order, so `ORDER BY priority` is by rank. */
export const TASK_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
