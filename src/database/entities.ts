import { AuditEntry } from '../audit/audit-entry.entity';
import { IdempotencyKey } from '../idempotency/idempotency-key.entity';
import { TaskDependency } from '../tasks/task-dependency.entity';
import { Task } from '../tasks/task.entity';
import { Worker } from '../workers/worker.entity';

/** Every entity, listed once: the app, the migration CLI and the tests all use this list. */
export const ENTITIES = [Task, TaskDependency, Worker, AuditEntry, IdempotencyKey];
