import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/config/config';
import { ensureDatabase, prepareAppRole, runMigrations } from '../src/database/database-admin';

/**
 * The deploy step (the compose `migrate` service), as the owner (MIGRATIONS_DATABASE_URL): create
 * the database if it is missing, give the app role its login when DATABASE_URL names it (with
 * the password DATABASE_URL carries), apply pending migrations (which grant that role what the
 * API needs), exit. Exit code 0 means the schema and the grants are current.
 */
async function main(): Promise<void> {
  const { database } = loadConfig();
  if (await ensureDatabase(database)) console.log('migrate: created the database');
  if (await prepareAppRole(database)) {
    console.log(`migrate: role ${database.appRole} can log in with DATABASE_URL's password`);
  }
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
