import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ResourceSpec } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { FixedClock } from '../../common/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MoneyEvents } from '../../events/money-events.js';
import { SettlementLogConfig } from '../../settlement-log/settlement-log.config.js';
import { SettlementLogLeaves } from '../../settlement-log/settlement-log.events.js';
import { SettlementLogService } from '../../settlement-log/settlement-log.service.js';
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

/** A fresh Ed25519 private JWK (for the log's checkpoints), made synchronously. */
function signingJwk(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'settlement-kit' });
}

/**
 * The settlement services wired by hand on a DataSource (no Nest container needed), with the
 * money events' real handler: every debit note, invoice and credit note becomes a
 * settlement-log leaf, as in the app.
 */
export function settlementKit(
  ds: DataSource,
  config = new SettlementConfig({ SETTLEMENT_SCHEDULER: 'off' }),
) {
  const clock = new FixedClock(new Date('2026-11-28T10:00:00Z'));
  const settlementLog = new SettlementLogService(
    ds,
    AppConfig.fromEnv({ DATABASE_URL: 'postgres://kit', PLATFORM_SIGNING_JWK: signingJwk() }),
    clock,
    new SettlementLogConfig({}),
    config,
  );
  const events = MoneyEvents.of(new SettlementLogLeaves(settlementLog, config));
  const ledger = new LedgerService(ds);
  const wallets = new WalletService(ds, ledger);
  const escrow = new EscrowService(ledger, wallets, events);
  const invoices = new InvoicesService(ds, config, ledger, wallets, events, settlementLog);
  const leaseEvents = new LeaseEventsService(clock);
  const bids = new BidScheduler(leaseEvents);
  const settlement = new SettlementService(
    ds,
    ledger,
    wallets,
    escrow,
    invoices,
    config,
    events,
    leaseEvents,
    bids,
  );
  return {
    ds,
    config,
    ledger,
    wallets,
    escrow,
    invoices,
    settlement,
    clock,
    bids,
    events,
    settlementLog,
  };
}
export type SettlementKit = ReturnType<typeof settlementKit>;

export interface NewLease {
  /** The lease's id (default: a new one). */
  id?: string;
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
  // As the agents service does: the newest beat sets the resource's live status.
  await ds.query(
    `UPDATE resources r SET last_heartbeat_at = h.at, reported_status = h.status
       FROM (SELECT at, status FROM resource_heartbeats WHERE resource_id = $1
              ORDER BY at DESC LIMIT 1) h
      WHERE r.id = $1 AND (r.last_heartbeat_at IS NULL OR r.last_heartbeat_at <= h.at)`,
    [resourceId],
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
      ...(o.id ? { id: o.id } : {}),
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

  // Every debit note and invoice is a settlement-log leaf, and every SLA credit a credit note;
  // an invoice's subtotal is Σ gross of its lease's debit notes, its total subtotal − credits.
  const unlogged: unknown[] = await ds.query(
    `SELECT 'debit_note' AS kind, d.id::text AS id FROM debit_notes d
      WHERE NOT EXISTS (SELECT 1 FROM settlement_log_leaves s
                         WHERE s.kind = 'debit_note' AND s.record_id = d.id::text)
     UNION ALL
     SELECT 'invoice', i.id::text FROM invoices i
      WHERE NOT EXISTS (SELECT 1 FROM settlement_log_leaves s
                         WHERE s.kind = 'invoice' AND s.record_id = i.id::text)
     UNION ALL
     SELECT 'credit', i.id::text FROM invoices i
      WHERE i.credits > 0 AND NOT EXISTS (SELECT 1 FROM settlement_log_leaves s
                         WHERE s.kind = 'credit' AND s.record_id = 'sla-credit:' || i.lease_id)`,
  );
  if (unlogged.length > 0)
    throw new Error(`not in the settlement log: ${JSON.stringify(unlogged)}`);
  const subtotals: unknown[] = await ds.query(
    `SELECT i.lease_id, i.subtotal, i.credits, i.total FROM invoices i
      WHERE i.subtotal <> (SELECT coalesce(sum(d.gross), 0) FROM debit_notes d WHERE d.lease_id = i.lease_id)
         OR i.total <> i.subtotal - i.credits`,
  );
  if (subtotals.length > 0) {
    throw new Error(`invoice ≠ Σ debit notes − credits: ${JSON.stringify(subtotals)}`);
  }

  // Escrow: each lease's escrow_held = what its own postings moved into wallet_held, and each
  // wallet's held balance = Σ escrow_held of its leases (escrow held + available = total).
  const leaseHeld: { id: string; held: string; posted: string }[] = await ds.query(
    `SELECT l.id, l.escrow_held::text AS held,
            coalesce((SELECT sum(e.amount) FROM ledger_entries e
                       JOIN ledger_transactions t ON t.id = e.transaction_id
                       JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'wallet_held'
                      WHERE t.reference LIKE 'escrow-hold:' || l.id || ':%'
                         OR t.reference LIKE 'escrow-release:' || l.id || ':%'
                         OR t.reference LIKE 'debit-note:' || l.id || ':%'), 0)::text AS posted
       FROM leases l`,
  );
  for (const h of leaseHeld) {
    if (!new Decimal(h.held).eq(h.posted)) {
      throw new Error(`lease ${h.id} says it holds ${h.held}, its postings hold ${h.posted}`);
    }
  }
  const held: { owner_key: string; currency: string; held: string; leases: string }[] =
    await ds.query(
      `SELECT a.owner_key, a.currency, a.balance::text AS held,
              coalesce((SELECT sum(l.escrow_held) FROM leases l
                         WHERE l.buyer_org_id::text = a.owner_key AND l.currency = a.currency), 0)::text AS leases
         FROM ledger_accounts a WHERE a.kind = 'wallet_held'`,
    );
  for (const h of held) {
    if (!new Decimal(h.held).eq(h.leases)) {
      throw new Error(`wallet ${h.owner_key} holds ${h.held} but its leases hold ${h.leases}`);
    }
  }
  const ended: unknown[] = await ds.query(
    `SELECT id, escrow_held FROM leases l WHERE state = 'ended' AND escrow_held <> 0
        AND EXISTS (SELECT 1 FROM invoices i WHERE i.lease_id = l.id)`,
  );
  if (ended.length > 0)
    throw new Error(`invoiced leases still hold escrow: ${JSON.stringify(ended)}`);
}
