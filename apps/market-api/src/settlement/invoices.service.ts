import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { DebitNoteView, InvoiceView, Page, RecordBundleView } from '@suanli/contracts';
import { Money } from '@suanli/money';
import { UNIT_CODES, UNIT_COLUMNS } from '@suanli/units';
import type { Principal } from '../auth/auth.decorators.js';
import { notFound } from '../common/errors.js';
import { LeaseEntity } from '../database/market.entities.js';
import {
  DebitNoteEntity,
  InvoiceEntity,
  LeaseTermsEntity,
  type InvoiceSla,
} from '../database/settlement.entities.js';
import { MoneyEvents } from '../events/money-events.js';
import { LedgerService, PLATFORM_OWNER } from '../ledger/ledger.service.js';
import { WalletService } from '../ledger/wallet.service.js';
import { buyerPseudonym } from './pseudonym.js';
import { SettlementLogService } from '../settlement-log/settlement-log.service.js';
import { sumLines } from './rating.js';
import { SettlementConfig } from './settlement.config.js';
import { DEFAULT_SLA, slaCredit } from './sla.js';

/** Ledger reference of the SLA credit of a lease (accrued: seller and platform → sla_credits). */
export const slaCreditReference = (leaseId: string): string => `sla-credit:${leaseId}`;
/** Ledger reference of paying the lease's SLA credit out to the buyer's wallet. */
export const slaCreditPaidReference = (leaseId: string): string => `sla-credit-paid:${leaseId}`;

/** An invoice as stored, with the seller-facing buyer pseudonym resolved for the reader. */
export type InvoiceDocument = InvoiceView & {
  fee: string;
  sla: InvoiceSla | null;
  /** `buyer` when the reader is the buyer; `seller` when it reads the pseudonymized copy. */
  copy: 'buyer' | 'seller';
  /** Its settlement-log leaf, inclusion proof and signed checkpoint (single-invoice reads). */
  transparency?: RecordBundleView | null;
};

