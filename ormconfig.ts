import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { migrationDataSourceOptions } from './src/database/app-role';

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run|revert|generate`): the owner's
 * connection (MIGRATIONS_DATABASE_URL, else DATABASE_URL).
 */
export default new DataSource(migrationDataSourceOptions(loadConfig().database));
