import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

const DESCRIPTION = `One task board shared by humans and AI agents.

Every route except \`/health\`, \`/api/health/db\`, \`/openapi.json\` and \`/docs\` needs
\`Authorization: Bearer <JWT>\` from the Better Auth server (\`npm run token -- --email you@example.com\`
prints one): press **Authorize** and paste it.

Errors always have the body \`{"error": "...", "status_code": N}\`; a 422 adds
\`details: [{field, message}]\`.`;

/** The OpenAPI document, as served at `/openapi.json` and written to `openapi.json` by `npm run openapi`. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('TaskFlow API')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  documentIdempotencyKey(document);
  return document;
}

/** Every POST takes `Idempotency-Key` (IdempotencyService.once): said once, here. */
function documentIdempotencyKey(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    if (!path.post) continue;
    path.post.parameters = [
      ...(path.post.parameters ?? []),
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes retries safe: a retry with the same key and request returns the first answer (with `Idempotent-Replayed: true`) and changes nothing; the same key with another request is a 422. Per caller, kept 24 hours.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    ];
  }
}
