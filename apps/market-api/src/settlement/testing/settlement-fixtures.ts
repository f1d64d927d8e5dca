import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { FixedClock } from '../../common/clock.js';
import { BidScheduler } from '../../leases/bid-scheduler.service.js';
import { LeaseEventsService } from '../../leases/lease-events.service.js';
import { ENTITIES } from '../../entities.js';
import { LeaseEntity, type PriceRow } from '../../database/market.entities.js';
import { ResourceEntity } from '../../database/registry.entities.js';
import type { SlaTerms } from '../../database/settlement.entities.js';
import { LedgerService } from '../../ledger/ledger.service.js';
import { WalletService } from '../../ledger/wallet.service.js';
import { EscrowService } from '../escrow.service.js';
import { InvoicesService } from '../invoices.service.js';
import { SettlementConfig } from '../settlement.config.js';
import { SettlementService } from '../settlement.service.js';

/** A DataSource on a (migrated) test database, with the app's entities. */
export async function openDataSource(url: string, poolSize = 8): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    poolSize,
    logging: ['error'],
  });
  return ds.initialize();
}

/** The settlement services wired by hand on a DataSource (no Nest container needed). */
export function settlementKit(
  ds: DataSource,
  config = new SettlementConfig({ SETTLEMENT_SCHEDULER: 'off' }),
) {
  const ledger = new LedgerService(ds);
  const wallets = new WalletService(ds, ledger);
  const escrow = new EscrowService(ledger, wallets);
  const invoices = new InvoicesService(ds, config, ledger, wallets);
  const clock = new FixedClock(new Date('2026-11-28T10:00:00Z'));
  const leaseEvents = new LeaseEventsService(clock);
  const bids = new BidScheduler(leaseEvents);
  const settlement = new SettlementService(
    ds,
    ledger,
    wallets,
    escrow,
    invoices,
    config,
    leaseEvents,
    undefined,
    bids,
  );
  return { ds, config, ledger, wallets, escrow, invoices, settlement, clock, bids };
}
export type SettlementKit = ReturnType<typeof settlementKit>;

export interface NewLease {
  buyerOrgId?: string;
  /** The offer the lease was ordered from (interruptible leases share one); default: a new id. */
  offerId?: string;
  /** Interruptible leases: the bid (also pinned in `prices`). */
  bid?: string;
  sellerOrgId?: string;
  slots?: number;
  prices?: PriceRow[];
  currency?: string;
  startsAt: Date;
  hours: number;
  takeRate?: string;
  spec?: ResourceSpec;
  computeClass?: 'GEN' | 'AI' | 'HPC';
  /** Heartbeats `online` for every minute of the lease (default true: no SLA credit). */
  online?: boolean;
  /** SLA terms pinned at order time. */
  sla?: SlaTerms;
}

/** Writes one `online` heartbeat per minute in [from, to) for the resource, as agents would. */
export async function reportOnline(
  ds: DataSource,
  resourceId: string,
  from: Date,
  to: Date,
  status: 'online' | 'offline' = 'online',
): Promise<void> {
  await ds.query(
    `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status, utilization)
     SELECT $1, m + interval '17 seconds', 'agent-test', $4, 0.5
     FROM generate_series(date_trunc('minute', $2::timestamptz), $3::timestamptz - interval '1 microsecond',
                          interval '1 minute') AS m
     ON CONFLICT (resource_id, at) DO UPDATE SET status = EXCLUDED.status`,
    [resourceId, from, to, status],
  );
}

