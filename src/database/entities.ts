import { AuditEntry } from '../audit/audit-entry.entity';
import { Task } from '../tasks/task.entity';
import { Worker } from '../workers/worker.entity';

/** Every entity, listed once: the app, the migration CLI and the tests all use this list. */
export const ENTITIES = [Task, Worker, AuditEntry];
