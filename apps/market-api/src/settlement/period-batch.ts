import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Decimal, Money } from '@suanli/money';
import type { ComputeClass } from '@suanli/units';
import type { PriceRow } from '../database/market.entities.js';
import type { DebitNoteRecord, MoneyEvents } from '../events/money-events.js';
import type { LedgerPosting, LedgerService } from '../ledger/ledger.service.js';
import { isInsufficientFunds } from './escrow.service.js';
import { periodMoney, pausedWithin } from './period-money.js';
import {
  escrowHold,
  floorHour,
  modelOf,
  nextPeriod,
  ratePeriod,
  type RatedPeriod,
} from './rating.js';

/**
 * The batched hourly run (set-based SQL per chunk of leases). A chunk is up to `limit` running
 * leases of every pricing model with a completed period due, row-locked with SKIP LOCKED (a
 * concurrent worker takes other leases); ALL their due periods are settled in ONE transaction
 * with a fixed number of statements whatever the chunk's size: usage, prior use (tiered,
 * reserved), pauses (interruptible), existing notes and wallet balances are read with one query
 * each; rating and the periods' money are computed in exact decimals in JS, in time order across
 * the chunk's leases (so leases sharing a wallet pay their hours in the order they were used);
 * then the debit notes, their settlement-log leaves (the `debit-notes.issued` money event) and
 * the lease updates are each one multi-row statement, and the postings go through
 * `LedgerService.postMany`, which locks the accounts last, for the shortest time. A period's
 * posting, note and lease update are exactly the per-lease step's (`periodMoney`,
 * `ratePeriodOf`), so the two paths mix freely and every step stays idempotent. A lease that is
 * to be suspended at some period is left to the per-lease step from that period on; a chunk that
 * fails for any other reason rolls back to its savepoint and goes per lease.
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
  escrowHeld: string;
  catalogVersion: string;
  spec: ResourceSpec;
  computeClass: ComputeClass;
  /** The lease's originating correlation id (its order request's). */
  correlationId: string | null;
}

/** What a chunk did for one lease (for the run's log lines). */
export interface ChunkLeaseNotes {
  leaseId: string;
  correlationId: string | null;
  start: Date;
  end: Date;
  notes: number;
  gross: string;
  currency: string;
}

export interface ChunkResult {
  /** Leases of the chunk (locked and looked at). */
  seen: string[];
  /** Leases with at least one period settled in this chunk. */
  settled: string[];
  /** Debit notes written. */
  notes: number;
  /** Leases left to the per-lease step. */
  deferred: string[];
  /** Per lease settled: its notes, for the log. */
  byLease: ChunkLeaseNotes[];
  /** Why the chunk went per lease (it wrote nothing). */
  error?: string;
}

/** Everything rating a lease's periods needs besides the lease: read for many leases at once. */
export interface RatingInputs {
  /** Metered units per UTC hour bucket (epoch ms) from the lease's `settled_until` on. */
  usage: Map<number, Record<string, string>>;
  /** tiered / reserved: milliseconds of the lease's settled periods, and their metered units. */
  priorActiveMs: number;
  prior: Record<string, string>;
  /** interruptible: the lease's pauses that may overlap its unsettled periods. */
  pauses: { pausedAt: Date; resumedAt: Date | null }[];
}

type RatedLease = Pick<
  BatchLease,
  'id' | 'currency' | 'slots' | 'prices' | 'takeRate' | 'startsAt' | 'settledUntil'
>;

const needsPrior = (prices: readonly PriceRow[]): boolean =>
  prices.some((r) => modelOf(r) === 'tiered' || modelOf(r) === 'reserved');
const interruptible = (prices: readonly PriceRow[]): boolean =>
  prices.some((r) => modelOf(r) === 'interruptible');

/**
 * The rating inputs of `leases` from their `settled_until` on: usage buckets, prior use (only
 * leases with tiered or reserved prices) and pauses (only interruptible ones), one query each.
 * Buckets are UTC hours, as metering writes them, whatever the session's TimeZone.
 */
