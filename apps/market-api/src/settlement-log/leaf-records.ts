import { Money } from '@suanli/money';
import type { SettlementLogKind } from '../database/settlement-log.entities.js';
import type { DebitNoteRecord, InvoiceRecord, PayoutRecord } from '../events/money-events.js';
import { buyerPseudonym, sellerPseudonym } from '../privacy/pseudonyms.js';

/** What is appended: the pseudonymized record, and (outside the leaf) who may read it. */
export type LeafInput = {
  kind: SettlementLogKind;
  recordId: string;
  sellerOrgId: string | null;
  buyerOrgId: string | null;
  record: Record<string, unknown>;
};

const amount = (v: string, cur: string): string => Money.of(v, cur).toString();
const iso = (d: Date | string): string => new Date(d).toISOString();

/** The records the leaves are made of, as their money events carry them. */
export type DebitNoteRow = DebitNoteRecord;
export type InvoiceRow = InvoiceRecord;
export type PayoutRow = PayoutRecord;

/** Parties as the log names them: never an organization id, name or e-mail. */
function parties(secret: string, sellerOrgId: string, buyerOrgId: string | null) {
  return {
    seller: sellerPseudonym(secret, sellerOrgId),
    ...(buyerOrgId ? { buyer: buyerPseudonym(secret, buyerOrgId, sellerOrgId) } : {}),
  };
}

export function debitNoteLeaf(secret: string, n: DebitNoteRow): LeafInput {
  const cur = n.currency.trim();
  return {
    kind: 'debit_note',
    recordId: n.id,
    sellerOrgId: n.sellerOrgId,
    buyerOrgId: n.buyerOrgId,
    record: {
      type: 'debit_note',
      v: 1,
      id: n.id,
      noteKind: n.kind,
      lease: n.leaseId,
      ...parties(secret, n.sellerOrgId, n.buyerOrgId),
      currency: cur,
      periodStart: iso(n.periodStart),
      periodEnd: iso(n.periodEnd),
      lines: n.lines,
      gross: amount(n.gross, cur),
      fee: amount(n.fee, cur),
      net: amount(n.net, cur),
      createdAt: iso(n.createdAt),
    },
  };
}

export function invoiceLeaf(secret: string, r: InvoiceRow): LeafInput {
  const cur = r.currency.trim();
  return {
    kind: 'invoice',
    recordId: r.id,
    sellerOrgId: r.sellerOrgId,
    buyerOrgId: r.buyerOrgId,
    record: {
      type: 'invoice',
      v: 1,
      id: r.id,
      number: r.number,
      lease: r.leaseId,
      ...parties(secret, r.sellerOrgId, r.buyerOrgId),
      currency: cur,
      periodStart: iso(r.periodStart),
      periodEnd: iso(r.periodEnd),
      lines: r.lines,
      debitNotes: r.debitNoteIds,
      subtotal: amount(r.subtotal, cur),
      credits: amount(r.credits, cur),
      total: amount(r.total, cur),
      fee: amount(r.fee, cur),
      issuedAt: iso(r.issuedAt),
    },
  };
}

/** The SLA credit of an invoice, as its own credit note. */
export function creditLeaf(
  secret: string,
  r: InvoiceRow & { sla: { sellerShare: string; platformShare: string; creditPercent: string } },
): LeafInput {
  const cur = r.currency.trim();
  return {
    kind: 'credit',
    recordId: `sla-credit:${r.leaseId}`,
    sellerOrgId: r.sellerOrgId,
    buyerOrgId: r.buyerOrgId,
    record: {
      type: 'credit',
      v: 1,
      id: `sla-credit:${r.leaseId}`,
      reason: 'sla',
      invoice: r.id,
      lease: r.leaseId,
      ...parties(secret, r.sellerOrgId, r.buyerOrgId),
      currency: cur,
      amount: amount(r.credits, cur),
      creditPercent: r.sla.creditPercent,
      sellerShare: amount(r.sla.sellerShare, cur),
      platformShare: amount(r.sla.platformShare, cur),
      issuedAt: iso(r.issuedAt),
    },
  };
}

export function payoutLeaf(secret: string, p: PayoutRow): LeafInput {
  const cur = p.currency.trim();
  return {
    kind: 'payout',
    recordId: p.reference,
    sellerOrgId: p.orgId,
    buyerOrgId: null,
    record: {
      type: 'payout',
      v: 1,
      id: p.id,
      ...parties(secret, p.orgId, null),
      currency: cur,
      amount: amount(p.amount, cur),
      createdAt: iso(p.createdAt),
    },
  };
}
