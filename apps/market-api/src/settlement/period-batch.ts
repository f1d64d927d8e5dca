import type { EntityManager } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Money, parseDecimal } from '@suanli/money';
import type { ComputeClass } from '@suanli/units';
import type { PriceRow } from '../database/market.entities.js';
import {
  LedgerService,
  PLATFORM_OWNER,
  type AccountKey,
  type LockedAccount,
} from '../ledger/ledger.service.js';
import { holdReference, releaseReference } from './escrow.service.js';
import { HOUR_MS, escrowHold, floorHour, ratePeriod } from './rating.js';

/**
 * The batched hourly run (set-based SQL per chunk of leases). For the common case — a running
 * lease on `fixed` prices whose period is paid from its hold and the wallet, and whose next hold
 * the wallet covers — a chunk of leases is settled one period each in ONE transaction with a
 * fixed number of statements, whatever the chunk size: the leases are row-locked (SKIP LOCKED,
 * so a concurrent worker takes other leases), usage, holds and existing notes are read with one
 * query each, every account is locked once in the ledger's stable order, rating stays in exact
 * decimals in JS, and the ledger transactions, entries, balance updates, debit notes and lease
 * updates are each one multi-row statement. The postings, references and memos are exactly those
 * of the per-lease step (`SettlementService.settlePeriod`), so the two paths mix freely and
 * every step stays idempotent. A lease that needs anything else (tiered, reserved or
 * interruptible prices, usage beyond what the wallet can pay, a next hold it cannot cover, a
 * note that already exists) is left to the per-lease step, unchanged.
 */

export interface BatchLease {
  id: string;
  buyerOrgId: string;
  sellerOrgId: string;
  currency: string;
  slots: number;
  prices: PriceRow[];
  takeRate: string;
  startsAt: Date;
  endsAt: Date;
  settledUntil: Date;
  catalogVersion: string;
  spec: ResourceSpec;
  computeClass: ComputeClass;
  /** The lease's originating correlation id (its order request's). */
  correlationId: string | null;
}

/** A debit note the chunk wrote (for the run's log lines). */
export interface ChunkNote {
  leaseId: string;
  correlationId: string | null;
  start: Date;
  end: Date;
  gross: string;
  currency: string;
}

export interface ChunkResult {
  /** Leases of the chunk (locked and looked at). */
  seen: string[];
  /** Leases settled by one period in this chunk. */
  settled: string[];
  /** Leases left to the per-lease step. */
  deferred: string[];
}

/** A posting of the batch: the same kind, reference, memo and entries as the per-lease step. */
interface BatchPosting {
  kind: string;
  reference: string;
  memo: string;
  entries: { key: AccountKey; amount: Money }[];
}

const accountKey = (k: AccountKey): string => `${k.ownerKey}\u0000${k.kind}\u0000${k.currency}`;

/** Running leases with a completed period due, on fixed prices only; locked, skipping locked. */
const CHUNK_SQL = `
  SELECT l.id, l.buyer_org_id AS "buyerOrgId", l.seller_org_id AS "sellerOrgId",
         l.currency, l.slots, l.prices, l.take_rate::text AS "takeRate",
         l.starts_at AS "startsAt", l.ends_at AS "endsAt", l.settled_until AS "settledUntil",
         l.catalog_version AS "catalogVersion", r.spec, r.class AS "computeClass",
         l.correlation_id AS "correlationId"
    FROM leases l JOIN resources r ON r.id = l.resource_id
   WHERE l.state IN ('pending', 'active') AND l.starts_at <= $1
     AND l.settled_until < l.ends_at
     AND LEAST(date_bin('1 hour', l.settled_until, TIMESTAMPTZ '2000-01-01 00:00:00+00')
               + interval '1 hour', l.ends_at) <= $2
     AND NOT jsonb_path_exists(l.prices, '$[*] ? (exists(@.model) && @.model != "fixed")')
     AND l.id > $3 AND NOT (l.id = ANY($4::uuid[]))
   ORDER BY l.id
   LIMIT $5
   FOR UPDATE OF l SKIP LOCKED`;

/**
 * Settles one period of each lease in the next chunk (ids after `after`, skipping `exclude`),
 * in the caller's transaction. Throws (and the caller rolls the chunk back) on any surprise.
 */
