import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { createDataSource } from './data-source.js';

jest.setTimeout(60_000);

// CI fails when a change to the entities comes without its migration (`npm run db:generate`).
describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('bring an empty database exactly to the schema the entities describe', async () => {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('run down and up again cleanly', async () => {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const count = ds.migrations.length;
      for (let i = 0; i < count; i++) await ds.undoLastMigration({ transaction: 'each' });
      const tables = await ds.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
      );
      expect(tables[0].n).toBe(0);
      await ds.runMigrations({ transaction: 'each' });
      expect((await ds.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
