/** The audit log's action names (docs/lifecycle.md says which move writes which). */
export const AUDIT_ACTIONS = [
  'created',
  'updated',
  'deleted',
  'started',
  'progressed',
  'review_requested',
  'completed',
  'approved',
  'rejected',
  'blocked',
  'unblocked',
  'released',
  'reopened',
  'assigned',
  'lease_expired',
  'lease_extended',
  'dependency_added',
  'dependency_removed',
  'worker_registered',
  'worker_updated',
  'worker_deleted',
  'project_created',
  'project_updated',
  'project_deleted',
  'member_added',
  'member_removed',
  'webhook_created',
  'webhook_updated',
  'webhook_deleted',
  'key_created',
  'key_revoked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Metadata key of `@Audited()`: the action a mutating handler records. */
export const AUDITED_ACTION = 'taskflow:audited-action';
