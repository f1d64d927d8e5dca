import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MoneyEventHandler, type MoneyEventMap, OnMoneyEvent } from '../events/money-events.js';
import { PseudonymSecret } from '../privacy/pseudonym-secret.js';
import { creditLeaf, debitNoteLeaf, invoiceLeaf, payoutLeaf } from './leaf-records.js';
import { SettlementLogService } from './settlement-log.service.js';

/**
 * Every money record becomes a settlement-log leaf in the transaction that writes it: debit
 * notes, invoices, SLA credit notes and payouts (the money events' required handler).
 */
@MoneyEventHandler()
@Injectable()
export class SettlementLogLeaves {
  constructor(
    private readonly log: SettlementLogService,
    private readonly config: PseudonymSecret,
  ) {}

  @OnMoneyEvent('debit-notes.issued')
  async debitNotes(m: EntityManager, e: MoneyEventMap['debit-notes.issued']): Promise<void> {
    await this.log.append(
      m,
      e.notes.map((n) => debitNoteLeaf(this.config.pseudonymSecret, n)),
    );
  }

  @OnMoneyEvent('invoice.issued')
  async invoice(m: EntityManager, e: MoneyEventMap['invoice.issued']): Promise<void> {
    await this.log.append(m, [invoiceLeaf(this.config.pseudonymSecret, e.invoice)]);
  }

  @OnMoneyEvent('credit-note.issued')
  async creditNote(m: EntityManager, e: MoneyEventMap['credit-note.issued']): Promise<void> {
    await this.log.append(m, [
      creditLeaf(this.config.pseudonymSecret, { ...e.invoice, sla: e.sla }),
    ]);
  }

  @OnMoneyEvent('payout.booked')
  async payout(m: EntityManager, e: MoneyEventMap['payout.booked']): Promise<void> {
    await this.log.append(m, [payoutLeaf(this.config.pseudonymSecret, e.payout)]);
  }
}
