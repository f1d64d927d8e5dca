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
import { NUMERIC } from '../common/columns.js';

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

export type DebitNoteKind = 'period' | 'reserved_block';

@Entity('debit_notes')
@Unique('uq_debit_note_period', ['leaseId', 'kind', 'periodStart'])
export class DebitNoteEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  /** `period`: one settlement period; `reserved_block`: a reserved offer's prepaid block. */
  @Column({ type: 'text', default: 'period' }) kind!: DebitNoteKind;
  @Column({ name: 'period_start', type: 'timestamptz' }) periodStart!: Date;
  @Column({ name: 'period_end', type: 'timestamptz' }) periodEnd!: Date;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'jsonb' }) lines!: InvoiceLineView[];
  @Column({ ...NUMERIC }) gross!: string;
  @Column({ ...NUMERIC }) fee!: string;
  @Column({ ...NUMERIC }) net!: string;
  @Column({ name: 'transaction_id', type: 'uuid' }) transactionId!: string;
  /** The lease's originating correlation id (see `LeaseEntity.correlationId`). */
  @Column({ name: 'correlation_id', type: 'text', nullable: true }) correlationId!: string | null;
  /** The settlement run that wrote it (its log lines carry the same `runId`). */
  @Column({ name: 'settlement_run_id', type: 'text', nullable: true })
  settlementRunId!: string | null;
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
  /** The SLA outcome behind `credits` (null on invoices issued before SLA credits existed). */
  @Column({ type: 'jsonb', nullable: true }) sla!: InvoiceSla | null;
  @Column({ name: 'issued_at', type: 'timestamptz' }) issuedAt!: Date;
}

/** How an invoice's SLA credit was computed (all amounts and percentages decimal strings). */
export interface InvoiceSla {
  /** Available minutes / active lease minutes, as a percentage with 4 decimals (half-even). */
  availability: string;
  activeMinutes: number;
  availableMinutes: number;
  /** The pinned availability target, percent. */
  target: string;
  /** The credited percentage p (0 when the target was met). */
  creditPercent: string;
  /** round_half_even(Σ net × p): taken back from the seller. */
  sellerShare: string;
  /** round_half_even(Σ fee × p): taken back from the platform. */
  platformShare: string;
}

/** One step of an SLA credit schedule: availability below `below` % credits `credit` %. */
export interface SlaStep {
  below: string;
  credit: string;
}

/** A lease's SLA as pinned at order time (percentages as decimal strings). */
export interface SlaTerms {
  target: string;
  schedule: SlaStep[];
}

/**
 * Terms pinned on a lease at order time that the lease row does not carry itself (so far the
 * SLA). A lease without a row gets the default SLA (settlement README).
 */
@Entity('lease_terms')
export class LeaseTermsEntity {
  @PrimaryColumn({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Column({ type: 'jsonb', nullable: true }) sla!: SlaTerms | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** Each Stripe webhook event applied once: its id is the dedupe key. */
@Entity('stripe_events')
export class StripeEventEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) type!: string;
  /** What processing did: `credited`, `ignored`, `unknown_type`, ... */
  @Column({ type: 'text' }) outcome!: string;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
}

export type TopUpStatus = 'open' | 'paid';

/** A wallet top-up: a Stripe Checkout Session, or a test-mode credit. */
@Entity('top_ups')
@Index(['orgId', 'idempotencyKey'], { unique: true })
export class TopUpEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ ...NUMERIC }) amount!: string;
  @Column({ type: 'text' }) provider!: 'stripe' | 'test_mode';
  @Index({ unique: true })
  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;
  @Column({ name: 'payment_intent_id', type: 'text', nullable: true })
  paymentIntentId!: string | null;
  @Column({ type: 'text' }) status!: TopUpStatus;
  /** Refunded so far (Stripe refunds of unused balance). */
  @Column({ ...NUMERIC, default: 0 }) refunded!: string;
  /**
   * The Idempotency-Key of the request that created it: a retry of that request (after a crash)
   * finds it and carries on with it. Null for top-ups from before keys were recorded.
   */
  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true }) paidAt!: Date | null;
}

/** A seller's Stripe Connect account. */
@Entity('connect_accounts')
export class ConnectAccountEntity {
  @PrimaryColumn({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Index({ unique: true })
  @Column({ name: 'stripe_account_id', type: 'text' })
  stripeAccountId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** Money leaving the platform through Stripe: seller payouts (transfers) and wallet refunds. */
@Entity('stripe_movements')
export class StripeMovementEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) kind!: 'payout' | 'refund';
  @Index() @Column({ name: 'org_id', type: 'uuid' }) orgId!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ ...NUMERIC }) amount!: string;
  /** The ledger reference, also the Stripe idempotency key. */
  @Index({ unique: true }) @Column({ type: 'text' }) reference!: string;
  /** Refunds: the top-up whose payment this part is refunded to. */
  @Column({ name: 'top_up_id', type: 'uuid', nullable: true }) topUpId!: string | null;
  /** The Stripe object (`tr_…`, `re_…`). */
  @Column({ name: 'stripe_id', type: 'text', nullable: true }) stripeId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** Per-currency sequence for human-readable invoice numbers. */
@Entity('invoice_counters')
export class InvoiceCounterEntity {
  @PrimaryColumn({ type: 'text' }) year!: string;
  @Column({ type: 'int', default: 0 }) last!: number;
}
