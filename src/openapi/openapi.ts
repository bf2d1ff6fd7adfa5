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
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}
