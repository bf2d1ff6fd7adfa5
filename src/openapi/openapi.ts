import { MAX_CLIENT_LENGTH } from '../audit/client-header';
import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  OpenAPIObject,
  SwaggerModule,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { documentConditionalRequests } from '../tasks/task-etag';
import { documentAuditEntries } from './audit-entry.schema';
import { REQUEST_EXAMPLES } from './request-examples';

const DESCRIPTION = `One task board shared by humans and AI agents.

Every route except \`/health\`, \`/api/health/db\`, \`/openapi.json\` and \`/docs\` needs
\`Authorization: Bearer <JWT>\` from the Better Auth server (\`npm run token -- --email you@example.com\`
prints one), or \`Authorization: Bearer tf_…\`, an API key of a registered worker
(\`POST /api/workers/{id}/keys\`): press **Authorize** and paste either.

Errors always have the body \`{"error": "...", "status_code": N, "code": "..."}\`: switch on
\`code\` (the \`ErrorCode\` enum), never on the message. A 422 adds \`details: [{field, message}]\`.

A task answer carries an \`ETag\`; send it back in \`If-Match\` to write only if nobody changed the
task meanwhile (else 412), or in \`If-None-Match\` to poll it cheaply (304 while unchanged).`;

const TAGS: [string, string][] = [
  ['tasks', 'The task board: create, list, read, edit and delete tasks.'],
  [
    'task lifecycle',
    'Moves of a task through its states (start, progress, review, complete, block…) and claiming work.',
  ],
  ['task dependencies', 'Which tasks a task waits for before it can start.'],
  [
    'collaboration',
    'Comments and hand-off notes, questions to a person and their answers, artifacts, and the inbox.',
  ],
  ['audit', 'The append-only log of every change: who, human or agent, did what and when.'],
  [
    'analytics',
    "People's and agents' work compared over a window, read from the audit log (docs/analytics.md).",
  ],
  ['events', 'The audit log as a live stream (Server-Sent Events), with resume.'],
  ['projects', 'Projects: who reads and changes their tasks, and their members.'],
  ['workers', 'The registry of humans and agents, with their capabilities.'],
  ['webhooks', 'Signed HTTP callbacks that receive the audit log as it grows (admins).'],
  ['identity', 'Who the caller is.'],
  ['health', 'Liveness and readiness probes (public).'],
];

type Operations = [method: string, path: string, operation: OperationObject][];

export function operationsOf(document: OpenAPIObject): Operations {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'patch', 'delete', 'put'].includes(method))
      .map(([method, op]) => [method, path, op as OperationObject] as Operations[number]),
  );
}

/** The OpenAPI document, as served at `/openapi.json` and written to `openapi.json` by `npm run openapi`. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('TaskFlow API')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addServer('/', 'This server (the document is served by the API it describes)')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A JWT from the Better Auth server: a person or an agent, signed in.',
      },
      'bearer',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'tf_…',
        description:
          "An API key of a registered worker (`tf_` and 43 characters), from `POST /api/workers/{id}/keys`: acts as that worker within the key's scopes (`read`: GET and HEAD only, else 403 `insufficient_scope`) and projects, until it expires or is revoked (401). Never an admin.",
      },
      'api_key',
    )
    // Two requirements: either scheme is enough.
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('api_key');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  documentSecurity(document);
  documentIdempotencyKey(document);
  documentClientHeader(document);
  documentConditionalRequests(document);
  documentResponseHeaders(document);
  documentRequestExamples(document);
  documentAuditEntries(document);
  unwrapLoneAllOf(document);
  return document;
}

/**
 * Nest wraps an enum reference in a one-item `allOf` so that it can carry siblings such as
 * `default`; where nothing is left beside it (PATCH bodies have no defaults), the reference alone
 * says the same and generators make a plainer type of it.
 */
function unwrapLoneAllOf(document: OpenAPIObject): void {
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    const properties = (schema as SchemaObject).properties ?? {};
    for (const [name, property] of Object.entries(properties)) {
      const keys = Object.keys(property);
      const allOf = (property as SchemaObject).allOf;
      if (keys.length === 1 && allOf?.length === 1) properties[name] = allOf[0];
    }
  }
}

