import { DataSource } from 'typeorm';
import { ENTITIES } from '../ormconfig';
import { loadConfig } from '../src/config/config';
import { migrationDataSourceOptions } from '../src/database/data-source-options';
import { MIGRATIONS } from '../src/database/migrations';
import { freshDatabase } from './support/database';
import { TEST_APP_ROLE } from './support/env';

describe('Schema and migrations (real PostgreSQL)', () => {
  let ds: DataSource;

  beforeAll(async () => {
    const url = await freshDatabase(); // the template: every migration applied
    const config = loadConfig({ DATABASE_URL: url, DATABASE_APP_ROLE: TEST_APP_ROLE });
    ds = new DataSource({ ...migrationDataSourceOptions(config.database), entities: ENTITIES });
    await ds.initialize();
  });

  afterAll(() => ds.destroy());

  it('matches the entities exactly (migration:generate would find nothing)', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('reverts every migration and applies them again', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const tables = await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
    expect(tables).toEqual([]);
    const ran = await ds.runMigrations({ transaction: 'each' });
    expect(ran).toHaveLength(MIGRATIONS.length);
    expect((await ds.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});
