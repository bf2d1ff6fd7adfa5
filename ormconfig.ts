import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AnalyticsFact } from './src/analytics/analytics-fact.entity';
import { AuditEntry } from './src/audit/audit-entry.entity';
import { ApiKey } from './src/auth/api-key.entity';
import { loadConfig } from './src/config/config';
import { migrationDataSourceOptions } from './src/database/data-source-options';
import { IdempotencyKey } from './src/idempotency/idempotency-key.entity';
import { ProjectMember } from './src/access/project-member.entity';
import { Project } from './src/access/project.entity';
import { TaskComment } from './src/tasks/task-comment.entity';
import { TaskDependency } from './src/tasks/task-dependency.entity';
import { Task } from './src/tasks/task.entity';
import { WebhookDelivery } from './src/webhooks/webhook-delivery.entity';
import { Webhook } from './src/webhooks/webhook.entity';
import { Worker } from './src/workers/worker.entity';

/**
 * Every entity, listed once at the top: the app itself runs on its repositories' SQL and loads
 * none, so only `migration:generate` and the schema test compare these with the database.
 */
export const ENTITIES = [
  Task,
  TaskDependency,
  Worker,
  AuditEntry,
  IdempotencyKey,
  Project,
  ProjectMember,
  Webhook,
  WebhookDelivery,
  ApiKey,
  TaskComment,
  AnalyticsFact,
];

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run|revert|generate`): the owner's
 * connection (MIGRATIONS_DATABASE_URL, else DATABASE_URL).
 */
export default new DataSource({
  ...migrationDataSourceOptions(loadConfig().database),
  entities: ENTITIES,
});
