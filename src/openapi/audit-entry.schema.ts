import type { OpenAPIObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { PROJECT_ROLES } from '../access/project-access';
import { AUDIT_ACTIONS, AuditAction } from '../audit/audit-actions';

/**
 * `AuditEntry` as a `oneOf` discriminated by `action`: each action's `context` has its own
 * schema, so a generated client knows that a `progressed` entry has `context.percent`. The
 * table is keyed by every action, so a new action does not compile until its context is
 * described here; the fuzzer checks real entries against these schemas.
 */
type Schema = SchemaObject | ReferenceObject;
const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
/** A `$ref` takes no sibling keywords in OpenAPI 3.0: a nullable reference is wrapped. */
const nullable = (schema: Schema): SchemaObject =>
  '$ref' in schema ? { allOf: [schema], nullable: true } : { ...schema, nullable: true };
const closed = (
  properties: Record<string, Schema>,
  required = Object.keys(properties),
): SchemaObject => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});

const text: SchemaObject = { type: 'string' };
const integer: SchemaObject = { type: 'integer' };
const timestamp: SchemaObject = { type: 'string', format: 'date-time' };
const strings: SchemaObject = { type: 'array', items: text };
const change = (value: Schema, canBeNull: boolean): SchemaObject => {
  const side = canBeNull ? nullable(value) : value;
  return closed({ from: side, to: side });
};

/** The writable fields of a task, and whether each may be null. */
const TASK_FIELDS: [string, Schema, boolean][] = [
  ['title', text, false],
  ['description', text, true],
  ['status', ref('TaskStatus'), false],
  ['priority', ref('TaskPriority'), false],
  ['progress_percent', integer, false],
  ['assigned_to', text, true],
  ['project_slug', text, true],
  ['parent_id', integer, true],
  ['due_date', timestamp, true],
  ['required_capabilities', strings, false],
  ['tags', strings, false],
  ['max_attempts', integer, false],
  ['timeout_seconds', integer, true],
  ['budget_tokens', integer, true],
  ['budget_usd', text, true],
];

