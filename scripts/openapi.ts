import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/config';
import { buildOpenApiDocument } from '../src/openapi/openapi';

/**
 * `npm run openapi` writes openapi.json (committed, so every API change shows in review);
 * `npm run openapi:check` fails when the committed file differs from what the code produces.
 * The app is built but never started, so no database is needed.
 */
const OUTPUT = join(__dirname, '..', 'openapi.json');

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const app = await createApp(config);
  const document = buildOpenApiDocument(app, config.version);
  await app.close();
  const text = `${JSON.stringify(document, null, 2)}\n`;

  if (check) {
    let committed = '';
    try {
      committed = readFileSync(OUTPUT, 'utf8');
    } catch {
      // A missing file is drift too.
    }
    if (committed !== text) {
      console.error(
        'openapi.json is out of date with the code: run `npm run openapi` and commit it.',
      );
      process.exit(1);
    }
    console.log('openapi.json matches the code.');
    return;
  }
  writeFileSync(OUTPUT, text);
  console.log(`wrote ${OUTPUT}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