export async function loadRatingInputs(
  m: EntityManager,
  leases: readonly RatedLease[],
): Promise<Map<string, RatingInputs>> {
  const out = new Map<string, RatingInputs>();
  for (const l of leases) {
    out.set(l.id, { usage: new Map(), priorActiveMs: 0, prior: {}, pauses: [] });
  }
  if (leases.length === 0) return out;
  const usage: { id: string; unit: string; bucket: Date; quantity: string }[] = await m.query(
    `SELECT u.lease_id AS id, u.unit, u.bucket, u.quantity::text AS quantity FROM usage_hours u
       JOIN unnest($1::uuid[], $2::timestamptz[]) AS p(id, b) ON u.lease_id = p.id AND u.bucket >= p.b`,
    [leases.map((l) => l.id), leases.map((l) => floorHour(l.settledUntil))],
  );
  for (const u of usage) {
    const buckets = (out.get(u.id) as RatingInputs).usage;
    const row = buckets.get(u.bucket.getTime()) ?? {};
    row[u.unit] = u.quantity;
    buckets.set(u.bucket.getTime(), row);
  }
  const withPrior = leases.filter((l) => needsPrior(l.prices)).map((l) => l.id);
  if (withPrior.length > 0) {
    const prior: { id: string; unit: string | null; quantity: string }[] = await m.query(
      `SELECT d.lease_id AS id, NULL AS unit,
              sum(round(extract(epoch FROM d.period_end - d.period_start) * 1000))::text AS quantity
         FROM debit_notes d WHERE d.lease_id = ANY($1::uuid[]) AND d.kind = 'period'
        GROUP BY d.lease_id
       UNION ALL
       SELECT u.lease_id, u.unit, sum(u.quantity)::text FROM usage_hours u
        WHERE u.lease_id = ANY($1::uuid[]) AND (u.lease_id, u.bucket) IN (
          SELECT d.lease_id, date_trunc('hour', d.period_start, 'UTC') FROM debit_notes d
           WHERE d.lease_id = ANY($1::uuid[]) AND d.kind = 'period')
        GROUP BY u.lease_id, u.unit`,
      [withPrior],
    );
    for (const p of prior) {
      const inputs = out.get(p.id) as RatingInputs;
      if (p.unit === null) inputs.priorActiveMs = Number(p.quantity);
      else inputs.prior[p.unit] = p.quantity;
    }
  }
  const paused = leases.filter((l) => interruptible(l.prices));
  if (paused.length > 0) {
    const rows: { id: string; pausedAt: Date; resumedAt: Date | null }[] = await m.query(
      `SELECT i.lease_id AS id, i.paused_at AS "pausedAt", i.resumed_at AS "resumedAt"
         FROM lease_interruptions i
         JOIN unnest($1::uuid[], $2::timestamptz[]) AS p(id, s)
           ON i.lease_id = p.id AND (i.resumed_at IS NULL OR i.resumed_at > p.s)`,
      [paused.map((l) => l.id), paused.map((l) => l.settledUntil)],
    );
    for (const r of rows) (out.get(r.id) as RatingInputs).pauses.push(r);
  }
  return out;
}

/**
 * Rates one period of the lease from its rating inputs, then counts the period into the
 * inputs' prior use (for the lease's next period in the same run).
 */
export function ratePeriodOf(
  lease: RatedLease,
  period: { start: Date; end: Date },
  inputs: RatingInputs,
): RatedPeriod {
  const activeFrom = Math.max(period.start.getTime(), lease.startsAt.getTime());
  const activeMs = Math.max(0, period.end.getTime() - activeFrom);
  const usage = inputs.usage.get(floorHour(period.start).getTime()) ?? {};
  const rated = ratePeriod({
    currency: lease.currency,
    slots: lease.slots,
    prices: lease.prices,
    activeMs,
    usage,
    takeRate: lease.takeRate,
    prior: inputs.prior,
    priorActiveMs: inputs.priorActiveMs,
    pausedMs: interruptible(lease.prices)
      ? pausedWithin(inputs.pauses, new Date(activeFrom), period.end)
      : 0,
  });
  inputs.priorActiveMs += period.end.getTime() - period.start.getTime();
  for (const [unit, q] of Object.entries(usage)) {
    inputs.prior[unit] = new Decimal(inputs.prior[unit] ?? '0').plus(q).toFixed();
  }
  return rated;
}

