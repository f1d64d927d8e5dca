import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { LeaseEndReason } from '@suanli/contracts';
import { wholeSecond } from '../common/clock.js';
import { LeaseEntity, OfferEntity } from '../database/market.entities.js';
import { BidScheduler } from './bid-scheduler.service.js';
import { LeaseEventsService } from './lease-events.service.js';

/** Reasons a lease is ended by a party or a rule rather than by settlement itself. */
export type EarlyEndReason = Extract<
  LeaseEndReason,
  'cancelled_by_buyer' | 'terminated_by_seller' | 'sla_breach' | 'resource_retired'
>;

/**
 * Ends a lease before its window is over, in the caller's transaction: the one place that does
 * it for the buyer's cancel, the seller's termination, the SLA watch (`sla_breach`) and
 * retiring the resource (`resource_retired`). It records `ended_at`, the reason and the
 * `lease.ended` event, and gives an interruptible offer's freed slots to its paused bids.
 * Money is settlement's: it rates the lease up to `ended_at`, releases the rest of the hold and
 * issues the invoice with its SLA credit (apps/market-api/src/settlement/README.md).
 */
@Injectable()
export class LeaseEndings {
  constructor(
    private readonly leaseEvents: LeaseEventsService,
    private readonly bids: BidScheduler,
  ) {}

  /**
   * The caller holds the row locks of the lease's offer and then the lease (the order orders
   * take them in) and has checked that the lease is open. `at` is when it ends: a lease not yet
   * delivered (pending, provisioning) ends where its billing would have started, so nothing is
   * billed; one that has not started ends at its start; and never before what is settled.
   */
  async end(
    m: EntityManager,
    lease: LeaseEntity,
    offer: OfferEntity | null,
    reason: EarlyEndReason,
    at: Date,
  ): Promise<void> {
    const now = wholeSecond(at);
    const undelivered = lease.state === 'pending' || lease.state === 'provisioning';
    const settled = lease.settledUntil.getTime();
    lease.endedAt = undelivered
      ? lease.settledUntil
      : new Date(Math.max(now.getTime(), lease.startsAt.getTime(), settled));
    lease.state = 'ended';
    lease.endReason = reason;
    await m.getRepository(LeaseEntity).save(lease);
    await this.leaseEvents.record(m, lease, 'lease.ended', reason);
    if (offer?.pricingModel === 'interruptible') {
      await this.bids.reschedule(m, offer, now, { kind: 'lease_ended', leaseId: lease.id });
    }
  }
}
