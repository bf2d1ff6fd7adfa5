// Generated from openapi.json by `npm run openapi` (checked by `npm run openapi:check`): do not edit.

/** Every named enum of `components.schemas`. */
export const enums = {
  ErrorCode: [
    'malformed_json',
    'bad_request',
    'headers_too_large',
    'request_timeout',
    'payload_too_large',
    'unsupported_media_type',
    'unauthenticated',
    'forbidden',
    'admin_required',
    'not_assignee',
    'reviewer_is_assignee',
    'capability_missing',
    'not_project_member',
    'project_owner_required',
    'insufficient_scope',
    'human_review_required',
    'not_found',
    'task_not_found',
    'worker_not_found',
    'dependency_not_found',
    'project_not_found',
    'member_not_found',
    'webhook_not_found',
    'api_key_not_found',
    'artifact_not_found',
    'route_not_found',
    'method_not_allowed',
    'conflict',
    'invalid_transition',
    'task_claimed',
    'dependency_unfinished',
    'retry_later',
    'task_failed',
    'dependency_cycle',
    'task_has_subtasks',
    'task_has_dependents',
    'worker_exists',
    'project_exists',
    'project_slug_retired',
    'project_has_tasks',
    'project_referenced',
    'last_owner',
    'idempotency_key_reused',
    'concurrent_change',
    'precondition_failed',
    'review_required',
    'too_many_artifacts',
    'not_awaiting_input',
    'validation_failed',
    'invalid_cursor',
    'cursor_mismatch',
    'rate_limited',
    'database_unavailable',
    'internal_error',
  ],
  ActorType: ['human', 'agent', 'system'],
  AuditAction: [
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
    'failed',
    'retried',
    'usage_reported',
    'dependency_added',
    'dependency_removed',
    'commented',
    'asked',
    'answered',
    'artifact_added',
    'artifact_removed',
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
  ],
  TaskPriority: ['low', 'medium', 'high', 'critical'],
  TaskStatus: ['pending', 'in_progress', 'review', 'completed', 'blocked', 'failed'],
  ArtifactKind: ['pr', 'commit', 'url', 'file', 'log'],
  CommentKind: ['note', 'handoff', 'question', 'answer', 'decision'],
  WorkerType: ['human', 'agent'],
  InboxReason: ['awaiting_input', 'failed', 'review', 'assigned'],
  ProjectVisibility: ['internal', 'private'],
  ReviewPolicy: ['other', 'human'],
  ProjectRole: ['owner', 'member', 'viewer'],
  WebhookStatus: ['active', 'paused', 'failing'],
} as const;