/** A debit note row as the settlement paths insert it. */
export interface NewDebitNote {
  id: string;
  leaseId: string;
  start: Date;
  end: Date;
  currency: string;
  rated: RatedPeriod;
  transactionId: string;
  correlationId: string | null;
}

/** Inserts period debit notes (one statement) and returns them as records for their event. */
export async function insertPeriodNotes(
  m: EntityManager,
  notes: readonly NewDebitNote[],
  parties: (leaseId: string) => { sellerOrgId: string; buyerOrgId: string },
  runId: string | null,
): Promise<DebitNoteRecord[]> {
  if (notes.length === 0) return [];
  // One JSON parameter for all the rows (cheaper than one pg array literal per column).
  const rows: { id: string; createdAt: Date }[] = await m.query(
    `INSERT INTO debit_notes (id, lease_id, kind, period_start, period_end, currency, lines, gross,
                              fee, net, transaction_id, correlation_id, settlement_run_id)
     SELECT x.id, x.l, 'period', x.s, x.e, x.c, x.li, x.g, x.f, x.n, x.t, x.ci, $2
       FROM json_to_recordset($1::json) AS x(id uuid, l uuid, s timestamptz, e timestamptz,
            c text, li jsonb, g numeric, f numeric, n numeric, t uuid, ci text)
     RETURNING id, created_at AS "createdAt"`,
    [
      JSON.stringify(
        notes.map((n) => ({
          id: n.id,
          l: n.leaseId,
          s: n.start,
          e: n.end,
          c: n.currency,
          li: n.rated.lines,
          g: n.rated.gross,
          f: n.rated.fee,
          n: n.rated.net,
          t: n.transactionId,
          ci: n.correlationId,
        })),
      ),
      runId,
    ],
  );
  const createdAt = new Map(rows.map((r) => [r.id, r.createdAt]));
  return notes.map((n) => ({
    id: n.id,
    kind: 'period',
    leaseId: n.leaseId,
    sellerOrgId: parties(n.leaseId).sellerOrgId,
    buyerOrgId: parties(n.leaseId).buyerOrgId,
    currency: n.currency,
    periodStart: n.start,
    periodEnd: n.end,
    lines: n.rated.lines,
    gross: n.rated.gross,
    fee: n.rated.fee,
    net: n.rated.net,
    createdAt: createdAt.get(n.id) as Date,
  }));
}

/** Running leases of every model with a completed period due; locked, skipping locked. */
const CHUNK_SQL = `
  SELECT l.id, l.buyer_org_id AS "buyerOrgId", l.seller_org_id AS "sellerOrgId",
         l.currency, l.slots, l.prices, l.take_rate::text AS "takeRate",
         l.starts_at AS "startsAt", l.ends_at AS "endsAt", l.settled_until AS "settledUntil",
         l.escrow_held::text AS "escrowHeld", l.catalog_version AS "catalogVersion", r.spec,
         r.class AS "computeClass", l.correlation_id AS "correlationId"
    FROM leases l JOIN resources r ON r.id = l.resource_id
   WHERE l.state = 'active' AND l.starts_at <= $1
     AND l.settled_until < l.ends_at
     AND LEAST(date_bin('1 hour', l.settled_until, TIMESTAMPTZ '2000-01-01 00:00:00+00')
               + interval '1 hour', l.ends_at) <= $2
     AND NOT (l.id = ANY($3::uuid[]))
   ORDER BY l.id
   LIMIT $4
   FOR UPDATE OF l SKIP LOCKED`;