/** Context schemas, by name; an action refers to one of them, or has no context (null). */
const CONTEXTS: Record<string, SchemaObject> = {
  AuditTaskSnapshot: {
    ...closed(
      Object.fromEntries(TASK_FIELDS.map(([f, schema, n]) => [f, n ? nullable(schema) : schema])),
    ),
    description: 'The task as it was created, or as it was when deleted.',
  },
  AuditTaskChanges: {
    ...closed(
      Object.fromEntries(TASK_FIELDS.map(([field, schema, n]) => [field, change(schema, n)])),
      [],
    ),
    description: 'Each changed field, with its value before and after.',
  },
  AuditProgress: closed({ percent: integer, note: nullable(text) }),
  AuditReason: {
    ...closed({ reason: nullable(text), comment_id: integer }, ['reason']),
    description: 'Why; `comment_id`: the hand-off note sent with the move, if any.',
  },
  AuditHandoffNote: {
    ...closed({ comment_id: integer }),
    nullable: true,
    description:
      'The hand-off note (a `handoff` comment) sent with the move; null when it came without one.',
  },
  AuditComment: {
    ...closed({ comment_id: integer, kind: ref('CommentKind'), body_sha256: text }),
    description:
      "The comment, its kind and the SHA-256 (hex) of its text as UTF-8: the chain vouches for the text, and `/api/audit/verify` compares it with the comment's.",
  },
  AuditCommentRef: {
    ...closed({ comment_id: integer }),
    description: '`asked`: the question comment; `answered`: the answer that cleared it.',
  },
  AuditArtifact: {
    ...closed({ kind: ref('ArtifactKind'), url: text, title: nullable(text) }),
    description: 'The artifact added (or replaced, by URL), or removed.',
  },
  AuditRejection: {
    ...closed({ reason: text }),
    description: 'What the reviewer asked the assignee to change.',
  },
  AuditAssignment: {
    ...closed({ from: nullable(text), to: nullable(text) }),
    description: 'The holder before and after (`null`: nobody).',
  },
  AuditLeaseExpired: {
    ...closed({ previous_holder: nullable(text), lease_expired_at: nullable(timestamp) }),
    description:
      'Whose lease ran out, and when: written just before the `started` of the new holder.',
  },
  AuditLeaseExtended: closed({ lease_expires_at: nullable(timestamp) }),
  AuditDependency: {
    ...closed({ depends_on: integer }),
    description: 'The task this one waits for (or no longer waits for).',
  },
  AuditFailure: {
    ...closed(
      {
        reason: text,
        retryable: { type: 'boolean' },
        attempt: integer,
        next_attempt_at: nullable(timestamp),
        previous_holder: nullable(text),
      },
      ['reason', 'retryable', 'attempt', 'next_attempt_at'],
    ),
    description:
      'A failed attempt: why (`lease expired` and `timed out` are recorded by whoever noticed, the sweeper `system:sweeper` or the claim that takes over), whether it may be retried, its number, and when the task may be claimed again (null: it is `failed`, or being taken over). `previous_holder`: whose claim it was, when the API recorded it.',
  },
  AuditUsage: {
    ...closed({
      model: text,
      input_tokens: integer,
      output_tokens: integer,
      cost_usd: nullable(text),
    }),
    description:
      'One usage report: the model, its tokens, and its cost in US dollars (exact decimal text; null: not reported).',
  },
  AuditWorkerRegistered: closed({
    worker_id: text,
    name: text,
    type: ref('WorkerType'),
    capabilities: strings,
  }),
  AuditWorkerChanges: closed(
    {
      worker_id: text,
      name: change(text, false),
      type: change(ref('WorkerType'), false),
      capabilities: change(strings, false),
    },
    ['worker_id'],
  ),
  AuditWorkerDeleted: closed({ worker_id: text, name: text, type: ref('WorkerType') }),
  AuditProjectSnapshot: {
    ...closed(
      {
        slug: text,
        name: text,
        description: nullable(text),
        visibility: ref('ProjectVisibility'),
        review_policy: ref('ReviewPolicy'),
        owner: text,
      },
      ['slug', 'name', 'description', 'visibility', 'owner'],
    ),
    description:
      'The project as it was created, or as it was when deleted (`review_policy` since it exists).',
  },
  AuditProjectChanges: {
    ...closed(
      {
        name: change(text, false),
        description: change(text, true),
        visibility: change(ref('ProjectVisibility'), false),
        review_policy: change(ref('ReviewPolicy'), false),
      },
      [],
    ),
    description: 'Each changed field, with its value before and after.',
  },
  AuditMemberAdded: {
    ...closed({
      worker_id: text,
      role: ref('ProjectRole'),
      // Inline: openapi-typescript refuses `nullable` beside an `allOf` without a `type`.
      previous_role: { type: 'string', enum: [...PROJECT_ROLES], nullable: true },
    }),
    description: 'The role the worker now has, and the one it had (`null`: it was no member).',
  },
  AuditMemberRemoved: {
    ...closed({ worker_id: text, role: ref('ProjectRole') }),
    description: 'Who left the project, and the role it had.',
  },
  AuditWebhookSnapshot: {
    ...closed({
      webhook_id: text,
      url_origin: text,
      events: strings,
      project: nullable(text),
      status: ref('WebhookStatus'),
    }),
    description:
      'The webhook as it was created, or as it was when deleted: only the origin of its URL (a path may hold a token) and never its secret.',
  },
  AuditWebhookChanges: {
    ...closed(
      {
        webhook_id: text,
        url_origin: change(text, false),
        events: change(strings, false),
        project: change(text, true),
        status: change(ref('WebhookStatus'), false),
        secret_rotated: { type: 'boolean', enum: [true] },
      },
      ['webhook_id'],
    ),
    description:
      'Each changed field, with its value before and after; a new secret is only said to be new. Filed under the project the webhook watches (`project_slug`); a move from one project to another is two entries, `project` `{from: <old>, to: null}` under the old project, then `{from: null, to: <new>}` with the other changes under the new one.',
  },
  AuditKeySnapshot: {
    ...closed({
      worker_id: text,
      key_id: text,
      name: text,
      prefix: text,
      scopes: strings,
      projects: nullable(strings),
      expires_at: timestamp,
    }),
    description:
      'The API key as it was created, or as it was when revoked: never the key, nor its hash.',
  },
};

