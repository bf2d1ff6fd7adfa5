import { CreateTasks1764190000000 } from './1764190000000-CreateTasks';
import { CreateWorkersAndAudit1764200000000 } from './1764200000000-CreateWorkersAndAudit';
import { AgentsAtScale1764210000000 } from './1764210000000-AgentsAtScale';
import { TaskVersionsAndBlockedBy1764220000000 } from './1764220000000-TaskVersionsAndBlockedBy';
import { AuditHashChain1764250000000 } from './1764250000000-AuditHashChain';
import { AppRoleGrants1764260000000 } from './1764260000000-AppRoleGrants';
import { ProjectsTagsAndTimes1764270000000 } from './1764270000000-ProjectsTagsAndTimes';
import { Webhooks1764285000000 } from './1764285000000-Webhooks';
import { RetiredProjects1764290000000 } from './1764290000000-RetiredProjects';
import { EventOrderByTransaction1764300000000 } from './1764300000000-EventOrderByTransaction';
import { ForgetStoredSecrets1764305000000 } from './1764305000000-ForgetStoredSecrets';
import { ApiKeys1764310000000 } from './1764310000000-ApiKeys';
import { Collaboration1764320000000 } from './1764320000000-Collaboration';
import { AttemptsAndRetries1764325000000 } from './1764325000000-AttemptsAndRetries';
import { UsageAndBudgets1764330000000 } from './1764330000000-UsageAndBudgets';
import { AnalyticsIndex1764335000000 } from './1764335000000-AnalyticsIndex';
import { AnalyticsFacts1764340000000 } from './1764340000000-AnalyticsFacts';
import { InboxIndexes1764345000000 } from './1764345000000-InboxIndexes';

/**
 * Migrations in the order they run. Listed explicitly rather than globbed, so that the compiled
 * app, ts-node (the migration CLI) and Jest all load the same set. `npm run migration:generate`
 * writes a new file here; add its class to the end of this list.
 */
export const MIGRATIONS = [
  CreateTasks1764190000000,
  CreateWorkersAndAudit1764200000000,
  AgentsAtScale1764210000000,
  TaskVersionsAndBlockedBy1764220000000,
  AuditHashChain1764250000000,
  AppRoleGrants1764260000000,
  ProjectsTagsAndTimes1764270000000,
  Webhooks1764285000000,
  RetiredProjects1764290000000,
  EventOrderByTransaction1764300000000,
  ForgetStoredSecrets1764305000000,
  ApiKeys1764310000000,
  Collaboration1764320000000,
  AttemptsAndRetries1764325000000,
  UsageAndBudgets1764330000000,
  AnalyticsIndex1764335000000,
  AnalyticsFacts1764340000000,
  InboxIndexes1764345000000,
];
