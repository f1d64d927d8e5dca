import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { generateSigningKey } from '@suanli/crypto';
import {
  leafHash,
  MerkleFrontier,
  rootFromTiles,
  rootOf,
  TileHashes,
  toHex,
  type TileReader,
} from '@suanli/transparency';
import { FixedClock, type Clock } from '../../apps/market-api/src/common/clock.js';
import { AppConfig } from '../../apps/market-api/src/config/app-config.js';
import { SettlementConfig } from '../../apps/market-api/src/settlement/settlement.config.js';
import { SettlementLogConfig } from '../../apps/market-api/src/settlement-log/settlement-log.config.js';
import { SettlementLogService } from '../../apps/market-api/src/settlement-log/settlement-log.service.js';
import { randomUUID } from 'node:crypto';
import { LedgerService } from '../../apps/market-api/src/ledger/ledger.service.js';
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
/** Undoes the migrations from the last one back to (and including) `name`. */
async function undoThrough(ds: DataSource, name: string): Promise<void> {
  const at = ds.migrations.findIndex((m) => m.name === name);
  expect(at).toBeGreaterThanOrEqual(0);
  for (let i = ds.migrations.length; i > at; i--) {
    await ds.undoLastMigration({ transaction: 'each' });
  }
}

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
      await undoThrough(ds, 'DebitNotePeriodUnique1796664909171');
      // TypeORM's diff says nothing of debit_notes (what it lacks of later migrations, which
      // were undone with it, aside).
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries.filter((q) => q.query.includes('"debit_notes"'))).toEqual([]);
      // Of debit_notes too: the constraints and indexes of later migrations, undone, aside.
      const diff = compareSchemaObjects(
        await schemaObjects(db.url),
        await entitySchemaObjects(db.url),
      ).filter((d) => d.table === 'debit_notes');
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

  it('give each lease what its open hold holds when escrow_held arrives', async () => {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      await undoThrough(ds, 'LeaseEscrowHeld1796678365976');
      // Two leases as the old model left them: one holding 25.00 for its open period (its
      // earlier period's hold released), one suspended (nothing held for its open period).
      const [open, suspended] = [randomUUID(), randomUUID()];
      const buyer = randomUUID();
      for (const [id, state] of [
        [open, 'active'],
        [suspended, 'suspended'],
      ]) {
        await ds.query(
          `INSERT INTO leases (id, order_id, offer_id, resource_id, buyer_org_id, seller_org_id,
             slots, state, starts_at, ends_at, currency, prices, catalog_version, take_rate,
             settled_until)
           VALUES ($1, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), $2,
             gen_random_uuid(), 1, $3, '2026-06-01T10:00:00Z', '2026-06-01T13:00:00Z', 'CNY',
             '[{"unit": "slot_h", "price": "25.00"}]', '2026.1', 0.05, '2026-06-01T11:00:00Z')`,
          [id, buyer, state],
        );
      }
      const ledger = new LedgerService(ds);
      // `held` moved into the lease's escrow (negative: released back to available).
      const move = (reference: string, held: string) => ({
        kind: 'escrow',
        reference,
        entries: [
          {
            ownerKey: buyer,
            kind: 'wallet_available' as const,
            currency: 'CNY',
            amount: held.startsWith('-') ? held.slice(1) : `-${held}`,
          },
          { ownerKey: buyer, kind: 'wallet_held' as const, currency: 'CNY', amount: held },
        ],
      });
      await ds.transaction((m) =>
        ledger.postMany(m, [
          {
            kind: 'fund',
            reference: `fund-${buyer}`,
            entries: [
              { ownerKey: 'platform', kind: 'test_funding', currency: 'CNY', amount: '-100.00' },
              { ownerKey: buyer, kind: 'wallet_available', currency: 'CNY', amount: '100.00' },
            ],
          },
          move(`escrow-hold:${open}:2026-06-01T10:00:00.000Z`, '25.00'),
          move(`escrow-release:${open}:2026-06-01T10:00:00.000Z`, '-25.00'),
          move(`escrow-hold:${open}:2026-06-01T11:00:00.000Z`, '25.00'),
          move(`escrow-hold:${suspended}:2026-06-01T10:00:00.000Z`, '25.00'),
          move(`escrow-release:${suspended}:2026-06-01T10:00:00.000Z`, '-25.00'),
        ]),
      );
      await ds.runMigrations({ transaction: 'each' });
      const held = await ds.query(
        'SELECT id, escrow_held::text AS held FROM leases WHERE buyer_org_id = $1 ORDER BY state',
        [buyer],
      );
      expect(held).toEqual([
        { id: open, held: '25.000000000' },
        { id: suspended, held: '0.000000000' },
      ]);
      await ds.query('DELETE FROM leases WHERE buyer_org_id = $1', [buyer]);
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
      await undoThrough(ds, 'UsageMinutesWide1796634638681');
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
      await undoThrough(ds, 'UsageMinutesWide1796634638681');
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

  it('turn the settlement log of perfect nodes into tiles with the same root and indices, and back', async () => {
    const ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    try {
      await undoThrough(ds, 'SettlementLogTiles1796664900000');
      // The old layout: 600 leaves sequenced in an order unlike their seqs, 100 still pending,
      // and every perfect node the old sequencer stored.
      const texts = Array.from({ length: 700 }, (_, i) => `{"i":${i},"type":"payout"}`);
      const indexOf = (seq: number) => (seq <= 600 ? (seq * 7) % 600 : null);
      for (let s = 1; s <= 700; s++) {
        await ds.query(
          `INSERT INTO settlement_log_leaves (leaf_index, kind, record_id, leaf, leaf_hash)
           VALUES ($1, 'payout', $2, $3, $4)`,
          [indexOf(s), `r${s}`, texts[s - 1], Buffer.from(leafHash(texts[s - 1]))],
        );
      }
      const inOldOrder = Array.from({ length: 600 }, (_, idx) => {
        const seq = Array.from({ length: 600 }, (_, k) => k + 1).find(
          (x) => indexOf(x) === idx,
        ) as number;
        return texts[seq - 1];
      });
      const frontier = new MerkleFrontier();
      for (const t of inOldOrder) {
        for (const n of frontier.append(leafHash(t))) {
          if (n.level > 0) {
            await ds.query(
              'INSERT INTO settlement_log_nodes (level, idx, hash) VALUES ($1, $2, $3)',
              [n.level, n.index, Buffer.from(n.hash)],
            );
          }
        }
      }
      await ds.runMigrations({ transaction: 'each' });

      const read: TileReader = async (refs) =>
        Promise.all(
          refs.map(async (r) => {
            const [row]: { hashes: Buffer }[] = await ds.query(
              'SELECT hashes FROM settlement_log_tiles WHERE level = $1 AND idx = $2',
              [r.level, r.index],
            );
            return new TileHashes(new Uint8Array(row.hashes.subarray(0, r.width * 32)));
          }),
        );
      expect(
        await ds.query(
          'SELECT size::int, last_tx::int AS tx, last_seq::int AS seq FROM settlement_log_state',
        ),
      ).toEqual([{ size: 600, tx: 0, seq: 600 }]);
      expect(toHex(await rootFromTiles(600, read))).toBe(toHex(frontier.root()));
      // The new sequencer continues with the pending leaves, in their old (seq) order.
      const key = await generateSigningKey('migration-test');
      const log = new SettlementLogService(
        ds,
        AppConfig.fromEnv({
          DATABASE_URL: db.url,
          PLATFORM_SIGNING_JWK: JSON.stringify(key.privateJwk),
        }),
        new FixedClock(new Date('2026-12-01T00:00:00Z')) as Clock,
        new SettlementLogConfig({}),
        new SettlementConfig(),
      );
      const cp = await log.checkpoint();
      const all = [...inOldOrder, ...texts.slice(600)];
      expect(cp.treeSize).toBe(700);
      expect(cp.rootHash).toBe(toHex(rootOf(all.map((t) => leafHash(t)))));
      expect((await log.leafOf('payout', 'r7'))?.leafIndex).toBe(49);
      expect((await log.leafOf('payout', 'r650'))?.leafIndex).toBe(649);

      // Down: leaf indices and every perfect node come back.
      await undoThrough(ds, 'SettlementLogTiles1796664900000');
      const back: { seq: number; idx: number }[] = await ds.query(
        'SELECT seq::int, leaf_index::int AS idx FROM settlement_log_leaves ORDER BY seq',
      );
      expect(back.slice(0, 600).every((r) => r.idx === indexOf(r.seq))).toBe(true);
      expect(back.slice(600).map((r) => r.idx)).toEqual(
        Array.from({ length: 100 }, (_, k) => 600 + k),
      );
      const again = new MerkleFrontier();
      const nodes: string[] = [];
      for (const t of all) {
        for (const n of again.append(leafHash(t))) {
          if (n.level > 0) nodes.push(`${n.level}:${n.index}:${toHex(n.hash)}`);
        }
      }
      const stored: { k: string }[] = await ds.query(
        `SELECT level || ':' || idx || ':' || encode(hash, 'hex') AS k FROM settlement_log_nodes`,
      );
      expect(stored.map((r) => r.k).sort()).toEqual(nodes.sort());
      await ds.runMigrations({ transaction: 'each' });
      expect((await ds.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
