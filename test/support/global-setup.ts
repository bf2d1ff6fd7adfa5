import 'reflect-metadata';
import { loadConfig } from '../../src/config/config';
import { recreateDatabase, runMigrations } from '../../src/database/database-admin';
import { TEMPLATE_DATABASE, databaseUrl } from './env';

/** Once per `npm test`: a freshly migrated template that every test file copies. */
export default async function globalSetup(): Promise<void> {
  const { database } = loadConfig({ DATABASE_URL: databaseUrl(TEMPLATE_DATABASE) });
  await recreateDatabase(database);
  await runMigrations(database);
}
