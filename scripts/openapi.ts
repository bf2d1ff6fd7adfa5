import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { buildOpenApiDocument } from '../src/openapi/openapi';

/**
 * `npm run openapi` writes openapi.json (committed, so every API change shows in review) and the
 * typed client's types generated from it, src/client/schema.d.ts (openapi-typescript).
 * `npm run openapi:check` fails when either differs from what the code produces.
 * The app is built but never started, so no database is needed.
 */
const ROOT = join(__dirname, '..');
const DOCUMENT = join(ROOT, 'openapi.json');
const CLIENT_TYPES = join(ROOT, 'src', 'client', 'schema.d.ts');

async function openApiText(): Promise<string> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const app = await createApp(config);
  const document = buildOpenApiDocument(app, config.version);
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** openapi-typescript is ESM-only; its CLI reads the document and prints the types. */
function clientTypesFor(documentPath: string): string {
  const cli = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  // Fields with a server-side default stay optional in request types (the CLI and MCP omit them).
  return execFileSync(process.execPath, [cli, documentPath, '--default-non-nullable', 'false'], {
    encoding: 'utf8',
  });
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const document = await openApiText();

  if (check) {
    const stale: string[] = [];
    if (readOrEmpty(DOCUMENT) !== document) stale.push('openapi.json');
    else if (readOrEmpty(CLIENT_TYPES) !== clientTypesFor(DOCUMENT)) {
      stale.push('src/client/schema.d.ts');
    }
    if (stale.length) {
      console.error(
        `${stale.join(', ')} out of date with the code: run \`npm run openapi\` and commit.`,
      );
      process.exit(1);
    }
    console.log('openapi.json and the client types match the code.');
    return;
  }
  writeFileSync(DOCUMENT, document);
  writeFileSync(CLIENT_TYPES, clientTypesFor(DOCUMENT));
  console.log(`wrote ${DOCUMENT} and ${CLIENT_TYPES}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