/** Safety net: no lease settles more periods than this in one chunk. */
const MAX_PERIODS_PER_LEASE = 10_000;

/**
 * Settles every due period of each lease of the next chunk (skipping `exclude`), in the
 * caller's transaction. Anything unexpected rolls the chunk back to its savepoint and leaves
 * all its leases to the per-lease step.
 */
export async function settleChunk(
  m: EntityManager,
  deps: { ledger: LedgerService; events: MoneyEvents },
  opts: {
    now: Date;
    horizon: Date;
    exclude: readonly string[];
    limit: number;
    /** The settlement run, recorded on each debit note. */
    runId?: string;
  },
): Promise<ChunkResult> {
  const leases: BatchLease[] = await m.query(CHUNK_SQL, [
    opts.now,
    opts.horizon,
    opts.exclude,
    opts.limit,
  ]);
  const empty: ChunkResult = {
    seen: leases.map((l) => l.id),
    settled: [],
    notes: 0,
    deferred: [],
    byLease: [],
  };
  if (leases.length === 0) return empty;
  await m.query('SAVEPOINT settle_chunk');
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await settleLocked(m, deps, leases, opts.horizon, opts.runId ?? null);
    } catch (e) {
      await m.query('ROLLBACK TO SAVEPOINT settle_chunk');
      // A wallet spent by another worker since it was read: once more with fresh balances.
      if (attempt === 1 && isInsufficientFunds(e)) continue;
      return { ...empty, deferred: empty.seen, error: String(e) };
    }
  }
}

