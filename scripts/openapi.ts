import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { buildOpenApiDocument } from '../src/openapi/openapi';

/**
 * `npm run openapi` writes openapi.json (committed, so every API change shows in review) and,
 * generated from it, the typed client's types, src/client/schema.d.ts (openapi-typescript), and
 * the contract's enums and limits as values, src/client/contract.ts (for the CLI and MCP server).
 * `npm run openapi:check` fails when any of them differs from what the code produces.
 * The app is built but never started, so no database is needed.
 */
const ROOT = join(__dirname, '..');
const DOCUMENT = join(ROOT, 'openapi.json');
const CLIENT_TYPES = join(ROOT, 'src', 'client', 'schema.d.ts');
const CLIENT_CONTRACT = join(ROOT, 'src', 'client', 'contract.ts');

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

interface SchemaObject {
  enum?: unknown[];
  properties?: Record<string, SchemaObject>;
  [keyword: string]: unknown;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; parameters?: Parameter[] }>>;
  components: { schemas: Record<string, SchemaObject> };
}
interface Parameter {
  name: string;
  in: string;
  schema?: SchemaObject;
}

/** The keywords a client can check before sending; `enum` here is an inline one. */
const LIMIT_KEYWORDS = [
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'pattern',
  'enum',
];

function limitsOf(schema: SchemaObject | undefined): Record<string, unknown> | undefined {
  const limits = Object.fromEntries(
    LIMIT_KEYWORDS.filter((k) => schema?.[k] !== undefined).map((k) => [k, schema?.[k]]),
  );
  return Object.keys(limits).length ? limits : undefined;
}

/** Drops the entries without a value, and the object itself when none is left. */
function compact<T>(entries: [string, T | undefined][]): Record<string, T> | undefined {
  const kept = entries.filter((e): e is [string, T] => e[1] !== undefined);
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/**
 * The document's enums and limits as runtime values (schema.d.ts holds only types), so that
 * clients validate with the API's own numbers rather than copies of them.
 */
async function clientContractFor(documentText: string): Promise<string> {
  const document = JSON.parse(documentText) as OpenApiDocument;
  const schemas = Object.entries(document.components.schemas);
  const enums = compact(schemas.map(([name, schema]) => [name, schema.enum]));
  const schemaLimits = compact(
    schemas.map(([name, schema]) => [
      name,
      compact(Object.entries(schema.properties ?? {}).map(([p, s]) => [p, limitsOf(s)])),
    ]),
  );
  const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
  const parameterLimits = compact(
    operations.map((op) => {
      const places = [...new Set((op.parameters ?? []).map((p) => p.in))];
      const byPlace = places.map((place): [string, Record<string, unknown> | undefined] => [
        place,
        compact(
          (op.parameters ?? [])
            .filter((p) => p.in === place)
            .map((p) => [p.name, limitsOf(p.schema)]),
        ),
      ]);
      return [op.operationId ?? '', compact(byPlace)];
    }),
  );
  const text = [
    '// Generated from openapi.json by `npm run openapi` (checked by `npm run openapi:check`): do not edit.',
    '',
    '/** Every named enum of `components.schemas`. */',
    `export const enums = ${JSON.stringify(enums)} as const;`,
    '',
    "/** Each schema property's limits: `schemaLimits.CreateTaskDto.title.maxLength`. */",
    `export const schemaLimits = ${JSON.stringify(schemaLimits)} as const;`,
    '',
    "/** Each operation's parameter limits: `parameterLimits.Tasks_list.query.limit.maximum`. */",
    `export const parameterLimits = ${JSON.stringify(parameterLimits)} as const;`,
    '',
  ].join('\n');
  const options = await resolveConfig(CLIENT_CONTRACT);
  return format(text, { ...options, filepath: CLIENT_CONTRACT });
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
    else {
      if (readOrEmpty(CLIENT_TYPES) !== clientTypesFor(DOCUMENT)) {
        stale.push('src/client/schema.d.ts');
      }
      if (readOrEmpty(CLIENT_CONTRACT) !== (await clientContractFor(document))) {
        stale.push('src/client/contract.ts');
      }
    }
    if (stale.length) {
      console.error(
        `${stale.join(', ')} out of date with the code: run \`npm run openapi\` and commit.`,
      );
      process.exit(1);
    }
    console.log('openapi.json and the client types and contract match the code.');
    return;
  }
  writeFileSync(DOCUMENT, document);
  writeFileSync(CLIENT_TYPES, clientTypesFor(DOCUMENT));
  writeFileSync(CLIENT_CONTRACT, await clientContractFor(document));
  console.log(`wrote ${DOCUMENT}, ${CLIENT_TYPES} and ${CLIENT_CONTRACT}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
