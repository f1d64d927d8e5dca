import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { DebitNoteView, InvoiceView, Page } from '@suanli/contracts';
import { Money } from '@suanli/money';
import type { Principal } from '../auth/auth.decorators.js';
import { notFound } from '../common/errors.js';
import { LeaseEntity } from '../database/market.entities.js';
import { DebitNoteEntity, InvoiceEntity } from '../database/settlement.entities.js';
import { buyerPseudonym } from './pseudonym.js';
import { sumLines } from './rating.js';
import { SettlementConfig } from './settlement.config.js';

/** Final invoices (one per ended lease) and the debit notes they sum, and who may read them. */
@Injectable()
export class InvoicesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: SettlementConfig,
  ) {}

  /**
   * Issues the lease's final invoice inside the caller's transaction (the lease row is locked by
   * the caller): lines = its debit notes' lines summed by unit and price, credits 0 (SLA credits
   * come later), number `INV-<year>-<6 digits>` from the row-locked yearly counter. Issuing
   * twice returns the first invoice.
   */
  async issue(manager: EntityManager, lease: LeaseEntity, issuedAt: Date): Promise<InvoiceEntity> {
    const existing = await manager.findOneBy(InvoiceEntity, { leaseId: lease.id });
    if (existing) return existing;
    const notes = await manager.find(DebitNoteEntity, {
      where: { leaseId: lease.id },
      order: { periodStart: 'ASC' },
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
    const credits = Money.zero(cur);
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
      issuedAt,
    });
    return manager.save(invoice);
  }

  /** A buyer's own invoices and, pseudonymized, the invoices on a seller's resources. */
  async list(p: Principal): Promise<Page<InvoiceView>> {
    const repo = this.db.getRepository(InvoiceEntity);
    const where: { buyerOrgId?: string; sellerOrgId?: string }[] = [];
    if (p.roles.includes('buyer')) where.push({ buyerOrgId: p.orgId });
    if (p.roles.includes('seller')) where.push({ sellerOrgId: p.orgId });
    if (where.length === 0) return { items: [] };
    const rows = await repo.find({ where, order: { issuedAt: 'DESC', number: 'DESC' }, take: 500 });
    return { items: rows.map((r) => this.invoiceView(r, p)) };
  }

  /** One invoice its buyer or seller may read; anyone else gets 404. */
  async get(p: Principal, id: string): Promise<InvoiceView> {
    const row = await this.db.getRepository(InvoiceEntity).findOneBy({ id });
    if (!row || !this.mayRead(p, row)) throw notFound('invoice', { id });
    return this.invoiceView(row, p);
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

  private invoiceView(r: InvoiceEntity, p: Principal): InvoiceView {
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