/** Inserts a resource and an active lease, and holds its first period as the orders service does. */
export async function placeLease(kit: SettlementKit, o: NewLease): Promise<LeaseEntity> {
  const sellerOrgId = o.sellerOrgId ?? randomUUID();
  const spec = o.spec ?? { cpu: 8, memGiB: 64, accel: { count: 1, model: 'H100' } };
  const computeClass = o.computeClass ?? 'AI';
  const placed = await kit.ds.transaction(async (m) => {
    const handle = randomUUID().slice(0, 8);
    const resource = await m.getRepository(ResourceEntity).save({
      handle: `r-${handle}`,
      cri: `cri-${handle}`,
      name: 'test resource',
      ownerOrgId: sellerOrgId,
      registrant: 'T00001',
      serial: handle,
      industry: 'I',
      computeClass,
      form: 'VM' as const,
      country: 'CN',
      subdivision: 'BJ',
      site: 'S1',
      spec,
      cpuModel: null,
      state: 'running' as const,
      lastHeartbeatAt: null,
    });
    const lease = await m.getRepository(LeaseEntity).save({
      orderId: randomUUID(),
      offerId: o.offerId ?? randomUUID(),
      resourceId: resource.id,
      buyerOrgId: o.buyerOrgId ?? randomUUID(),
      sellerOrgId,
      slots: o.slots ?? 1,
      state: 'active' as const,
      startsAt: o.startsAt,
      endsAt: new Date(o.startsAt.getTime() + o.hours * 3_600_000),
      endedAt: null,
      endReason: null,
      currency: o.currency ?? 'CNY',
      prices: o.prices ?? [{ unit: 'slot_h', price: '12.50' }],
      catalogVersion: '2026.1',
      takeRate: o.takeRate ?? '0.05',
      settledUntil: o.startsAt,
      bid: o.bid ?? null,
    });
    await kit.escrow.holdForNewLease(m, lease, { spec, computeClass }, { sla: o.sla });
    return lease;
  });
  if (o.online ?? true)
    await reportOnline(kit.ds, placed.resourceId, placed.startsAt, placed.endsAt);
  return placed;
}

/** Writes a usage_hours aggregate as the metering ingest would. */
export async function recordUsage(
  ds: DataSource,
  leaseId: string,
  unit: string,
  bucket: Date,
  quantity: string,
): Promise<void> {
  await ds.query(
    `INSERT INTO usage_hours (lease_id, unit, bucket, quantity) VALUES ($1, $2, $3, $4)
     ON CONFLICT (lease_id, unit, bucket) DO UPDATE SET quantity = EXCLUDED.quantity`,
    [leaseId, unit, bucket, quantity],
  );
}

/** Row counts of everything settlement writes, and every balance: equal snapshots = no-op. */
export async function snapshot(ds: DataSource): Promise<string> {
  const rows: unknown[] = await ds.query(
    `SELECT (SELECT count(*) FROM ledger_transactions) AS txs,
            (SELECT count(*) FROM ledger_entries) AS entries,
            (SELECT count(*) FROM debit_notes) AS notes,
            (SELECT count(*) FROM invoices) AS invoices,
            (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM ledger_accounts a) AS accounts,
            (SELECT coalesce(json_agg(json_build_array(l.id, l.state, l.settled_until, l.ended_at, l.end_reason) ORDER BY l.id), '[]') FROM leases l) AS leases`,
  );
  return JSON.stringify(rows);
}

/**
 * The settlement invariants of settlement.md, checked from the database:
 * the ledger sums to zero; wallets are never negative; each account's running balance equals
 * Σ of its entries; per lease, buyer paid = seller net + platform fee (to the minor unit) and
 * matches its debit notes.
 */