/**
 * Bearer auth is declared once, for the whole document. `@ApiBearerAuth()` still marks the
 * guarded controllers (Swagger UI's lock icons come from the global requirement); a route
 * without it is public (`@Public()`) and says so with an empty requirement.
 */
function documentSecurity(document: OpenAPIObject): void {
  for (const [, , op] of operationsOf(document)) {
    if (op.security?.length) delete op.security;
    else op.security = [];
  }
}

/** Every POST takes `Idempotency-Key` (IdempotencyService.once): said once, here. */
function documentIdempotencyKey(document: OpenAPIObject): void {
  for (const [method, , op] of operationsOf(document)) {
    if (method !== 'post') continue;
    op.parameters = [
      ...(op.parameters ?? []),
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes retries safe: a retry with the same key and request returns the first answer (with `Idempotent-Replayed: true`) and changes nothing; the same key with another request is a 422. Per caller, kept 24 hours.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    ];
    for (const [status, response] of Object.entries(op.responses)) {
      if (!status.startsWith('2') || !(response as ResponseObject).content) continue;
      (response as ResponseObject).headers = {
        ...(response as ResponseObject).headers,
        'Idempotent-Replayed': {
          description:
            '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`; absent otherwise.',
          schema: { type: 'string', enum: ['true'] },
        },
      };
    }
  }
}

/** Every change takes `X-TaskFlow-Client`, recorded in its audit entries: said once, here. */
function documentClientHeader(document: OpenAPIObject): void {
  for (const [method, , op] of operationsOf(document)) {
    if (method === 'get' || op.security?.length === 0) continue;
    op.parameters = [
      ...(op.parameters ?? []),
      {
        name: 'X-TaskFlow-Client',
        in: 'header',
        required: false,
        description:
          'The program acting for the caller, recorded as `client` in the audit entries of the change (e.g. `taskflow-cli/1.0.0`). 1 to 200 printable ASCII characters; 422 otherwise.',
        schema: {
          type: 'string',
          minLength: 1,
          maxLength: MAX_CLIENT_LENGTH,
          example: 'taskflow-cli/1.0.0',
        },
      },
    ];
  }
}

const header = (description: string, schema: SchemaObject, required = false) => ({
  description,
  schema,
  required,
});

/** Headers the API sends on every response, or on every response of a status. */
function documentResponseHeaders(document: OpenAPIObject): void {
  for (const [method, path, op] of operationsOf(document)) {
    for (const [status, value] of Object.entries(op.responses)) {
      const response = value as ResponseObject;
      response.headers = {
        ...response.headers,
        'X-Request-Id': header(
          'The id of this request in the server logs (the caller’s own `X-Request-Id` when it sent one).',
          { type: 'string' },
          true,
        ),
      };
      if (status === '401') {
        response.headers['WWW-Authenticate'] = header(
          'Always `Bearer`, with `error` and `error_description` saying why the token was refused.',
          {
            type: 'string',
            example: 'Bearer error="invalid_token", error_description="Token expired"',
          },
        );
      }
      if (status === '429' || status === '503') {
        response.headers['Retry-After'] = header('Seconds to wait before retrying.', {
          type: 'integer',
          minimum: 0,
        });
      }
      // The moves that may start a task: refused with `retry_later` during its backoff.
      if (
        status === '409' &&
        (path === '/api/tasks/{id}/start' || (path === '/api/tasks/{id}' && method === 'patch'))
      ) {
        response.headers['Retry-After'] = header(
          'On `retry_later` only: seconds until the task may be started (its `not_before`).',
          { type: 'integer', minimum: 1 },
        );
      }
    }
  }
}

/** A request example on every JSON body, from REQUEST_EXAMPLES (keyed by the body's schema). */
function documentRequestExamples(document: OpenAPIObject): void {
  for (const [method, path, op] of operationsOf(document)) {
    const media = (op.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> })
      ?.content?.['application/json'];
    if (!media) continue;
    const name = media.schema?.$ref?.split('/').pop() ?? '';
    const example = REQUEST_EXAMPLES[name];
    if (example === undefined) {
      throw new Error(
        `${method.toUpperCase()} ${path}: add an example for ${name} to REQUEST_EXAMPLES`,
      );
    }
    Object.assign(media, { example });
  }
}