export async function settleChunk(
  m: EntityManager,
  ledger: LedgerService,
  opts: {
    now: Date;
    horizon: Date;
    after: string;
    exclude: string[];
    limit: number;
    /** The settlement run, recorded on each debit note. */
    runId?: string;
  },
): Promise<ChunkResult & { debitNoteIds: string[]; notes: ChunkNote[]; error?: string }> {
  const leases: BatchLease[] = await m.query(CHUNK_SQL, [
    opts.now,
    opts.horizon,
    opts.after,
    opts.exclude,
    opts.limit,
  ]);
  const result = {
    seen: leases.map((l) => l.id),
    settled: [] as string[],
    deferred: [] as string[],
    debitNoteIds: [] as string[],
    notes: [] as ChunkNote[],
  };
  if (leases.length === 0) return result;

  const periods = leases.map((l) => {
    const start = l.settledUntil;
    const end = new Date(Math.min(floorHour(start).getTime() + HOUR_MS, l.endsAt.getTime()));
    return { lease: l, start, end };
  });
  const ids = periods.map((p) => p.lease.id);
  const starts = periods.map((p) => p.start);
  // Anything unexpected rolls back to here and leaves the whole chunk to the per-lease step.
  await m.query('SAVEPOINT settle_chunk');
  try {
    return await settleLocked(m, ledger, periods, ids, starts, result, opts.runId ?? null);
  } catch (e) {
    await m.query('ROLLBACK TO SAVEPOINT settle_chunk');
    return {
      ...result,
      settled: [],
      deferred: result.seen,
      debitNoteIds: [],
      notes: [],
      error: String(e),
    };
  }
}