export async function checkInvariants(
  kit: SettlementKit,
  opts: { escrow: boolean } = { escrow: true },
): Promise<void> {
  const ds = kit.ds;
  const tb = await kit.ledger.trialBalance();
  if (!tb.balanced) throw new Error(`trial balance is off: ${JSON.stringify(tb)}`);
  const negative: unknown[] = await ds.query(
    `SELECT * FROM ledger_accounts WHERE kind IN ('wallet_available', 'wallet_held') AND balance < 0`,
  );
  if (negative.length > 0) throw new Error(`negative wallets: ${JSON.stringify(negative)}`);
  const drift: unknown[] = await ds.query(
    `SELECT a.id, a.balance, coalesce(sum(e.amount), 0) AS entries FROM ledger_accounts a
     LEFT JOIN ledger_entries e ON e.account_id = a.id
     GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0)`,
  );
  if (drift.length > 0) throw new Error(`balances drifted from entries: ${JSON.stringify(drift)}`);
  const txImbalance: unknown[] = await ds.query(
    `SELECT transaction_id, currency, sum(amount) FROM ledger_entries
     GROUP BY transaction_id, currency HAVING sum(amount) <> 0`,
  );
  if (txImbalance.length > 0)
    throw new Error(`unbalanced transactions: ${JSON.stringify(txImbalance)}`);
  if (!opts.escrow) return;

  // Per lease: what the buyer paid (debit-note entries on its wallet) = seller net + fees.
  const perLease: {
    lease_id: string;
    buyer: string;
    seller: string;
    platform: string;
    gross: string;
    net: string;
    fee: string;
  }[] = await ds.query(
    `SELECT l.id AS lease_id,
              coalesce((SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                JOIN ledger_accounts a ON a.id = e.account_id
                WHERE (t.reference LIKE 'debit-note:' || l.id || ':%' OR t.reference = 'reserved-block:' || l.id) AND a.owner_key = l.buyer_org_id::text), 0)::text AS buyer,
              coalesce((SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                JOIN ledger_accounts a ON a.id = e.account_id
                WHERE (t.reference LIKE 'debit-note:' || l.id || ':%' OR t.reference = 'reserved-block:' || l.id) AND a.kind = 'seller_payable'), 0)::text AS seller,
              coalesce((SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                JOIN ledger_accounts a ON a.id = e.account_id
                WHERE (t.reference LIKE 'debit-note:' || l.id || ':%' OR t.reference = 'reserved-block:' || l.id) AND a.kind = 'platform_revenue'), 0)::text AS platform,
              coalesce((SELECT sum(gross) FROM debit_notes d WHERE d.lease_id = l.id), 0)::text AS gross,
              coalesce((SELECT sum(net) FROM debit_notes d WHERE d.lease_id = l.id), 0)::text AS net,
              coalesce((SELECT sum(fee) FROM debit_notes d WHERE d.lease_id = l.id), 0)::text AS fee
       FROM leases l`,
  );
  for (const r of perLease) {
    const buyer = new Decimal(r.buyer);
    if (!buyer.eq(new Decimal(r.seller).plus(r.platform))) {
      throw new Error(
        `lease ${r.lease_id}: buyer paid ${r.buyer} ≠ seller ${r.seller} + fees ${r.platform}`,
      );
    }
    if (
      !buyer.eq(r.gross) ||
      !new Decimal(r.seller).eq(r.net) ||
      !new Decimal(r.platform).eq(r.fee)
    ) {
      throw new Error(`lease ${r.lease_id}: ledger ≠ debit notes ${JSON.stringify(r)}`);
    }
  }

  // SLA credits: what the buyer got back = seller share + platform share = invoice credits,
  // and buyer paid − credits = (seller net − seller share) + (fees − platform share).
  const sla: {
    lease_id: string;
    credits: string;
    subtotal: string;
    total: string;
    seller: string;
    platform: string;
    buyer: string;
  }[] = await ds.query(
    `SELECT i.lease_id, i.credits::text, i.subtotal::text, i.total::text,
            coalesce((SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
              JOIN ledger_accounts a ON a.id = e.account_id
              WHERE t.reference = 'sla-credit:' || i.lease_id AND a.kind = 'seller_payable'), 0)::text AS seller,
            coalesce((SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
              JOIN ledger_accounts a ON a.id = e.account_id
              WHERE t.reference = 'sla-credit:' || i.lease_id AND a.kind = 'platform_revenue'), 0)::text AS platform,
            coalesce((SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
              JOIN ledger_accounts a ON a.id = e.account_id
              WHERE t.reference = 'sla-credit-paid:' || i.lease_id AND a.kind = 'wallet_available'), 0)::text AS buyer
     FROM invoices i`,
  );
  for (const r of sla) {
    const credits = new Decimal(r.credits);
    if (!credits.eq(r.buyer) || !credits.eq(new Decimal(r.seller).plus(r.platform))) {
      throw new Error(`lease ${r.lease_id}: SLA credit does not add up ${JSON.stringify(r)}`);
    }
    if (!new Decimal(r.total).eq(new Decimal(r.subtotal).minus(credits))) {
      throw new Error(`lease ${r.lease_id}: invoice total ≠ subtotal − credits`);
    }
  }

  // Held = Σ of the open holds of the buyer's unsettled periods (escrow held + available = total).
  const held: { owner_key: string; currency: string; held: string; open: string }[] =
    await ds.query(
      `SELECT a.owner_key, a.currency, a.balance::text AS held,
            coalesce((SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
              WHERE e.account_id = a.id AND t.reference IN (
                SELECT 'escrow-hold:' || l.id || ':' || to_char(l.settled_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                FROM leases l WHERE l.buyer_org_id::text = a.owner_key AND l.state <> 'ended')), 0)::text AS open
     FROM ledger_accounts a WHERE a.kind = 'wallet_held'`,
    );
  for (const h of held) {
    if (!new Decimal(h.held).eq(h.open)) {
      throw new Error(`wallet ${h.owner_key} holds ${h.held} but its open leases hold ${h.open}`);
    }
  }
}
