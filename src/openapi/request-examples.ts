/**
 * The example request body of each body schema, as Swagger UI pre-fills it and as the document
 * shows it. Written by hand rather than assembled from property examples: a PATCH example with
 * every field would reset whatever a tester did not mean to change.
 */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  CreateTaskDto: {
    title: 'Write the release notes',
    description: 'Cover the API changes.',
    priority: 'high',
    project_slug: 'website',
    due_date: '2026-12-01T17:00:00Z',
  },
  UpdateTaskDto: { title: 'Write the release notes for 2.0', due_date: null },
  LeaseBody: { lease_seconds: 300 },
  ProgressBody: { percent: 60, note: 'tests pass' },
  BlockBody: { reason: 'waiting for the API key' },
  RejectBody: { reason: 'the tests do not cover the empty list' },
  HandoffBody: { note: 'Migrations are done; the API part is left. Start from src/tasks.' },
  ResultBody: {
    note: 'Ready for review: the redirect keeps the query string now.',
    artifacts: [{ kind: 'pr', url: 'https://github.com/acme/site/pull/7', title: 'Fix redirect' }],
  },
  CreateCommentDto: { body: 'The flaky test is the clock one; I pinned the time zone.' },
  AskDto: { question: 'Should the export include archived projects?' },
  ArtifactInput: {
    kind: 'pr',
    url: 'https://github.com/acme/site/pull/7',
    title: 'Fix the login redirect',
  },
  UsageBody: {
    model: 'claude-sonnet-4',
    input_tokens: 12000,
    output_tokens: 800,
    cost_usd: '0.0480',
  },
  HeartbeatBody: { lease_seconds: 300 },
  FailBody: { reason: 'the integration tests time out against staging', retryable: true },
  ClaimNextBody: { project: 'website', capabilities: ['python'], lease_seconds: 300 },
  CreateWorkerDto: {
    id: 'agent-claude-1',
    name: 'Claude (triage)',
    type: 'agent',
    capabilities: ['python', 'code-review'],
  },
  UpdateWorkerDto: { capabilities: ['python', 'code-review', 'sql'] },
  CreateProjectDto: {
    slug: 'website',
    name: 'Website relaunch',
    description: 'The new marketing site.',
    visibility: 'private',
    review_policy: 'human',
  },
  UpdateProjectDto: { name: 'Website relaunch 2027', visibility: 'internal' },
  SetMemberDto: { worker_id: 'agent-claude-1', role: 'member' },
  CreateWebhookDto: {
    url: 'https://hooks.example.com/taskflow',
    events: ['created', 'completed'],
    project: 'website',
  },
  UpdateWebhookDto: { events: [] },
  CreateApiKeyDto: {
    name: 'triage agent on ci-runner-3',
    scopes: ['read', 'write'],
    projects: ['website'],
  },
};