async function settleLocked(
  m: EntityManager,
  deps: { ledger: LedgerService; events: MoneyEvents },
  leases: BatchLease[],
  horizon: Date,
  runId: string | null,
): Promise<ChunkResult> {
  const ids = leases.map((l) => l.id);
  const inputs = await loadRatingInputs(m, leases);
  // A period note from settled_until on should not exist: such a lease goes per lease.
  const existing: { id: string }[] = await m.query(
    `SELECT DISTINCT d.lease_id AS id FROM debit_notes d
       JOIN unnest($1::uuid[], $2::timestamptz[]) AS p(id, s)
         ON d.lease_id = p.id AND d.kind = 'period' AND d.period_start >= p.s`,
    [ids, leases.map((l) => l.settledUntil)],
  );
  // The wallets' available balances, read without a lock: postMany locks and checks them again.
  const wallets: { ownerKey: string; currency: string; balance: string }[] = await m.query(
    `SELECT a.owner_key AS "ownerKey", a.currency, a.balance::text AS balance
       FROM ledger_accounts a
       JOIN unnest($1::text[], $2::text[]) AS w(o, c) ON a.owner_key = w.o AND a.currency = w.c
      WHERE a.kind = 'wallet_available'`,
    [leases.map((l) => l.buyerOrgId), leases.map((l) => l.currency)],
  );
  const walletKey = (owner: string, cur: string) => `${owner}\u0000${cur}`;
  const available = new Map<string, Money>();
  for (const l of leases)
    available.set(walletKey(l.buyerOrgId, l.currency), Money.zero(l.currency));
  for (const w of wallets) {
    available.set(walletKey(w.ownerKey, w.currency.trim()), Money.of(w.balance, w.currency.trim()));
  }

  // Every due period of every lease, in time order across the chunk.
  const byId = new Map(leases.map((l) => [l.id, l]));
  const items: { lease: BatchLease; start: Date; end: Date }[] = [];
  for (const l of leases) {
    let from = l.settledUntil;
    for (let i = 0; i < MAX_PERIODS_PER_LEASE; i += 1) {
      const p = nextPeriod(from, l.endsAt);
      if (!p || p.end.getTime() > horizon.getTime()) break;
      items.push({ lease: l, ...p });
      from = p.end;
    }
  }
  items.sort((a, b) => a.start.getTime() - b.start.getTime() || (a.lease.id < b.lease.id ? -1 : 1));

  const deferred = new Set(existing.map((r) => r.id));
  const held = new Map(leases.map((l) => [l.id, Money.of(l.escrowHeld, l.currency)]));
  const until = new Map<string, Date>();
  // The next hold depends on the lease's terms only: computed once per kind of lease.
  const holds = new Map<string, Money>();
  const holdOfLease = new Map<string, Money>();
  const holdOf = (l: BatchLease): Money => {
    const known = holdOfLease.get(l.id);
    if (known) return known;
    const key = JSON.stringify([
      l.currency,
      l.slots,
      l.catalogVersion,
      l.computeClass,
      l.spec,
      l.prices,
    ]);
    let hold = holds.get(key);
    if (!hold) {
      hold = escrowHold({
        currency: l.currency,
        slots: l.slots,
        prices: l.prices,
        spec: l.spec,
        computeClass: l.computeClass,
        catalog: l.catalogVersion,
      });
      holds.set(key, hold);
    }
    holdOfLease.set(l.id, hold);
    return hold;
  };
  const postings: LedgerPosting[] = [];
  const notes: NewDebitNote[] = [];
  for (const { lease: l, start, end } of items) {
    if (deferred.has(l.id)) continue;
    const rated = ratePeriodOf(l, { start, end }, inputs.get(l.id) as RatingInputs);
    const wallet = walletKey(l.buyerOrgId, l.currency);
    const continuing = end.getTime() < l.endsAt.getTime();
    const next = continuing ? holdOf(l) : null;
    const money = periodMoney({
      lease: l,
      period: { start, end },
      rated,
      held: held.get(l.id) as Money,
      available: available.get(wallet) as Money,
      nextHold: next,
    });
    if (money.suspend) {
      // Suspension (a lease event, a state change) is the per-lease step's, from this period on.
      deferred.add(l.id);
      continue;
    }
    const transactionId = randomUUID();
    postings.push({ ...money.posting, id: transactionId });
    notes.push({
      id: randomUUID(),
      leaseId: l.id,
      start,
      end,
      currency: l.currency,
      rated,
      transactionId,
      correlationId: l.correlationId,
    });
    available.set(wallet, money.availableAfter);
    held.set(l.id, money.heldAfter);
    until.set(l.id, end);
  }
  const result: ChunkResult = {
    seen: ids,
    settled: [...until.keys()],
    notes: notes.length,
    deferred: [...deferred],
    byLease: [],
  };
  if (notes.length === 0) return result;

  const records = await insertPeriodNotes(m, notes, (id) => byId.get(id) as BatchLease, runId);
  await deps.events.emit(m, 'debit-notes.issued', { notes: records });
  const settled = [...until.entries()];
  await m.query(
    `UPDATE leases AS l SET settled_until = v.e, escrow_held = v.h
       FROM unnest($1::uuid[], $2::timestamptz[], $3::numeric[]) AS v(id, e, h) WHERE l.id = v.id`,
    [
      settled.map(([id]) => id),
      settled.map(([, e]) => e),
      settled.map(([id]) => (held.get(id) as Money).toString()),
    ],
  );
  // Last: the accounts are locked from here to the commit only.
  const posted = await deps.ledger.postMany(m, postings);
  if (posted.some((p) => p.duplicate)) {
    throw new Error('a period of the chunk was posted concurrently; settled per lease');
  }

  const byLease = new Map<string, ChunkLeaseNotes>();
  for (const n of notes) {
    const l = byId.get(n.leaseId) as BatchLease;
    const slot = byLease.get(n.leaseId) ?? {
      leaseId: n.leaseId,
      correlationId: l.correlationId,
      start: n.start,
      end: n.end,
      notes: 0,
      gross: Money.zero(n.currency).toString(),
      currency: n.currency,
    };
    slot.end = n.end;
    slot.notes += 1;
    slot.gross = Money.of(slot.gross, n.currency)
      .plus(Money.of(n.rated.gross, n.currency))
      .toString();
    byLease.set(n.leaseId, slot);
  }
  result.byLease = [...byLease.values()];
  return result;
}
