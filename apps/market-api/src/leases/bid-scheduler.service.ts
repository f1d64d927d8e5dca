import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { LeaseEntity, LeaseInterruptionEntity, OfferEntity } from '../database/market.entities.js';
import { wholeSecond } from '../common/clock.js';
import { heldByOtherOffers } from './capacity.js';
import { LeaseEventsService } from './lease-events.service.js';

/** What made the scheduler run; it decides the reasons recorded for pauses and resumes. */
export type RescheduleTrigger =
  | { kind: 'order'; leaseId: string; bid: string }
  | { kind: 'lease_ended'; leaseId: string }
  | { kind: 'capacity_changed'; capacity: number }
  /** Settlement's sweep after leases ended on their own (completed, insufficient funds). */
  | { kind: 'sweep' };

export interface RescheduleResult {
  paused: string[];
  resumed: string[];
}

/** The leases that take part in an interruptible offer's allocation (not ended). */
const OPEN = `('pending', 'provisioning', 'active', 'suspended')`;

/**
 * Interruptible offers (settlement.md): the highest bids run; a lower bid is paused when
 * capacity runs out and resumes when it frees. Capacity goes to the open leases in order of bid
 * (highest first), earlier leases first among equal bids; a lease runs when its slots fit in
 * what is left, else it is paused. Every pause and resume is recorded in `lease_interruptions`
 * with its reason, set on the lease (`paused_at`) and published as `lease.suspended` /
 * `lease.resumed` with that reason. Paused time is not billed.
 */
@Injectable()
export class BidScheduler {
  constructor(private readonly events: LeaseEventsService) {}

  /**
   * Re-allocates the offer's capacity at `at`, in the caller's transaction. The caller holds
   * the offer's row lock (orders, offer edits and lease ends all take it first), so two
   * allocations of one offer never interleave. The bids share the resource with its other
   * offers: they get at most what those offers' leases leave of the resource's capacity (the
   * resource's row lock, taken here after the offer's, keeps that figure still meanwhile).
   */
  async reschedule(
    m: EntityManager,
    offer: { id: string; capacity: number; resourceId: string },
    at: Date,
    trigger: RescheduleTrigger,
  ): Promise<RescheduleResult> {
    // Pauses and resumes on whole seconds, like lease starts and ends (settlement bills seconds).
    at = wholeSecond(at);
    await this.closeEnded(m, offer.id);
    const [resource] = (await m.query(
      `SELECT capacity_slots FROM resources WHERE id = $1 FOR UPDATE`,
      [offer.resourceId],
    )) as { capacity_slots: number }[];
    const resourceLeft =
      Number(resource?.capacity_slots ?? 0) -
      (await heldByOtherOffers(m, offer.resourceId, offer.id));
    const leases = await m
      .getRepository(LeaseEntity)
      .createQueryBuilder('l')
      .where(`l.offer_id = :offer AND l.state IN ${OPEN}`, { offer: offer.id })
      // Highest bid first; among equal bids the earlier lease (a new order's comes last).
      .orderBy('l.bid', 'DESC', 'NULLS LAST')
      .addOrderBy('l.created_at', 'ASC')
      .addOrderBy('l.id', 'ASC')
      .setLock('pessimistic_write')
      .getMany();
    let left = Math.max(0, Math.min(offer.capacity, resourceLeft));
    const result: RescheduleResult = { paused: [], resumed: [] };
    for (const lease of leases) {
      const runs = lease.slots <= left;
      if (runs) left -= lease.slots;
      if (runs && lease.pausedAt) {
        await this.resume(m, lease, at, trigger);
        result.resumed.push(lease.id);
      } else if (!runs && !lease.pausedAt) {
        await this.pause(m, lease, at, trigger);
        result.paused.push(lease.id);
      }
    }
    return result;
  }

  /**
   * Every interruptible offer with a paused lease, re-allocated in its own transaction (offer
   * row lock first). Settlement calls it after each run, so that capacity freed by leases that
   * ended on their own goes to the paused bids. Returns the leases resumed.
   */
  sweep(db: DataSource, at: Date): Promise<string[]> {
    return this.rescheduleOffers(db, null, at, { kind: 'sweep' });
  }

