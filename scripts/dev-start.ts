import 'reflect-metadata';
import { createApp } from '../src/app.factory';
import { ConfigError, loadConfig } from '../src/config/config';
import { ensureDatabase, runMigrations } from '../src/database/database-admin';

/**
 * `npm start` on a fresh machine: create the database if it is missing, apply pending
 * migrations, then serve on :8000. (Production runs `npm run migrate` as a deploy step and
 * `npm run start:prod`, which does neither.)
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (await ensureDatabase(config.database)) console.log('start: created the database');
  const ran = await runMigrations(config.database);
  if (ran.length) console.log(`start: applied migrations ${ran.join(', ')}`);

  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  console.log(`start: TaskFlow API on http://localhost:${config.port} (Swagger UI: /docs)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