/** Final invoices (one per ended lease) and the debit notes they sum, and who may read them. */
@Injectable()
export class InvoicesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: SettlementConfig,
    private readonly ledger: LedgerService,
    private readonly wallets: WalletService,
    private readonly events: MoneyEvents,
    @Optional() private readonly settlementLog?: SettlementLogService,
  ) {}

  /**
   * Issues the lease's final invoice inside the caller's transaction (the lease row is locked by
   * the caller): lines = its debit notes' lines summed by unit and price; the SLA credit from the
   * lease's availability and its pinned (or the default) schedule, posted to the ledger and
   * credited to the buyer's wallet; number `INV-<year>-<6 digits>` from the row-locked yearly
   * counter. Issuing twice returns the first invoice.
   */
  async issue(manager: EntityManager, lease: LeaseEntity, issuedAt: Date): Promise<InvoiceEntity> {
    const existing = await manager.findOneBy(InvoiceEntity, { leaseId: lease.id });
    if (existing) return existing;
    // The reserved block (it starts with the first period) comes first.
    const notes = await manager.find(DebitNoteEntity, {
      where: { leaseId: lease.id },
      order: { periodStart: 'ASC', kind: 'DESC' },
    });
    const cur = lease.currency;
    const subtotal = Money.sum(
      notes.map((n) => Money.of(n.gross, cur)),
      cur,
    );
    const fee = Money.sum(
      notes.map((n) => Money.of(n.fee, cur)),
      cur,
    );
    const net = Money.sum(
      notes.map((n) => Money.of(n.net, cur)),
      cur,
    );
    const { active, available } = await this.availability(manager, lease);
    const terms = (await manager.findOneBy(LeaseTermsEntity, { leaseId: lease.id }))?.sla;
    const { credit, ...sla } = slaCredit({
      currency: cur,
      terms: terms ?? DEFAULT_SLA,
      activeMinutes: active,
      availableMinutes: available,
      net: net.toString(),
      fee: fee.toString(),
    });
    const credits = Money.of(credit, cur);
    if (credits.isPositive()) await this.postSlaCredit(manager, lease, sla, credits);
    const year = String(issuedAt.getUTCFullYear());
    const counter: { last: number }[] = await manager.query(
      `INSERT INTO invoice_counters (year, last) VALUES ($1, 1)
       ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last`,
      [year],
    );
    const invoice = manager.create(InvoiceEntity, {
      number: `INV-${year}-${String(counter[0].last).padStart(6, '0')}`,
      leaseId: lease.id,
      buyerOrgId: lease.buyerOrgId,
      sellerOrgId: lease.sellerOrgId,
      currency: cur,
      periodStart: lease.startsAt,
      periodEnd: lease.endedAt ?? lease.endsAt,
      lines: sumLines(cur, notes),
      debitNoteIds: notes.map((n) => n.id),
      subtotal: subtotal.toString(),
      credits: credits.toString(),
      total: subtotal.minus(credits).toString(),
      fee: fee.toString(),
      sla,
      issuedAt,
    });
    const saved = await manager.save(invoice);
    await this.events.emit(manager, 'invoice.issued', { invoice: saved });
    if (credits.isPositive()) {
      await this.events.emit(manager, 'credit-note.issued', { invoice: saved, sla });
    }
    return saved;
  }

  /**
   * Active minutes = the clock minutes the lease's settled periods (its debit notes) touch,
   * less its pauses (an interruptible lease's `lease_interruptions`; an open one runs on), so
   * suspended and paused stretches are excluded; a minute is available when the resource sent
   * an `online` heartbeat in it or the lease has usage for it (a `usage_minutes` row with units:
   * the rows of minutes a window covers without starting in it hold only the metering capacity
   * rule's state). Minutes are UTC minutes whatever the session's TimeZone.
   */
  async availability(
    manager: EntityManager,
    lease: Pick<LeaseEntity, 'id' | 'resourceId'>,
  ): Promise<{ active: number; available: number }> {
    const rows: { active: string; available: string }[] = await manager.query(
      `WITH settled AS (
         SELECT range_agg(tstzrange(d.period_start, d.period_end)) AS r FROM debit_notes d
         WHERE d.lease_id = $1 AND d.kind = 'period' AND d.period_end > d.period_start),
       paused AS (
         SELECT coalesce(range_agg(tstzrange(i.paused_at, i.resumed_at)), '{}') AS r
         FROM lease_interruptions i WHERE i.lease_id = $1),
       active AS (SELECT unnest(s.r - p.r) AS r FROM settled s, paused p),
       minutes AS (
         SELECT DISTINCT m FROM active a,
           generate_series(date_trunc('minute', lower(a.r), 'UTC'),
                           upper(a.r) - interval '1 microsecond', interval '1 minute') AS m)
       SELECT count(*)::text AS active,
              count(*) FILTER (WHERE
                EXISTS (SELECT 1 FROM resource_heartbeats h WHERE h.resource_id = $2
                        AND h.status = 'online' AND h.at >= m AND h.at < m + interval '1 minute')
                OR EXISTS (SELECT 1 FROM usage_minutes u WHERE u.lease_id = $1 AND u.bucket = m
                           AND num_nonnulls(${UNIT_CODES.map((c) => `u.${UNIT_COLUMNS[c]}`).join(', ')}) > 0)
              )::text AS available
       FROM minutes`,
      [lease.id, lease.resourceId],
    );
    return { active: Number(rows[0].active), available: Number(rows[0].available) };
  }

  /**
   * Two postings: the credit accrues (seller payable and platform revenue give back their
   * shares into `sla_credits`), then it is paid to the buyer's wallet, which first settles
   * anything the buyer owes. Idempotent on the lease.
   */
  private async postSlaCredit(
    m: EntityManager,
    lease: LeaseEntity,
    sla: InvoiceSla,
    credits: Money,
  ): Promise<void> {
    const cur = lease.currency;
    const pool = { ownerKey: PLATFORM_OWNER, kind: 'sla_credits' as const, currency: cur };
    await this.ledger.postMany(m, [
      {
        kind: 'sla_credit',
        reference: slaCreditReference(lease.id),
        memo: `lease ${lease.id}: availability ${sla.availability} % < target ${sla.target} %, ${sla.creditPercent} % credited`,
        entries: [
          {
            ownerKey: lease.sellerOrgId,
            kind: 'seller_payable',
            currency: cur,
            amount: Money.of(sla.sellerShare, cur).negated().toString(),
          },
          {
            ownerKey: PLATFORM_OWNER,
            kind: 'platform_revenue',
            currency: cur,
            amount: Money.of(sla.platformShare, cur).negated().toString(),
          },
          { ...pool, amount: credits.toString() },
        ],
      },
      {
        kind: 'sla_credit_paid',
        reference: slaCreditPaidReference(lease.id),
        memo: `SLA credit of lease ${lease.id} to the buyer's wallet`,
        entries: [
          { ...pool, amount: credits.negated().toString() },
          {
            ownerKey: lease.buyerOrgId,
            kind: 'wallet_available',
            currency: cur,
            amount: credits.toString(),
          },
        ],
      },
    ]);
    await this.wallets.collectReceivable(m, lease.buyerOrgId, cur);
  }

  /** A buyer's own invoices and, pseudonymized, the invoices on a seller's resources. */
  async list(p: Principal): Promise<Page<InvoiceDocument>> {
    const repo = this.db.getRepository(InvoiceEntity);
    const where: { buyerOrgId?: string; sellerOrgId?: string }[] = [];
    if (p.roles.includes('buyer')) where.push({ buyerOrgId: p.orgId });
    if (p.roles.includes('seller')) where.push({ sellerOrgId: p.orgId });
    if (where.length === 0) return { items: [] };
    const rows = await repo.find({ where, order: { issuedAt: 'DESC', number: 'DESC' }, take: 500 });
    return { items: rows.map((r) => this.invoiceView(r, p)) };
  }

  /** One invoice its buyer or seller may read; anyone else gets 404. */
  async get(p: Principal, id: string): Promise<InvoiceDocument> {
    const row = await this.db.getRepository(InvoiceEntity).findOneBy({ id });
    if (!row || !this.mayRead(p, row)) throw notFound('invoice', { id });
    const transparency = (await this.settlementLog?.bundleFor('invoice', row.id)) ?? null;
    return { ...this.invoiceView(row, p), transparency };
  }

  /** The lease's debit notes, for its buyer or seller; anyone else gets 404. */
  async debitNotes(p: Principal, leaseId: string): Promise<Page<DebitNoteView>> {
    const lease = await this.db.getRepository(LeaseEntity).findOneBy({ id: leaseId });
    if (!lease || !this.mayRead(p, lease)) throw notFound('lease', { id: leaseId });
    const notes = await this.db.getRepository(DebitNoteEntity).find({
      where: { leaseId },
      order: { periodStart: 'ASC' },
    });
    return { items: notes.map(debitNoteView) };
  }

  private mayRead(p: Principal, row: { buyerOrgId: string; sellerOrgId: string }): boolean {
    return (
      (p.roles.includes('buyer') && row.buyerOrgId === p.orgId) ||
      (p.roles.includes('seller') && row.sellerOrgId === p.orgId)
    );
  }

  private invoiceView(r: InvoiceEntity, p: Principal): InvoiceDocument {
    const asBuyer = p.roles.includes('buyer') && r.buyerOrgId === p.orgId;
    const cur = r.currency;
    return {
      id: r.id,
      number: r.number,
      leaseId: r.leaseId,
      buyerOrgId: asBuyer
        ? r.buyerOrgId
        : buyerPseudonym(this.config.pseudonymSecret, r.buyerOrgId, r.sellerOrgId),
      currency: cur,
      periodStart: r.periodStart.toISOString(),
      periodEnd: r.periodEnd.toISOString(),
      lines: r.lines,
      subtotal: Money.of(r.subtotal, cur).toString(),
      credits: Money.of(r.credits, cur).toString(),
      total: Money.of(r.total, cur).toString(),
      debitNotes: r.debitNoteIds,
      issuedAt: r.issuedAt.toISOString(),
      fee: Money.of(r.fee, cur).toString(),
      sla: r.sla,
      copy: asBuyer ? 'buyer' : 'seller',
    };
  }
}

export function debitNoteView(n: DebitNoteEntity): DebitNoteView {
  const cur = n.currency;
  return {
    id: n.id,
    leaseId: n.leaseId,
    periodStart: n.periodStart.toISOString(),
    periodEnd: n.periodEnd.toISOString(),
    currency: cur,
    lines: n.lines,
    gross: Money.of(n.gross, cur).toString(),
    fee: Money.of(n.fee, cur).toString(),
    net: Money.of(n.net, cur).toString(),
    createdAt: n.createdAt.toISOString(),
  };
}
