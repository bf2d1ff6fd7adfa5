import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/config/config';
import { ensureDatabase, runMigrations } from '../src/database/database-admin';

/**
 * The deploy step (the compose `migrate` service): create the database if it is missing, apply
 * pending migrations, exit. Exit code 0 means the schema is current.
 */
async function main(): Promise<void> {
  const { database } = loadConfig();
  if (await ensureDatabase(database)) console.log('migrate: created the database');
  const ran = await runMigrations(database);
  console.log(ran.length ? `migrate: applied ${ran.join(', ')}` : 'migrate: schema is up to date');
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError ? error.message : 'migrate: failed:',
    error instanceof ConfigError ? '' : error,
  );
  process.exit(1);
});
