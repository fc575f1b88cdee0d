import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/data-source.js';
import { createTestDatabase, startTestApp } from './support/test-app.js';

/** The CI drift check: the committed migrations build exactly the schema the entities describe. */
describe('database migrations', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await new DataSource(dataSourceOptions(await createTestDatabase())).initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
  });

  it('apply to an empty database and leave nothing for the entities to change', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.length).toBeGreaterThan(0);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert cleanly, all the way down', async () => {
    for (let i = 0; i < dataSource.migrations.length; i++) await dataSource.undoLastMigration();
    const tables: { count: string }[] = await dataSource.query(
      `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
    expect(tables[0].count).toBe('0');
  });

  it('run once when several instances start together on a new database (advisory lock)', async () => {
    const databaseUrl = await createTestDatabase();
    const apps = await Promise.all([1, 2, 3].map(() => startTestApp({ databaseUrl })));
    try {
      const { rows } = await apps[0].db.query<{ name: string; n: number }>(
        'SELECT name, count(*)::int AS n FROM migrations GROUP BY name',
      );
      expect(rows).toHaveLength(dataSource.migrations.length);
      expect(rows.every((row) => row.n === 1)).toBe(true);
      for (const app of apps) expect((await app.get('/health')).status).toBe(200);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });
});