/** Each schema property's limits: `schemaLimits.CreateTaskDto.title.maxLength`. */
export const schemaLimits = {
  AnalyticsGroup: { cost_usd: { pattern: '^[0-9]+(\\.[0-9]+)?$' } },
  AnalyticsSummary: { group_by: { enum: ['actor_type', 'worker'] } },
  CreateTaskDto: {
    title: { minLength: 1, maxLength: 200 },
    description: { maxLength: 10000 },
    status: { enum: ['pending', 'blocked'] },
    progress_percent: { minimum: 0, maximum: 100 },
    assigned_to: { maxLength: 255 },
    project_slug: { maxLength: 100 },
    parent_id: { minimum: 1, maximum: 2147483647 },
    required_capabilities: { maxItems: 20 },
    tags: { maxItems: 20 },
    max_attempts: { minimum: 1, maximum: 20 },
    timeout_seconds: { minimum: 60, maximum: 604800 },
    budget_tokens: { minimum: 0, maximum: 1000000000000 },
    budget_usd: { pattern: '^\\d{1,8}(\\.\\d{1,6})?$' },
  },
  Artifact: { url: { maxLength: 2048 }, title: { maxLength: 200 } },
  TaskUsage: { input_tokens: { minimum: 0 }, output_tokens: { minimum: 0 } },
  Task: {
    title: { minLength: 1, maxLength: 200 },
    description: { maxLength: 10000 },
    progress_percent: { minimum: 0, maximum: 100 },
    assigned_to: { maxLength: 255 },
    project_slug: { maxLength: 100 },
    version: { minimum: 1 },
    artifacts: { maxItems: 50 },
    attempts: { minimum: 0 },
    max_attempts: { minimum: 1, maximum: 20 },
    timeout_seconds: { minimum: 60, maximum: 604800 },
    last_error: { maxLength: 2000 },
    budget_tokens: { minimum: 0 },
    budget_usd: { pattern: '^\\d{1,8}(\\.\\d{1,6})?$' },
  },
  UpdateTaskDto: {
    title: { minLength: 1, maxLength: 200 },
    description: { maxLength: 10000 },
    progress_percent: { minimum: 0, maximum: 100 },
    assigned_to: { maxLength: 255 },
    project_slug: { maxLength: 100 },
    parent_id: { minimum: 1, maximum: 2147483647 },
    required_capabilities: { maxItems: 20 },
    tags: { maxItems: 20 },
    max_attempts: { minimum: 1, maximum: 20 },
    timeout_seconds: { minimum: 60, maximum: 604800 },
    budget_tokens: { minimum: 0, maximum: 1000000000000 },
    budget_usd: { pattern: '^\\d{1,8}(\\.\\d{1,6})?$' },
  },
  LeaseBody: { lease_seconds: { minimum: 1, maximum: 86400 } },
  ClaimNextBody: { lease_seconds: { minimum: 1, maximum: 86400 } },
  UsageBody: {
    model: { minLength: 1, maxLength: 100 },
    input_tokens: { minimum: 0, maximum: 1000000000000 },
    output_tokens: { minimum: 0, maximum: 1000000000000 },
    cost_usd: { pattern: '^\\d{1,8}(\\.\\d{1,6})?$' },
  },
  HeartbeatBody: { lease_seconds: { minimum: 1, maximum: 86400 } },
  ProgressBody: { percent: { minimum: 0, maximum: 100 }, note: { maxLength: 1000 } },
  ArtifactInput: { url: { maxLength: 2048 }, title: { maxLength: 200 } },
  ResultBody: { note: { minLength: 1, maxLength: 10000 }, artifacts: { maxItems: 50 } },
  BlockBody: { note: { minLength: 1, maxLength: 10000 }, reason: { maxLength: 1000 } },
  HandoffBody: { note: { minLength: 1, maxLength: 10000 } },
  FailBody: { reason: { minLength: 1, maxLength: 2000 } },
  RejectBody: { reason: { maxLength: 1000 } },
  CreateCommentDto: { body: { minLength: 1, maxLength: 10000 }, reply_to: { minimum: 1 } },
  TaskComment: { body: { minLength: 1, maxLength: 10000 } },
  AskDto: { question: { minLength: 1, maxLength: 10000 } },
  CreateWorkerDto: {
    id: {
      maxLength: 255,
      pattern:
        '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
    },
    name: { maxLength: 200 },
    capabilities: { maxItems: 50 },
  },
  Worker: { id: { maxLength: 255 }, name: { maxLength: 200 } },
  UpdateWorkerDto: { name: { maxLength: 200 }, capabilities: { maxItems: 50 } },
  CreateApiKeyDto: {
    name: { minLength: 1, maxLength: 100 },
    scopes: { minItems: 1, maxItems: 2 },
    projects: { minItems: 1, maxItems: 100 },
  },
  MeResponse: { worker_type: { enum: ['human', 'agent'] } },
  CreateProjectDto: {
    slug: { maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' },
    name: { maxLength: 200 },
    description: { maxLength: 10000 },
  },
  Project: {
    slug: { maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' },
    name: { maxLength: 200 },
    description: { maxLength: 10000 },
  },
  UpdateProjectDto: { name: { maxLength: 200 }, description: { maxLength: 10000 } },
  ProjectMember: { worker_id: { maxLength: 255 } },
  SetMemberDto: {
    worker_id: {
      maxLength: 255,
      pattern:
        '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
    },
  },
  CreateWebhookDto: {
    url: { maxLength: 2048 },
    events: { maxItems: 39 },
    project: { maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' },
    secret: { minLength: 16, maxLength: 200, pattern: '^[\\x21-\\x7e]{16,200}$' },
    status: { enum: ['active', 'paused'] },
  },
  CreatedWebhook: { url: { maxLength: 2048 } },
  WebhookView: { url: { maxLength: 2048 } },
  UpdateWebhookDto: {
    url: { maxLength: 2048 },
    events: { maxItems: 39 },
    project: { maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' },
    secret: { minLength: 16, maxLength: 200, pattern: '^[\\x21-\\x7e]{16,200}$' },
    status: { enum: ['active', 'paused'] },
  },
  AuditMemberAdded: { previous_role: { enum: ['owner', 'member', 'viewer'] } },
  AuditWebhookChanges: { secret_rotated: { enum: [true] } },
  AuditEntryCreated: { client: { maxLength: 200 }, action: { enum: ['created'] } },
  AuditEntryUpdated: { client: { maxLength: 200 }, action: { enum: ['updated'] } },
  AuditEntryDeleted: { client: { maxLength: 200 }, action: { enum: ['deleted'] } },
  AuditEntryStarted: { client: { maxLength: 200 }, action: { enum: ['started'] } },
  AuditEntryProgressed: { client: { maxLength: 200 }, action: { enum: ['progressed'] } },
  AuditEntryReviewRequested: { client: { maxLength: 200 }, action: { enum: ['review_requested'] } },
  AuditEntryCompleted: { client: { maxLength: 200 }, action: { enum: ['completed'] } },
  AuditEntryApproved: { client: { maxLength: 200 }, action: { enum: ['approved'] } },
  AuditEntryRejected: { client: { maxLength: 200 }, action: { enum: ['rejected'] } },
  AuditEntryBlocked: { client: { maxLength: 200 }, action: { enum: ['blocked'] } },
  AuditEntryUnblocked: { client: { maxLength: 200 }, action: { enum: ['unblocked'] } },
  AuditEntryReleased: { client: { maxLength: 200 }, action: { enum: ['released'] } },
  AuditEntryReopened: { client: { maxLength: 200 }, action: { enum: ['reopened'] } },
  AuditEntryAssigned: { client: { maxLength: 200 }, action: { enum: ['assigned'] } },
  AuditEntryLeaseExpired: { client: { maxLength: 200 }, action: { enum: ['lease_expired'] } },
  AuditEntryLeaseExtended: { client: { maxLength: 200 }, action: { enum: ['lease_extended'] } },
  AuditEntryFailed: { client: { maxLength: 200 }, action: { enum: ['failed'] } },
  AuditEntryRetried: { client: { maxLength: 200 }, action: { enum: ['retried'] } },
  AuditEntryUsageReported: { client: { maxLength: 200 }, action: { enum: ['usage_reported'] } },
  AuditEntryDependencyAdded: { client: { maxLength: 200 }, action: { enum: ['dependency_added'] } },
  AuditEntryDependencyRemoved: {
    client: { maxLength: 200 },
    action: { enum: ['dependency_removed'] },
  },
  AuditEntryCommented: { client: { maxLength: 200 }, action: { enum: ['commented'] } },
  AuditEntryAsked: { client: { maxLength: 200 }, action: { enum: ['asked'] } },
  AuditEntryAnswered: { client: { maxLength: 200 }, action: { enum: ['answered'] } },
  AuditEntryArtifactAdded: { client: { maxLength: 200 }, action: { enum: ['artifact_added'] } },
  AuditEntryArtifactRemoved: { client: { maxLength: 200 }, action: { enum: ['artifact_removed'] } },
  AuditEntryWorkerRegistered: {
    client: { maxLength: 200 },
    action: { enum: ['worker_registered'] },
  },
  AuditEntryWorkerUpdated: { client: { maxLength: 200 }, action: { enum: ['worker_updated'] } },
  AuditEntryWorkerDeleted: { client: { maxLength: 200 }, action: { enum: ['worker_deleted'] } },
  AuditEntryProjectCreated: { client: { maxLength: 200 }, action: { enum: ['project_created'] } },
  AuditEntryProjectUpdated: { client: { maxLength: 200 }, action: { enum: ['project_updated'] } },
  AuditEntryProjectDeleted: { client: { maxLength: 200 }, action: { enum: ['project_deleted'] } },
  AuditEntryMemberAdded: { client: { maxLength: 200 }, action: { enum: ['member_added'] } },
  AuditEntryMemberRemoved: { client: { maxLength: 200 }, action: { enum: ['member_removed'] } },
  AuditEntryWebhookCreated: { client: { maxLength: 200 }, action: { enum: ['webhook_created'] } },
  AuditEntryWebhookUpdated: { client: { maxLength: 200 }, action: { enum: ['webhook_updated'] } },
  AuditEntryWebhookDeleted: { client: { maxLength: 200 }, action: { enum: ['webhook_deleted'] } },
  AuditEntryKeyCreated: { client: { maxLength: 200 }, action: { enum: ['key_created'] } },
  AuditEntryKeyRevoked: { client: { maxLength: 200 }, action: { enum: ['key_revoked'] } },
} as const;

/** Each operation's parameter limits: `parameterLimits.Tasks_list.query.limit.maximum`. */
export const parameterLimits = {
  Audit_list: {
    query: {
      limit: { minimum: 1, maximum: 100 },
      offset: { minimum: 0, maximum: 2147483647 },
      task_id: { minimum: 1, maximum: 2147483647 },
    },
  },
  Audit_forTask: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  AuditVerify_verify: { query: { task_id: { minimum: 1, maximum: 2147483647 } } },
  AuditVerify_heads: {
    query: {
      limit: { minimum: 1, maximum: 100 },
      offset: { minimum: 0, maximum: 2147483647 },
      task_id: { minimum: 1, maximum: 2147483647 },
    },
  },
  Analytics_summary: { query: { group_by: { enum: ['actor_type', 'worker'] } } },
  Tasks_create: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Tasks_list: {
    query: {
      limit: { minimum: 1, maximum: 100 },
      offset: { minimum: 0, maximum: 2147483647 },
      cursor: { maxLength: 1000 },
      count: { enum: ['exact'] },
      parent_id: { minimum: 1, maximum: 2147483647 },
      q: { maxLength: 200 },
      sort: {
        enum: [
          'id',
          '-id',
          'created_at',
          '-created_at',
          'updated_at',
          '-updated_at',
          'priority',
          '-priority',
          'due_date',
          '-due_date',
        ],
      },
      tag: { maxItems: 20 },
      any_tag: { maxItems: 20 },
    },
  },
  Tasks_findOne: { path: { id: { minimum: 1, maximum: 2147483647 } } },
  Tasks_update: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Tasks_remove: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Tasks_subtasks: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  TaskLifecycle_start: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_claimNext: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_heartbeat: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_usage: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_progress: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_review: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_complete: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_block: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_unblock: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_release: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_fail: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_retry: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_approve: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_reject: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskLifecycle_reopen: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskDependencies_add: {
    path: {
      id: { minimum: 1, maximum: 2147483647 },
      other_id: { minimum: 1, maximum: 2147483647 },
    },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskDependencies_remove: {
    path: {
      id: { minimum: 1, maximum: 2147483647 },
      other_id: { minimum: 1, maximum: 2147483647 },
    },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  TaskCollaboration_comment: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskCollaboration_comments: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    query: { limit: { minimum: 1, maximum: 100 }, cursor: { maxLength: 1000 } },
  },
  TaskCollaboration_ask: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskCollaboration_addArtifact: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  TaskCollaboration_removeArtifact: {
    path: { id: { minimum: 1, maximum: 2147483647 } },
    query: { url: { maxLength: 2048 } },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Inbox_inbox: {
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  Workers_register: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Workers_list: {
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  Workers_findOne: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
  },
  Workers_update: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Workers_remove: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  WorkerKeys_create: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  WorkerKeys_list: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
  },
  WorkerKeys_revoke: {
    path: {
      id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Projects_create: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Projects_list: {
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  Projects_findOne: {
    path: { slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' } },
  },
  Projects_update: {
    path: { slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' } },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Projects_remove: {
    path: { slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' } },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Projects_listMembers: {
    path: { slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' } },
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  Projects_setMember: {
    path: { slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' } },
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Projects_removeMember: {
    path: {
      slug: { minLength: 1, maxLength: 100, pattern: '^[a-z0-9-]{1,100}$' },
      worker_id: {
        minLength: 1,
        maxLength: 255,
        pattern:
          '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$',
      },
    },
    header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } },
  },
  Events_stream: {
    query: {
      task_id: { minimum: 1, maximum: 2147483647 },
      after: { minimum: 0, maximum: 9007199254740991 },
    },
    header: { 'Last-Event-ID': { pattern: '^[0-9]{1,16}$' } },
  },
  Webhooks_create: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Webhooks_list: {
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
  Webhooks_update: { header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } } },
  Webhooks_remove: { header: { 'X-TaskFlow-Client': { minLength: 1, maxLength: 200 } } },
  Webhooks_resume: {
    header: {
      'Idempotency-Key': { minLength: 1, maxLength: 255 },
      'X-TaskFlow-Client': { minLength: 1, maxLength: 200 },
    },
  },
  Webhooks_deliveries: {
    query: { limit: { minimum: 1, maximum: 100 }, offset: { minimum: 0, maximum: 2147483647 } },
  },
} as const;
