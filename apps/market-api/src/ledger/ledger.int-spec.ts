import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { Money } from '@suanli/money';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { DomainError } from '../common/errors.js';
import {
  checkInvariants,
  openDataSource,
  settlementKit,
  type SettlementKit,
} from '../settlement/testing/settlement-fixtures.js';
import { LedgerError, PLATFORM_OWNER } from './ledger.service.js';

let db: TestDatabase;
let ds: DataSource;
let kit: SettlementKit;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await openDataSource(db.url, 12);
  kit = settlementKit(ds);
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const count = async (table: string): Promise<number> =>
  Number((await ds.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('LedgerService', () => {
  it('posts a zero-sum transaction, creating accounts on first use and keeping running balances', async () => {
    const org = randomUUID();
    const r = await kit.wallets.credit(org, 'CNY', '100.00', `t-${org}`);
    expect(r.duplicate).toBe(false);
    expect(await kit.ledger.balances(org)).toEqual([
      { kind: 'wallet_available', currency: 'CNY', balance: '100.00' },
    ]);
    expect(await kit.wallets.view(org)).toEqual({
      balances: [{ currency: 'CNY', available: '100.00', held: '0.00', total: '100.00' }],
    });
    const entries = await ds.query(
      'SELECT amount::text FROM ledger_entries WHERE transaction_id = $1 ORDER BY amount',
      [r.transactionId],
    );
    expect(entries.map((e: { amount: string }) => e.amount)).toEqual([
      '-100.000000000',
      '100.000000000',
    ]);
    expect((await kit.ledger.trialBalance()).balanced).toBe(true);
  });

  it('is idempotent on the reference: a second post returns the first transaction and changes nothing', async () => {
    const org = randomUUID();
    const first = await kit.wallets.credit(org, 'USD', '25.00', `ref-${org}`);
    const before = [await count('ledger_transactions'), await count('ledger_entries')];
    const second = await kit.wallets.credit(org, 'USD', '999.00', `ref-${org}`);
    expect(second).toEqual({ transactionId: first.transactionId, duplicate: true });
    expect([await count('ledger_transactions'), await count('ledger_entries')]).toEqual(before);
    expect((await kit.wallets.view(org)).balances[0].available).toBe('25.00');

    // Concurrent duplicates: exactly one applies.
    const results = await Promise.all(
      Array.from({ length: 8 }, () => kit.wallets.credit(org, 'USD', '1.00', `race-${org}`)),
    );
    expect(results.filter((x) => !x.duplicate)).toHaveLength(1);
    expect(new Set(results.map((x) => x.transactionId)).size).toBe(1);
    expect((await kit.wallets.view(org)).balances[0].available).toBe('26.00');
  });

  it('rejects postings that do not sum to zero per currency, or go below the minor unit', async () => {
    const before = await count('ledger_transactions');
    const post = (entries: { amount: string; currency: string }[]) =>
      ds.transaction((m) =>
        kit.ledger.post(m, {
          kind: 'test',
          reference: randomUUID(),
          entries: entries.map((e, i) => ({ ownerKey: `o${i}`, kind: 'seller_payable', ...e })),
        }),
      );
    expect(
      await errorOf(
        post([
          { amount: '1.00', currency: 'CNY' },
          { amount: '-0.99', currency: 'CNY' },
        ]),
      ),
    ).toBeInstanceOf(LedgerError);
    expect(
      await errorOf(
        post([
          { amount: '1.00', currency: 'CNY' },
          { amount: '-1.00', currency: 'USD' },
        ]),
      ),
    ).toBeInstanceOf(LedgerError);
    expect(
      await errorOf(
        post([
          { amount: '0.001', currency: 'CNY' },
          { amount: '-0.001', currency: 'CNY' },
        ]),
      ),
    ).toBeInstanceOf(LedgerError);
    expect(
      await errorOf(
        post([
          { amount: '1e3', currency: 'CNY' },
          { amount: '-1000', currency: 'CNY' },
        ]),
      ),
    ).toBeInstanceOf(LedgerError);
    expect(await count('ledger_transactions')).toBe(before);
  });

  it('never lets a wallet go below zero, and fails before writing anything', async () => {
    const org = randomUUID();
    await kit.wallets.credit(org, 'CNY', '10.00', `c-${org}`);
    const before = await count('ledger_transactions');
    const e = await errorOf(
      ds.transaction((m) => kit.wallets.hold(m, org, Money.of('10.01', 'CNY'), `h-${org}`)),
    );
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('insufficient_funds');
    expect((e as DomainError).status).toBe(422);
    expect((e as DomainError).details).toMatchObject({ shortBy: '0.01' });
    // Caught inside a transaction, the transaction can carry on: nothing was written.
    await ds.transaction(async (m) => {
      await errorOf(kit.wallets.release(m, org, Money.of('0.01', 'CNY'), `r-${org}`));
      await kit.wallets.hold(m, org, Money.of('4.00', 'CNY'), `h2-${org}`);
    });
    expect(await count('ledger_transactions')).toBe(before + 1);
    expect(await kit.wallets.view(org)).toEqual({
      balances: [{ currency: 'CNY', available: '6.00', held: '4.00', total: '10.00' }],
    });
  });

  it('does not deadlock when postings cross the same accounts in opposite directions', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await kit.wallets.credit(a, 'CNY', '1000.00', `ca-${a}`);
    await kit.wallets.credit(b, 'CNY', '1000.00', `cb-${b}`);
    const transfer = (from: string, to: string, i: number) =>
      ds.transaction((m) =>
        kit.ledger.post(m, {
          kind: 'test_transfer',
          reference: `x-${from}-${i}`,
          entries: [
            { ownerKey: to, kind: 'wallet_available', currency: 'CNY', amount: '1.00' },
            { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue', currency: 'CNY', amount: '0.00' },
            { ownerKey: from, kind: 'wallet_available', currency: 'CNY', amount: '-1.00' },
          ],
        }),
      );
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? transfer(a, b, i) : transfer(b, a, i))),
    );
    expect((await kit.wallets.view(a)).balances[0].available).toBe('1000.00');
    expect((await kit.wallets.view(b)).balances[0].available).toBe('1000.00');
    await checkInvariants(kit, { escrow: false });
  });

  it('postMany posts many postings set-based: duplicates skipped, wallets checked over all of them', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await kit.wallets.credit(a, 'CNY', '10.00', `pm-${a}`);
    const spend = (org: string, i: number, amount: string) => ({
      kind: 'test_spend',
      reference: `pm-spend-${org}-${i}`,
      entries: [
        { ownerKey: org, kind: 'wallet_available' as const, currency: 'CNY', amount: `-${amount}` },
        { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue' as const, currency: 'CNY', amount },
      ],
    });
    const before = await count('ledger_transactions');
    // 4 × 3.00 = 12.00 > 10.00: refused as a whole, nothing written, whatever the order.
    const e = await errorOf(
      ds.transaction((m) =>
        kit.ledger.postMany(
          m,
          [1, 2, 3, 4].map((i) => spend(a, i, '3.00')),
        ),
      ),
    );
    expect((e as DomainError).code).toBe('insufficient_funds');
    expect((e as DomainError).details).toMatchObject({ shortBy: '2.00' });
    expect(await count('ledger_transactions')).toBe(before);
    // Three fit; then again with one more: the three are duplicates, the new one is posted.
    const first = await ds.transaction((m) =>
      kit.ledger.postMany(
        m,
        [1, 2, 3].map((i) => spend(a, i, '3.00')),
      ),
    );
    expect(first.map((r) => r.duplicate)).toEqual([false, false, false]);
    const id = randomUUID();
    const again = await ds.transaction((m) =>
      kit.ledger.postMany(m, [
        ...[1, 2, 3].map((i) => spend(a, i, '3.00')),
        { ...spend(a, 4, '1.00'), id },
      ]),
    );
    expect(again).toEqual([
      ...first.map((r) => ({ ...r, duplicate: true })),
      { transactionId: id, duplicate: false },
    ]);
    expect((await kit.wallets.view(a)).balances[0].available).toBe('0.00');
    expect(await count('ledger_transactions')).toBe(before + 4);
    // Every posting must balance; a reference twice in one call is refused.
    await expect(
      ds.transaction((m) =>
        kit.ledger.postMany(m, [
          spend(b, 1, '1.00'),
          { ...spend(b, 2, '1.00'), entries: spend(b, 2, '1.00').entries.slice(1) },
        ]),
      ),
    ).rejects.toBeInstanceOf(LedgerError);
    await expect(
      ds.transaction((m) => kit.ledger.postMany(m, [spend(b, 1, '0'), spend(b, 1, '0')])),
    ).rejects.toBeInstanceOf(LedgerError);
    await checkInvariants(kit, { escrow: false });
  });

  it('keeps its invariants under any sequence of credits, holds and releases (property)', async () => {
    const op = fc.record({
      kind: fc.constantFrom('credit', 'hold', 'release'),
      org: fc.integer({ min: 0, max: 2 }),
      cents: fc.integer({ min: 1, max: 50_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const orgs = [randomUUID(), randomUUID(), randomUUID()];
        const model = orgs.map(() => ({ available: 0, held: 0 }));
        for (const o of ops) {
          const amount = Money.of(o.cents, 'CNY').times('0.01');
          const ref = randomUUID();
          const w = model[o.org];
          try {
            if (o.kind === 'credit')
              await kit.wallets.credit(orgs[o.org], 'CNY', amount.toString(), ref);
            else if (o.kind === 'hold')
              await ds.transaction((m) => kit.wallets.hold(m, orgs[o.org], amount, ref));
            else await ds.transaction((m) => kit.wallets.release(m, orgs[o.org], amount, ref));
            if (o.kind === 'credit') w.available += o.cents;
            if (o.kind === 'hold')
              [w.available, w.held] = [w.available - o.cents, w.held + o.cents];
            if (o.kind === 'release')
              [w.available, w.held] = [w.available + o.cents, w.held - o.cents];
          } catch (e) {
            expect((e as DomainError).code).toBe('insufficient_funds');
            const from = o.kind === 'hold' ? w.available : w.held;
            expect(from).toBeLessThan(o.cents);
          }
        }
        for (const [i, org] of orgs.entries()) {
          const view = await kit.wallets.view(org);
          const b = view.balances[0] ?? { available: '0.00', held: '0.00', total: '0.00' };
          const money = (cents: number) => Money.of(cents, 'CNY').times('0.01').toString();
          expect([b.available, b.held]).toEqual([money(model[i].available), money(model[i].held)]);
          expect(Money.of(b.available, 'CNY').plus(Money.of(b.held, 'CNY')).toString()).toBe(
            b.total,
          );
        }
        const tb = await kit.ledger.trialBalance();
        expect(tb.balanced).toBe(true);
      }),
      { numRuns: 15 },
    );
    await checkInvariants(kit, { escrow: false });
  }, 120_000);
});
