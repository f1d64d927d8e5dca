import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type {
  LeaseEndReason,
  LeaseState,
  OfferPriceView,
  OfferSla,
  PricingModel,
} from '@suanli/contracts';
import { NUMERIC } from '../common/columns.js';

/**
 * A price row as stored on offers and pinned on leases: `{unit, price}` is `fixed`; the other
 * models add `model` and their fields (settlement README, "Pricing models").
 */
export type PriceRow = OfferPriceView;

@Entity('offers')
// The catalog's sorts walk these in order and stop after a page.
@Index('idx_offers_catalog_newest', ['status', 'createdAt', 'id'])
@Index('idx_offers_catalog_price', ['status', 'normalizedPrice', 'id'])
export class OfferEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Index() @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'int' }) capacity!: number;
  @Column({ name: 'pricing_model', type: 'text' }) pricingModel!: PricingModel;
  @Column({ type: 'jsonb' }) prices!: PriceRow[];
  @Column({ name: 'min_hours', type: 'int' }) minHours!: number;
  @Column({ name: 'max_hours', type: 'int' }) maxHours!: number;
  @Column({ name: 'accepts_unsigned', type: 'boolean', default: false }) acceptsUnsigned!: boolean;
  @Column({ type: 'text', default: 'active' }) status!: 'active' | 'paused' | 'closed';
  /** The availability window; null ends = from creation / open-ended. */
  @Column({ name: 'available_from', type: 'timestamptz', nullable: true })
  availableFrom!: Date | null;
  @Column({ name: 'available_until', type: 'timestamptz', nullable: true })
  availableUntil!: Date | null;
  /** The SLA pinned on this offer's leases; null = the default SLA. */
  @Column({ type: 'jsonb', nullable: true }) sla!: OfferSla | null;
  /** Price per standard unit of the resource's class, stored so the catalog can sort on it. */
  @Column({ name: 'normalized_unit', type: 'text', nullable: true }) normalizedUnit!: string | null;
  @Column({ name: 'normalized_price', ...NUMERIC, nullable: true })
  normalizedPrice!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('orders')
export class OrderEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column({ name: 'buyer_org_id', type: 'uuid' }) buyerOrgId!: string;
  @Index() @Column({ name: 'offer_id', type: 'uuid' }) offerId!: string;
  @Column({ type: 'int' }) slots!: number;
  @Column({ type: 'int' }) hours!: number;
  /** Interruptible offers: the bid per slot-hour. */
  @Column({ ...NUMERIC, nullable: true }) bid!: string | null;
  @Column({ type: 'text' }) status!: 'accepted' | 'rejected';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** An accepted order running on a resource. Prices, catalog and take rate are pinned at order time. */
@Entity('leases')
@Index(['resourceId', 'state'])
export class LeaseEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index({ unique: true }) @Column({ name: 'order_id', type: 'uuid' }) orderId!: string;
  @Index() @Column({ name: 'offer_id', type: 'uuid' }) offerId!: string;
  @Column({ name: 'resource_id', type: 'uuid' }) resourceId!: string;
  @Index() @Column({ name: 'buyer_org_id', type: 'uuid' }) buyerOrgId!: string;
  @Index() @Column({ name: 'seller_org_id', type: 'uuid' }) sellerOrgId!: string;
  @Column({ type: 'int' }) slots!: number;
  @Column({ type: 'text' }) state!: LeaseState;
  @Column({ name: 'starts_at', type: 'timestamptz' }) startsAt!: Date;
  @Column({ name: 'ends_at', type: 'timestamptz' }) endsAt!: Date;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
  @Column({ name: 'end_reason', type: 'text', nullable: true }) endReason!: LeaseEndReason | null;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'jsonb' }) prices!: PriceRow[];
  @Column({ name: 'catalog_version', type: 'text' }) catalogVersion!: string;
  @Column({ name: 'take_rate', ...NUMERIC }) takeRate!: string;
  /** End of the last settled period; settlement resumes from here. */
  @Column({ name: 'settled_until', type: 'timestamptz' }) settledUntil!: Date;
  /**
   * What the buyer's wallet holds in escrow for the lease's open period (from `settled_until`):
   * moved by the lease's escrow postings in the same transaction, 0 when nothing is held.
   */
  @Column({ name: 'escrow_held', ...NUMERIC, default: 0 }) escrowHeld!: string;
  /** Interruptible leases: the bid per slot-hour (also pinned in `prices`). */
  @Column({ ...NUMERIC, nullable: true }) bid!: string | null;
  /** Interruptible leases: since when the lease is paused (outbid); null = running. */
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true }) pausedAt!: Date | null;
  /**
   * The correlation id of the request that created the lease (its order): lease events, the
   * ingest's usage log lines and settlement's log lines and debit notes carry it.
   */
  @Column({ name: 'correlation_id', type: 'text', nullable: true }) correlationId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/**
 * One pause of an interruptible lease (settlement.md: a lower bid is paused when capacity runs
 * out and resumes when it frees). Paused time is not billed.
 */
@Entity('lease_interruptions')
@Index(['leaseId', 'pausedAt'])
export class LeaseInterruptionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'lease_id', type: 'uuid' }) leaseId!: string;
  @Index() @Column({ name: 'offer_id', type: 'uuid' }) offerId!: string;
  @Column({ name: 'paused_at', type: 'timestamptz' }) pausedAt!: Date;
  /** e.g. `outbid`, `capacity_reduced`. */
  @Column({ name: 'pause_reason', type: 'text' }) pauseReason!: string;
  /** Details: the bid that displaced it, the capacity, ... */
  @Column({ name: 'pause_details', type: 'jsonb', default: {} })
  pauseDetails!: Record<string, unknown>;
  @Column({ name: 'resumed_at', type: 'timestamptz', nullable: true }) resumedAt!: Date | null;
  /** e.g. `capacity_freed`, `lease_ended`. */
  @Column({ name: 'resume_reason', type: 'text', nullable: true }) resumeReason!: string | null;
}
