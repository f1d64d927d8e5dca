import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import type { SettlementRunResult } from './settlement.service.js';
import {
  checkInvariants,
  openDataSource,
  placeLease,
  recordUsage,
  settlementKit,
  snapshot,
  type SettlementKit,
} from './testing/settlement-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..', '..');
let db: TestDatabase;
let ds: DataSource;
let kit: SettlementKit;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await openDataSource(db.url, 4);
  kit = settlementKit(ds);
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

/** Runs one settlement worker in a separate node process. */
function worker(
  now: string,
  startAt: number,
): Promise<{ pid: number; result: SettlementRunResult }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        join(here, 'testing', 'settle-worker.ts'),
        db.url,
        now,
        String(startAt),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`worker exited ${code}: ${err.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line) as { pid: number; result: SettlementRunResult });
    });
  });
}

describe('two settlement workers at once', () => {
  it('never charge twice: every period is settled by exactly one of them', async () => {
    const start = new Date('2026-05-04T08:00:00Z');
    const leases = [];
    // 12 leases over 4 buyers (shared wallets contend), 3 hours each, with usage.
    const buyers = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const b of buyers) await kit.wallets.credit(b, 'CNY', '5000.00', `seed-${b}`);
    for (let i = 0; i < 12; i += 1) {
      const l = await placeLease(kit, {
        buyerOrgId: buyers[i % buyers.length],
        slots: 1 + (i % 3),
        prices: [
          { unit: 'slot_h', price: '3.35' },
          { unit: 'scu.ai', price: '1.005' },
        ],
        startsAt: start,
        hours: 3,
      });
      for (let h = 0; h < 3; h += 1) {
        await recordUsage(
          ds,
          l.id,
          'scu.ai',
          new Date(start.getTime() + h * 3_600_000),
          `0.${i + 1}5`,
        );
      }
      leases.push(l);
    }
    const now = '2026-05-04T11:00:00.000Z';
    const startAt = Date.now() + 4000; // both processes load, then start together
    const [a, b] = await Promise.all([worker(now, startAt), worker(now, startAt)]);
    expect(a.pid).not.toBe(b.pid);
    expect(a.result.failed).toEqual([]);
    expect(b.result.failed).toEqual([]);
    // 12 leases × 3 periods: each note issued by exactly one worker, each invoice once.
    expect(a.result.debitNotes + b.result.debitNotes).toBe(36);
    expect(a.result.invoices + b.result.invoices).toBe(12);
    const notes: { n: number; distinct: number }[] = await ds.query(
      `SELECT count(*)::int AS n, count(DISTINCT (lease_id, period_start))::int AS distinct FROM debit_notes`,
    );
    expect(notes).toEqual([{ n: 36, distinct: 36 }]);
    const postings: { n: number }[] = await ds.query(
      `SELECT count(*)::int AS n FROM ledger_transactions WHERE reference LIKE 'debit-note:%'`,
    );
    expect(postings).toEqual([{ n: 36 }]);
    expect(await ds.query('SELECT count(*)::int AS n FROM invoices')).toEqual([{ n: 12 }]);
    await checkInvariants(kit);
    // And a third run afterwards changes nothing.
    const before = await snapshot(ds);
    await kit.settlement.runDue(new Date(now));
    expect(await snapshot(ds)).toBe(before);
  }, 120_000);
});