  /**
   * The paused bids of one resource's offers, re-allocated after something freed some of the
   * resource (a lease of another offer ended, the capacity grew). Called after the change has
   * committed: each offer is locked in a transaction of its own, so no transaction ever holds
   * the resource's lock while it waits for an offer's (orders take the offer's first).
   */
  rescheduleResource(
    db: DataSource,
    resourceId: string,
    at: Date,
    trigger: RescheduleTrigger,
  ): Promise<string[]> {
    return this.rescheduleOffers(db, resourceId, at, trigger);
  }

  private async rescheduleOffers(
    db: DataSource,
    resourceId: string | null,
    at: Date,
    trigger: RescheduleTrigger,
  ): Promise<string[]> {
    const offers: { offer_id: string }[] = await db.query(
      `SELECT DISTINCT offer_id FROM leases
        WHERE paused_at IS NOT NULL AND ($1::uuid IS NULL OR resource_id = $1)
        ORDER BY offer_id`,
      [resourceId],
    );
    const resumed: string[] = [];
    for (const { offer_id: id } of offers) {
      await db.transaction(async (m) => {
        const offer = await m
          .getRepository(OfferEntity)
          .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!offer) return;
        const r = await this.reschedule(m, offer, at, trigger);
        resumed.push(...r.resumed);
      });
    }
    return resumed;
  }

  /** The lease's pauses, oldest first. */
  history(m: EntityManager, leaseId: string): Promise<LeaseInterruptionEntity[]> {
    return m.getRepository(LeaseInterruptionEntity).find({
      where: { leaseId },
      order: { pausedAt: 'ASC' },
    });
  }

  private async pause(
    m: EntityManager,
    lease: LeaseEntity,
    at: Date,
    trigger: RescheduleTrigger,
  ): Promise<void> {
    const reason = trigger.kind === 'order' ? 'outbid' : 'capacity_reduced';
    lease.pausedAt = at;
    await m.update(LeaseEntity, { id: lease.id }, { pausedAt: at });
    await m.insert(LeaseInterruptionEntity, {
      leaseId: lease.id,
      offerId: lease.offerId,
      pausedAt: at,
      pauseReason: reason,
      pauseDetails: { ...trigger, ownBid: lease.bid ?? undefined },
      resumedAt: null,
      resumeReason: null,
    });
    await this.events.record(m, lease, 'lease.suspended', reason);
  }

  private async resume(
    m: EntityManager,
    lease: LeaseEntity,
    at: Date,
    trigger: RescheduleTrigger,
  ): Promise<void> {
    const reason = trigger.kind === 'capacity_changed' ? 'capacity_raised' : 'capacity_freed';
    lease.pausedAt = null;
    await m.update(LeaseEntity, { id: lease.id }, { pausedAt: null });
    await m
      .createQueryBuilder()
      .update(LeaseInterruptionEntity)
      .set({ resumedAt: at, resumeReason: reason })
      .where('lease_id = :id AND resumed_at IS NULL', { id: lease.id })
      .execute();
    await this.events.record(m, lease, 'lease.resumed', reason);
  }

  /** Leases that ended while paused: their open pause closes at their end. */
  private async closeEnded(m: EntityManager, offerId: string): Promise<void> {
    await m.query(
      `UPDATE lease_interruptions i SET resumed_at = GREATEST(i.paused_at, COALESCE(l.ended_at, l.ends_at)),
              resume_reason = 'lease_ended'
         FROM leases l
        WHERE l.id = i.lease_id AND i.offer_id = $1 AND i.resumed_at IS NULL AND l.state = 'ended'`,
      [offerId],
    );
    await m.query(
      `UPDATE leases SET paused_at = NULL WHERE offer_id = $1 AND state = 'ended' AND paused_at IS NOT NULL`,
      [offerId],
    );
  }
}