const AUDIT_CONTEXT_OF: Record<AuditAction, keyof typeof CONTEXTS | null> = {
  created: 'AuditTaskSnapshot',
  updated: 'AuditTaskChanges',
  deleted: 'AuditTaskSnapshot',
  started: null,
  progressed: 'AuditProgress',
  review_requested: 'AuditHandoffNote',
  completed: 'AuditHandoffNote',
  approved: null,
  rejected: 'AuditRejection',
  reopened: null,
  assigned: 'AuditAssignment',
  blocked: 'AuditReason',
  unblocked: null,
  released: 'AuditHandoffNote',
  lease_expired: 'AuditLeaseExpired',
  lease_extended: 'AuditLeaseExtended',
  failed: 'AuditFailure',
  retried: null,
  usage_reported: 'AuditUsage',
  dependency_added: 'AuditDependency',
  dependency_removed: 'AuditDependency',
  commented: 'AuditComment',
  asked: 'AuditCommentRef',
  answered: 'AuditCommentRef',
  artifact_added: 'AuditArtifact',
  artifact_removed: 'AuditArtifact',
  worker_registered: 'AuditWorkerRegistered',
  worker_updated: 'AuditWorkerChanges',
  worker_deleted: 'AuditWorkerDeleted',
  project_created: 'AuditProjectSnapshot',
  project_updated: 'AuditProjectChanges',
  project_deleted: 'AuditProjectSnapshot',
  member_added: 'AuditMemberAdded',
  member_removed: 'AuditMemberRemoved',
  webhook_created: 'AuditWebhookSnapshot',
  webhook_updated: 'AuditWebhookChanges',
  webhook_deleted: 'AuditWebhookSnapshot',
  key_created: 'AuditKeySnapshot',
  key_revoked: 'AuditKeySnapshot',
};

const entryName = (action: AuditAction): string =>
  `AuditEntry${action.replace(/(^|_)([a-z])/g, (_m, _sep, c: string) => c.toUpperCase())}`;

/**
 * Replaces the `AuditEntry` schema that `@ApiProperty` produced (its `context` an open object)
 * with one variant per action; the common fields are taken from it, so they are declared once.
 */
export function documentAuditEntries(document: OpenAPIObject): void {
  const schemas = document.components!.schemas as Record<string, Schema>;
  const base = schemas.AuditEntry as SchemaObject;
  const { action: _action, context: _context, ...common } = base.properties!;
  Object.assign(schemas, CONTEXTS);
  const mapping: Record<string, string> = {};
  for (const action of AUDIT_ACTIONS) {
    const context = AUDIT_CONTEXT_OF[action];
    const entry: SchemaObject = {
      ...closed({
        ...common,
        action: { type: 'string', enum: [action] },
        context: context
          ? ref(context)
          : // Always null. Not `enum: [null]`: openapi-fetch drops a property typed plain `null`
            // from response types, so the closed empty object stands beside it instead.
            { type: 'object', nullable: true, maxProperties: 0, description: 'Always null.' },
      }),
      description: `An audit entry of action \`${action}\`.`,
    };
    schemas[entryName(action)] = entry;
    mapping[action] = ref(entryName(action)).$ref;
  }
  schemas.AuditEntry = {
    description:
      'One recorded change: who (`actor_id`, `actor_type`), what (`action`) and how (`context`, whose shape depends on `action`).',
    oneOf: AUDIT_ACTIONS.map((action) => ref(entryName(action))),
    discriminator: { propertyName: 'action', mapping },
  };
}
