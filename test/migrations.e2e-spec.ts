import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/data-source.js';
import { MIGRATIONS } from '../src/database/migrations/index.js';
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

  it('SmsMessageIdAndCheckedAt gives the SMS rows already there an id, and its revert keeps those with a provider id', async () => {
    const url = await createTestDatabase();
    const at = MIGRATIONS.findIndex((m) => m.name === 'SmsMessageIdAndCheckedAt1795634718206');
    expect(at).toBeGreaterThan(0);
    const before = await new DataSource({
      ...dataSourceOptions(url),
      migrations: MIGRATIONS.slice(0, at),
    }).initialize();
    await before.runMigrations();
    const reference = '7b0c4c1e-8a36-4a8e-9d55-2f5c2b9f3a10';
    await before.query(
      `INSERT INTO sms_messages (message_id, reference, status) VALUES ('msgA', $1, 'pending'), ('msgB', $1, 'delivered')`,
      [reference],
    );
    await before.destroy();

    const after = await new DataSource(dataSourceOptions(url)).initialize();
    try {
      await after.runMigrations();
      const rows: { id: string; message_id: string; checked_at: Date | null }[] = await after.query(
        'SELECT id, message_id, checked_at FROM sms_messages ORDER BY message_id',
      );
      expect(rows.map((r) => r.message_id)).toEqual(['msgA', 'msgB']);
      for (const row of rows) expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(rows[0].id).not.toBe(rows[1].id);
      expect(rows.every((r) => r.checked_at === null)).toBe(true);
      // A send whose answer was lost: no provider id.
      await after.query(
        `INSERT INTO sms_messages (id, message_id, reference, status) VALUES (gen_random_uuid(), NULL, $1, 'unknown')`,
        [reference],
      );

      // Down to (and including) SmsMessageIdAndCheckedAt.
      for (let i = at; i < MIGRATIONS.length; i++) await after.undoLastMigration();
      const reverted: { message_id: string }[] = await after.query(
        'SELECT * FROM sms_messages ORDER BY message_id',
      );
      expect(reverted.map((r) => r.message_id)).toEqual(['msgA', 'msgB']);
      expect(Object.keys(reverted[0])).not.toContain('id');
    } finally {
      await after.destroy();
    }
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