async function settleLocked(
  m: EntityManager,
  ledger: LedgerService,
  periods: { lease: BatchLease; start: Date; end: Date }[],
  ids: string[],
  starts: Date[],
  result: ChunkResult & { debitNoteIds: string[]; notes: ChunkNote[] },
  runId: string | null,
): Promise<ChunkResult & { debitNoteIds: string[]; notes: ChunkNote[] }> {
  const existing: { id: string }[] = await m.query(
    `SELECT d.lease_id AS id FROM debit_notes d
       JOIN unnest($1::uuid[], $2::timestamptz[]) AS p(id, s)
         ON d.lease_id = p.id AND d.period_start = p.s AND d.kind = 'period'`,
    [ids, starts],
  );
  const usage: { id: string; unit: string; quantity: string }[] = await m.query(
    `SELECT u.lease_id AS id, u.unit, u.quantity::text AS quantity FROM usage_hours u
         JOIN unnest($1::uuid[], $2::timestamptz[]) AS p(id, b)
           ON u.lease_id = p.id AND u.bucket = p.b`,
    [ids, periods.map((p) => floorHour(p.start))],
  );
  const held: { reference: string; amount: string }[] = await m.query(
    `SELECT t.reference, SUM(e.amount)::text AS amount
         FROM ledger_transactions t
         JOIN ledger_entries e ON e.transaction_id = t.id
         JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'wallet_held'
        WHERE t.reference = ANY($1::text[])
        GROUP BY t.reference`,
    [periods.map((p) => holdReference(p.lease.id, p.start))],
  );
  const hasNote = new Set(existing.map((r) => r.id));
  const usageOf = new Map<string, Record<string, string>>();
  for (const u of usage) {
    const row = usageOf.get(u.id) ?? {};
    row[u.unit] = u.quantity;
    usageOf.set(u.id, row);
  }
  const heldOf = new Map(held.map((h) => [h.reference, h.amount]));

  // Every account the chunk can touch, locked once in the ledger's stable order.
  const keys: AccountKey[] = [];
  for (const { lease: l } of periods) {
    keys.push(
      { ownerKey: l.buyerOrgId, kind: 'wallet_available', currency: l.currency },
      { ownerKey: l.buyerOrgId, kind: 'wallet_held', currency: l.currency },
      { ownerKey: l.sellerOrgId, kind: 'seller_payable', currency: l.currency },
      { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue', currency: l.currency },
    );
  }
  const locked = await ledger.lockAccounts(m, keys);
  const accounts = new Map<string, LockedAccount>();
  const balance = new Map<string, Money>();
  for (const a of locked.values()) {
    const k = accountKey({ ownerKey: a.owner_key, kind: a.kind, currency: a.currency.trim() });
    accounts.set(k, a);
    balance.set(k, Money.of(a.balance, a.currency.trim()));
  }
  const bal = (k: AccountKey): Money => balance.get(accountKey(k)) as Money;

  const postings: BatchPosting[] = [];
  const notes: {
    leaseId: string;
    start: Date;
    end: Date;
    currency: string;
    lines: string;
    gross: string;
    fee: string;
    net: string;
    reference: string;
    correlationId: string | null;
  }[] = [];
  for (const { lease: l, start, end } of periods) {
    if (hasNote.has(l.id)) {
      result.deferred.push(l.id);
      continue;
    }
    const cur = l.currency;
    const activeFrom = Math.max(start.getTime(), l.startsAt.getTime());
    const rated = ratePeriod({
      currency: cur,
      slots: l.slots,
      prices: l.prices,
      activeMs: Math.max(0, end.getTime() - activeFrom),
      usage: usageOf.get(l.id) ?? {},
      takeRate: l.takeRate,
    });
    const gross = Money.of(rated.gross, cur);
    const heldAmount = Money.of(heldOf.get(holdReference(l.id, start)) ?? '0', cur);
    const fromHeld = gross.lt(heldAmount) ? gross : heldAmount;
    const fromAvailable = gross.minus(fromHeld);
    const release = heldAmount.minus(fromHeld);
    const availableKey: AccountKey = {
      ownerKey: l.buyerOrgId,
      kind: 'wallet_available',
      currency: cur,
    };
    const heldKey: AccountKey = { ownerKey: l.buyerOrgId, kind: 'wallet_held', currency: cur };
    const available = bal(availableKey);
    const continuing = end.getTime() < l.endsAt.getTime();
    const next = continuing
      ? escrowHold({
          currency: cur,
          slots: l.slots,
          prices: l.prices,
          spec: l.spec,
          computeClass: l.computeClass,
          catalog: l.catalogVersion,
        })
      : Money.zero(cur);
    // Usage beyond what the wallet can pay, or a next hold it cannot cover: the per-lease step
    // handles it (receivable, suspension).
    if (fromAvailable.gt(available) || available.minus(fromAvailable).plus(release).lt(next)) {
      result.deferred.push(l.id);
      continue;
    }
    const sellerKey: AccountKey = {
      ownerKey: l.sellerOrgId,
      kind: 'seller_payable',
      currency: cur,
    };
    const platformKey: AccountKey = {
      ownerKey: PLATFORM_OWNER,
      kind: 'platform_revenue',
      currency: cur,
    };
    const entries = [
      { key: heldKey, amount: fromHeld.negated() },
      { key: availableKey, amount: fromAvailable.negated() },
      { key: sellerKey, amount: Money.of(rated.net, cur) },
      { key: platformKey, amount: Money.of(rated.fee, cur) },
    ].filter((e) => !e.amount.isZero());
    const reference = `debit-note:${l.id}:${start.toISOString()}`;
    postings.push({
      kind: 'debit_note',
      reference,
      memo: `lease ${l.id}, ${start.toISOString()}–${end.toISOString()}`,
      entries,
    });
    if (!release.isZero()) {
      postings.push({
        kind: 'escrow_release',
        reference: releaseReference(l.id, start),
        memo: `escrow released for lease ${l.id} from ${start.toISOString()}`,
        entries: [
          { key: heldKey, amount: release.negated() },
          { key: availableKey, amount: release },
        ],
      });
    }
    if (!next.isZero()) {
      postings.push({
        kind: 'escrow_hold',
        reference: holdReference(l.id, end),
        memo: `escrow for lease ${l.id} from ${end.toISOString()}`,
        entries: [
          { key: availableKey, amount: next.negated() },
          { key: heldKey, amount: next },
        ],
      });
    }
    for (const [k, delta] of [
      [availableKey, fromAvailable.negated().plus(release).minus(next)],
      [heldKey, fromHeld.negated().minus(release).plus(next)],
      [sellerKey, Money.of(rated.net, cur)],
      [platformKey, Money.of(rated.fee, cur)],
    ] as const) {
      balance.set(accountKey(k), bal(k).plus(delta));
    }
    notes.push({
      leaseId: l.id,
      start,
      end,
      currency: cur,
      lines: JSON.stringify(rated.lines),
      gross: rated.gross,
      fee: rated.fee,
      net: rated.net,
      reference,
      correlationId: l.correlationId,
    });
    result.settled.push(l.id);
  }
  if (notes.length === 0) return result;

  // The wallets never go below zero (checked per lease above; this is the ledger's own rule).
  for (const [k, b] of balance) {
    const kind = accounts.get(k)?.kind;
    if ((kind === 'wallet_available' || kind === 'wallet_held') && b.isNegative()) {
      throw new Error(`batch would take ${k} below zero`);
    }
  }

  const tx: { id: string; reference: string }[] = await m.query(
    `INSERT INTO ledger_transactions (kind, reference, memo)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (reference) DO NOTHING RETURNING id, reference`,
    [postings.map((p) => p.kind), postings.map((p) => p.reference), postings.map((p) => p.memo)],
  );
  if (tx.length !== postings.length) {
    throw new Error('a reference of the chunk was posted concurrently; retried per lease');
  }
  const txOf = new Map(tx.map((t) => [t.reference, t.id]));
  const e = {
    tx: [] as string[],
    account: [] as string[],
    currency: [] as string[],
    amount: [] as string[],
  };
  const deltas = new Map<string, Money>();
  for (const p of postings) {
    if (p.entries.length === 0) continue;
    let sum = Money.zero(p.entries[0].amount.currency);
    for (const entry of p.entries) {
      const k = accountKey(entry.key);
      e.tx.push(txOf.get(p.reference) as string);
      e.account.push((accounts.get(k) as LockedAccount).id);
      e.currency.push(entry.key.currency);
      e.amount.push(parseDecimal(entry.amount.toString()).toFixed());
      deltas.set(k, (deltas.get(k) ?? Money.zero(entry.key.currency)).plus(entry.amount));
      sum = sum.plus(entry.amount);
    }
    if (!sum.isZero()) throw new Error(`${p.reference}: entries do not balance`);
  }
  const changed = [...deltas].filter(([, d]) => !d.isZero());
  await m.query(
    `INSERT INTO ledger_entries (transaction_id, account_id, currency, amount)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::numeric[])`,
    [e.tx, e.account, e.currency, e.amount],
  );
  await m.query(
    `UPDATE ledger_accounts AS a SET balance = a.balance + v.delta
       FROM unnest($1::uuid[], $2::numeric[]) AS v(id, delta) WHERE a.id = v.id`,
    [
      changed.map(([k]) => (accounts.get(k) as LockedAccount).id),
      changed.map(([, d]) => parseDecimal(d.toString()).toFixed()),
    ],
  );
  const inserted: { id: string }[] = await m.query(
    `INSERT INTO debit_notes (lease_id, kind, period_start, period_end, currency, lines, gross,
                              fee, net, transaction_id, correlation_id, settlement_run_id)
     SELECT x.l, 'period', x.s, x.e, x.c, x.li::jsonb, x.g, x.f, x.n, x.t, x.ci, $11
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[],
                   $6::numeric[], $7::numeric[], $8::numeric[], $9::uuid[], $10::text[])
            AS x(l, s, e, c, li, g, f, n, t, ci)
     RETURNING id`,
    [
      notes.map((n) => n.leaseId),
      notes.map((n) => n.start),
      notes.map((n) => n.end),
      notes.map((n) => n.currency),
      notes.map((n) => n.lines),
      notes.map((n) => n.gross),
      notes.map((n) => n.fee),
      notes.map((n) => n.net),
      notes.map((n) => txOf.get(n.reference) as string),
      notes.map((n) => n.correlationId),
      runId,
    ],
  );
  result.debitNoteIds = inserted.map((r) => r.id);
  result.notes = notes.map((n) => ({
    leaseId: n.leaseId,
    correlationId: n.correlationId,
    start: n.start,
    end: n.end,
    gross: n.gross,
    currency: n.currency,
  }));
  await m.query(
    `UPDATE leases AS l SET settled_until = v.e
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, e) WHERE l.id = v.id`,
    [notes.map((n) => n.leaseId), notes.map((n) => n.end)],
  );
  return result;
}
