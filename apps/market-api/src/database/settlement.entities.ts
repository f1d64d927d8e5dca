import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import type { InvoiceLineView } from '@suanli/contracts';
import { NUMERIC } from './columns.js';

export const ACCOUNT_KINDS = [
  'wallet_available',
  'wallet_held',
  'seller_payable',
  'platform_revenue',
  'stripe_clearing',
  'sla_credits',
  'test_funding',
  /** What a buyer owes when metered usage beyond the escrow hold exceeded its wallet (≤ 0). */
  'buyer_receivable',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** One ledger account per (owner, kind, currency); owner is null for platform accounts. */
@Entity('ledger_accounts')
@Unique('uq_ledger_account', ['ownerKey', 'kind', 'currency'])
export class LedgerAccountEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** The owning organization id, or 'platform'. */
  @Column({ name: 'owner_key', type: 'text' }) ownerKey!: string;
  @Column({ type: 'text' }) kind!: AccountKind;
  @Column({ type: 'char', length: 3 }) currency!: string;
  /** Running balance, kept in the same transaction as the entries (debit-positive). */
  @Column({ ...NUMERIC, default: 0 }) balance!: string;
}

@Entity('ledger_transactions')
export class LedgerTransactionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) kind!: string;
  /** Makes each posting idempotent: the same reference is never posted twice. */
  @Index({ unique: true }) @Column({ type: 'text' }) reference!: string;
  @Column({ type: 'text', default: '' }) memo!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('ledger_entries')
export class LedgerEntryEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @Index() @Column({ name: 'transaction_id', type: 'uuid' }) transactionId!: string;
  @Index() @Column({ name: 'account_id', type: 'uuid' }) accountId!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ ...NUMERIC }) amount!: string;
}

@Entity('debit_notes')
@Unique('uq_debit_note_period', ['leaseId', 'periodStart'])
export class DebitNoteEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Column({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'period_end', type: 'timestamptz' }) periodEnd!: Date;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'jsonb' }) lines!: InvoiceLineView[];
  @Column({ ...NUMERIC }) gross!: string;
  @Column({ ...NUMERIC }) fee!: string;
  @Column({ ...NUMERIC }) net!: string;
  @Column({ name: 'transaction_id', type: 'uuid' }) transactionId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('invoices')
export class InvoiceEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index({ unique: true }) @Column({ type: 'text' }) number!: string;
  @Index({ unique: true }) @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Index() @Column({ name: 'buyer_org_id', type: 'uuid' }) buyerOrgId!: string;
  @Index() @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'period_end', type: 'timestamptz' }) periodEnd!: Date;
  @Column({ type: 'jsonb' }) lines!: InvoiceLineView[];
  @Column({ name: 'debit_note_ids', type: 'uuid', array: true }) debitNoteIds!: string[];
  @Column({ ...NUMERIC }) subtotal!: string;
  @Column({ ...NUMERIC }) credits!: string;
  @Column({ ...NUMERIC }) total!: string;
  @Column({ ...NUMERIC }) fee!: string;
  @Column({ name: 'issued_at', type: 'timestamptz' }) issuedAt!: Date;
}

/** Per-currency sequence for human-readable invoice numbers. */
@Entity('invoice_counters')
export class InvoiceCounterEntity {
  @PrimaryColumn({ type: 'text' }) year!: string;
  @Column({ type: 'int', default: 0 }) last!: number;
}
