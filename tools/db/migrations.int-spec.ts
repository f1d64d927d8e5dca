import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { createDataSource } from './data-source.js';
import {
  compareSchemaObjects,
  describeDifference,
  entitySchemaObjects,
  repairStatements,
  schemaObjects,
} from './schema-compare.js';

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

  it('build every constraint and index exactly as the entities define it', async () => {
    const diff = compareSchemaObjects(
      await schemaObjects(db.url),
      await entitySchemaObjects(db.url),
    );
    expect(diff.map(describeDifference)).toEqual([]);
  });

  it('the constraint check catches a unique constraint whose columns drifted (uq_debit_note_period)', async () => {
    // Before DebitNotePeriodUnique the constraint kept its name but not the entity's columns;
    // TypeORM's own diff (by name) saw nothing.
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const at = ds.migrations.findIndex((m) => m.name === 'DebitNotePeriodUnique1796664909171');
      expect(at).toBeGreaterThanOrEqual(0);
      for (let i = ds.migrations.length; i > at; i--) {
        await ds.undoLastMigration({ transaction: 'each' });
      }
      // TypeORM's diff says nothing of debit_notes (what it lacks of later migrations, which
      // were undone with it, aside).
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries.filter((q) => q.query.includes('"debit_notes"'))).toEqual([]);
      const diff = compareSchemaObjects(
        await schemaObjects(db.url),
        await entitySchemaObjects(db.url),
      );
      expect(diff).toEqual([
        {
          kind: 'constraint',
          table: 'debit_notes',
          name: 'uq_debit_note_period',
          migrations: 'UNIQUE (lease_id, period_start)',
          entities: 'UNIQUE (lease_id, kind, period_start)',
        },
      ]);
      // What `npm run db:generate` writes for it, and its way back.
      expect(repairStatements(diff)).toEqual({
        up: [
          'ALTER TABLE "debit_notes" DROP CONSTRAINT "uq_debit_note_period"',
          'ALTER TABLE "debit_notes" ADD CONSTRAINT "uq_debit_note_period" UNIQUE (lease_id, kind, period_start)',
        ],
        down: [
          'ALTER TABLE "debit_notes" DROP CONSTRAINT "uq_debit_note_period"',
          'ALTER TABLE "debit_notes" ADD CONSTRAINT "uq_debit_note_period" UNIQUE (lease_id, period_start)',
        ],
      });
      await ds.runMigrations({ transaction: 'each' });
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

  it('keep the usage minutes when they become one row per lease and minute, and back', async () => {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const at = ds.migrations.findIndex((m) => m.name === 'UsageMinutesWide1796634638681');
      expect(at).toBeGreaterThanOrEqual(0);
      for (let i = ds.migrations.length; i > at; i--) {
        await ds.undoLastMigration({ transaction: 'each' });
      }
      const lease = '3f6c2a4e-8b1d-4c3e-9a7f-2d5b8e1c0a94';
      const narrow = [
        { unit: 'mem.gib_h', bucket: '2026-11-28T08:00:00.000Z', quantity: '25.600000000' },
        { unit: 'scu.ai', bucket: '2026-11-28T08:00:00.000Z', quantity: '0.131866667' },
        { unit: 'scu.ai', bucket: '2026-11-28T08:01:00.000Z', quantity: '0.000000001' },
      ];
      for (const r of narrow) {
        await ds.query(
          'INSERT INTO usage_minutes (lease_id, unit, bucket, quantity) VALUES ($1, $2, $3, $4)',
          [lease, r.unit, r.bucket, r.quantity],
        );
      }
      await ds.runMigrations({ transaction: 'each' });
      const wide: { bucket: Date; scu_ai: string | null; mem_gib_h: string | null }[] =
        await ds.query(
          `SELECT bucket, scu_ai, mem_gib_h, scu_hpc FROM usage_minutes WHERE lease_id = $1
            ORDER BY bucket`,
          [lease],
        );
      expect(wide).toEqual([
        {
          bucket: new Date('2026-11-28T08:00:00Z'),
          scu_ai: '0.131866667',
          mem_gib_h: '25.600000000',
          scu_hpc: null,
        },
        {
          bucket: new Date('2026-11-28T08:01:00Z'),
          scu_ai: '0.000000001',
          mem_gib_h: null,
          scu_hpc: null,
        },
      ]);
      for (let i = ds.migrations.length; i > at; i--) {
        await ds.undoLastMigration({ transaction: 'each' });
      }
      const back: { unit: string; bucket: Date; quantity: string }[] = await ds.query(
        `SELECT unit, bucket, quantity FROM usage_minutes WHERE lease_id = $1 ORDER BY bucket, unit`,
        [lease],
      );
      expect(back).toEqual(narrow.map((r) => ({ ...r, bucket: new Date(r.bucket) })));
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
  });
});
