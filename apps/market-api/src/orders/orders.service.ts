import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import type {
  CreateOrderRequest,
  LeaseInterruptionView,
  LeaseView,
  OrderView,
  UsagePoint,
} from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { CURRENT_CATALOG } from '@suanli/units';
import { AppConfig } from '../config/app-config.js';
import { Clock, wholeSecond } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import { answerInTransaction } from '../idempotency/idempotency.interceptor.js';
import { LeaseEntity, OfferEntity, OrderEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import { EscrowService } from '../settlement/escrow.service.js';
import { BidScheduler } from '../leases/bid-scheduler.service.js';
import { freeSlots, offerSlotsHeld, resourceSlotsHeld } from '../leases/capacity.js';
import { LeaseEndings } from '../leases/lease-endings.service.js';
import { LeaseEventsService } from '../leases/lease-events.service.js';
import { currentCorrelationId } from '../observability/correlation-context.js';
import { OffersService } from '../offers/offers.service.js';
import { withBid } from '../offers/pricing.js';
import { RegistryService } from '../registry/registry.service.js';
import { liveStatus } from '../registry/lifecycle.js';
import { usageRows } from '../usage/usage-rows.js';
import { FeesService } from '../fees/fees.service.js';
import { DeliveryService } from '../delivery/delivery.service.js';
import type { Principal } from '../auth/auth.decorators.js';

const HOUR = 3600_000;

@Injectable()
export class OrdersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly offers: OffersService,
    private readonly registry: RegistryService,
    private readonly escrow: EscrowService,
    private readonly leaseEvents: LeaseEventsService,
    private readonly bids: BidScheduler,
    private readonly endings: LeaseEndings,
    private readonly fees: FeesService,
    private readonly delivery: DeliveryService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Accepts an order only when capacity is free and the wallet covers the first period's
   * escrow. The offer row is locked for the whole check-and-insert, so concurrent orders
   * can never oversell it.
   */
  async place(buyerOrgId: string, req: CreateOrderRequest): Promise<OrderView> {
    const queue = (await this.resourceOf(req.offerId)) ?? req.offerId;
    return this.oneAtATime(queue, () => this.placeLocked(buyerOrgId, req));
  }

  /** The resource an offer sells (it never changes, so it is remembered). */
  private async resourceOf(offerId: string): Promise<string | undefined> {
    const known = this.resourceOfOffer.get(offerId);
    if (known) return known;
    const o = await this.db
      .getRepository(OfferEntity)
      .findOne({ where: { id: offerId }, select: { id: true, resourceId: true } });
    if (!o) return undefined;
    if (this.resourceOfOffer.size >= 10_000) this.resourceOfOffer.clear();
    this.resourceOfOffer.set(offerId, o.resourceId);
    return o.resourceId;
  }

  private readonly resourceOfOffer = new Map<string, string>();

  /**
   * Orders for one resource (all its offers) queue here, in process, before taking a pool
   * connection: they would serialize on the resource's row lock anyway, and a burst of them
   * (200 at once) waiting on that lock would hold every pooled connection and time out waiting
   * for one. Across processes the row locks still decide.
   */
  private async oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(key) ?? Promise.resolve();
    const run = before.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  private readonly queues = new Map<string, Promise<void>>();

  private async placeLocked(buyerOrgId: string, req: CreateOrderRequest): Promise<OrderView> {
    return this.db.transaction(async (m) => {
      const offer = await m
        .getRepository(OfferEntity)
        .findOne({ where: { id: req.offerId }, lock: { mode: 'pessimistic_write' } });
      if (!offer || offer.status !== 'active') throw notFound('offer');
      if (offer.sellerOrgId === buyerOrgId) {
        throw new DomainError('forbidden', 'an organization cannot order its own offer', 403);
      }
      if (req.hours < offer.minHours || req.hours > offer.maxHours) {
        throw new DomainError(
          'validation_failed',
          `hours must be between ${offer.minHours} and ${offer.maxHours}`,
          400,
          {
            field: 'hours',
          },
        );
      }
      const now = wholeSecond(this.clock.now());
      if (offer.availableFrom && now.getTime() < offer.availableFrom.getTime()) {
        throw new DomainError('capacity_unavailable', 'the offer is not available yet', 409, {
          field: 'offerId',
          availableFrom: offer.availableFrom.toISOString(),
        });
      }
      if (
        offer.availableUntil &&
        now.getTime() + req.hours * HOUR > offer.availableUntil.getTime()
      ) {
        throw new DomainError(
          'validation_failed',
          "the lease would end after the offer's availability window",
          400,
          { field: 'hours', availableUntil: offer.availableUntil.toISOString() },
        );
      }
      // Every offer of the resource draws from its capacity: the resource's row lock (after the
      // offer's) serializes orders across its offers, as the offer's does within one.
      const resource = await m
        .getRepository(ResourceEntity)
        .findOneOrFail({ where: { id: offer.resourceId }, lock: { mode: 'pessimistic_write' } });
      if (resource.state === 'retired')
        throw new DomainError('invalid_state', 'the resource is retired', 409);
      // Refused before anything is held (docs/decisions.md, "Live status in the market").
      const live = liveStatus(resource.lastHeartbeatAt, now, resource.reportedStatus);
      if (live === 'offline') {
        throw new DomainError(
          'resource_offline',
          "the offer's resource is offline: its agent has not reported in recently",
          409,
          {
            field: 'offerId',
            liveStatus: live,
            lastHeartbeatAt: resource.lastHeartbeatAt?.toISOString() ?? null,
          },
        );
      }
      const interruptible = offer.pricingModel === 'interruptible';
      if (!interruptible && req.bid !== undefined) {
        throw new DomainError('validation_failed', 'only interruptible offers take a bid', 400, {
          field: 'bid',
        });
      }
      if (interruptible) {
        const floor = offer.prices[0].price;
        if (req.bid === undefined) {
          throw new DomainError('validation_failed', 'an interruptible offer needs a bid', 400, {
            field: 'bid',
            floor,
          });
        }
        if (new Decimal(req.bid).lt(new Decimal(floor))) {
          throw new DomainError('validation_failed', "the bid is under the offer's floor", 400, {
            field: 'bid',
            floor,
          });
        }
        const most = Math.min(offer.capacity, resource.capacitySlots);
        if (req.slots > most) {
          throw new DomainError('capacity_unavailable', 'more slots than the offer has', 409, {
            field: 'slots',
            requested: req.slots,
            capacity: most,
          });
        }
      } else {
        const offerHeld = await offerSlotsHeld(m, [offer.id]);
        const resourceHeld = await resourceSlotsHeld(m, [resource.id]);
        const available = freeSlots({
          offerCapacity: offer.capacity,
          offerHeld: offerHeld.get(offer.id) ?? 0,
          resourceCapacity: resource.capacitySlots,
          resourceHeld: resourceHeld.get(resource.id) ?? 0,
        });
        if (req.slots > available) {
          throw new DomainError(
            'capacity_unavailable',
            'not enough free capacity for this order',
            409,
            { field: 'slots', requested: req.slots, available },
          );
        }
      }
      // Delivered by the resource's agent: pending until access works, billed from then
      // (docs/delivery.md). Refused here, before anything is held, when SSH access lacks a key.
      const delivered = await this.delivery.delivers(m, resource, buyerOrgId);
      // Pinned as the buyer wrote it (a validated decimal string).
      const bid = interruptible ? (req.bid as string) : null;
      const order = await m.getRepository(OrderEntity).save({
        buyerOrgId,
        offerId: offer.id,
        slots: req.slots,
        hours: req.hours,
        bid,
        status: 'accepted' as const,
      });
      const lease = await m.getRepository(LeaseEntity).save({
        orderId: order.id,
        offerId: offer.id,
        resourceId: offer.resourceId,
        buyerOrgId,
        sellerOrgId: offer.sellerOrgId,
        slots: req.slots,
        state: delivered ? ('pending' as const) : ('active' as const),
        startsAt: now,
        endsAt: new Date(now.getTime() + req.hours * HOUR),
        endedAt: null,
        endReason: null,
        currency: offer.currency,
        prices: bid === null ? offer.prices : withBid(offer.prices, bid),
        catalogVersion: CURRENT_CATALOG,
        takeRate: await this.fees.currentTakeRate(m),
        settledUntil: now,
        bid,
        pausedAt: null,
        // The order request's id: the lease's originating correlation id, down to settlement.
        correlationId: currentCorrelationId() ?? null,
      });
      if (bid !== null) {
        // The highest bids run: this order runs if its bid wins capacity (pausing lower bids);
        // if it would itself be paused, it is refused and nothing is held or paused.
        const { paused } = await this.bids.reschedule(m, offer, now, {
          kind: 'order',
          leaseId: lease.id,
          bid,
        });
        if (paused.includes(lease.id)) {
          throw new DomainError(
            'capacity_unavailable',
            'higher bids hold the capacity: bid more to run now',
            409,
            { field: 'bid', bid, requested: req.slots, capacity: offer.capacity },
          );
        }
      }
      await this.escrow.holdForNewLease(
        m,
        lease,
        { spec: resource.spec, computeClass: resource.computeClass },
        { sla: offer.sla },
      );
      if (resource.state === 'schedulable') await this.registry.transition(m, resource, 'running');
      if (delivered) await this.delivery.open(m, lease, resource);
      // A delivered lease starts (for metering and billing) when the agent reports the grant.
      else await this.leaseEvents.record(m, lease, 'lease.started');
      // The answer commits with the order: a retry after a crash gets it, never a second order.
      return answerInTransaction({
        ...orderView(order),
        bid,
        lease: leaseView(lease, resource.cri),
      });
    });
  }

  /**
   * Ends a lease before its window is over: the buyer cancels, or the seller terminates.
   * Settlement then rates it up to `ended_at`, releases the rest of the hold and invoices it.
   */
  async endEarly(
    p: Principal,
    id: string,
    reason: 'cancelled_by_buyer' | 'terminated_by_seller',
  ): Promise<LeaseView> {
    const view = await this.db.transaction(async (m) => {
      // Offer first, then lease: the order in which orders and offer edits lock them.
      const offerId = (await m.getRepository(LeaseEntity).findOneBy({ id }))?.offerId;
      const offer = offerId
        ? await m
            .getRepository(OfferEntity)
            .findOne({ where: { id: offerId }, lock: { mode: 'pessimistic_write' } })
        : null;
      const lease = await m
        .getRepository(LeaseEntity)
        .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      const party = reason === 'cancelled_by_buyer' ? lease?.buyerOrgId : lease?.sellerOrgId;
      if (!lease || party !== p.orgId) throw notFound('lease');
      if (lease.state === 'ended' || lease.state === 'provisioning_failed') {
        throw new DomainError('invalid_state', 'the lease has already ended', 409, {
          state: lease.state,
          endReason: lease.endReason,
        });
      }
      await this.endings.end(m, lease, offer, reason, this.clock.now());
      const resource = await this.registry.afterLeaseEnded(m, lease.resourceId);
      return leaseView(lease, resource?.cri ?? '');
    });
    // Its slots may let paused bids of the resource's interruptible offers run again.
    await this.bids.rescheduleResource(this.db, view.resourceId, this.clock.now(), {
      kind: 'lease_ended',
      leaseId: view.id,
    });
    return view;
  }

  async listLeases(p: Principal): Promise<LeaseView[]> {
    const where = p.roles.includes('buyer')
      ? [{ buyerOrgId: p.orgId }, { sellerOrgId: p.orgId }]
      : [{ sellerOrgId: p.orgId }];
    const leases = await this.db
      .getRepository(LeaseEntity)
      .find({ where, order: { createdAt: 'DESC' }, take: 500 });
    const resources = await this.db
      .getRepository(ResourceEntity)
      .findBy({ id: In([...new Set(leases.map((l) => l.resourceId))]) });
    const cri = new Map(resources.map((r) => [r.id, r.cri]));
    return leases.map((l) => leaseView(l, cri.get(l.resourceId) ?? ''));
  }

  /** A lease is visible to its buyer and its seller; to anyone else it does not exist. */
  async getLease(p: Principal, id: string): Promise<LeaseEntity> {
    const l = await this.db.getRepository(LeaseEntity).findOneBy({ id });
    if (!l || (l.buyerOrgId !== p.orgId && l.sellerOrgId !== p.orgId)) throw notFound('lease');
    return l;
  }

  /** An interruptible lease's pauses (outbid, capacity) and resumes, oldest first. */
  async interruptions(p: Principal, id: string): Promise<LeaseInterruptionView[]> {
    await this.getLease(p, id);
    return (await this.bids.history(this.db.manager, id)).map(interruptionView);
  }

  async leaseView(p: Principal, id: string): Promise<LeaseView> {
    const l = await this.getLease(p, id);
    const r = await this.db.getRepository(ResourceEntity).findOneByOrFail({ id: l.resourceId });
    return leaseView(l, r.cri);
  }

  async usage(
    p: Principal,
    id: string,
    granularity: 'minute' | 'hour',
    range: { from?: string; to?: string } = {},
  ): Promise<UsagePoint[]> {
    await this.getLease(p, id);
    const rows = await this.db.query<{ unit: string; bucket: Date; quantity: string }[]>(
      `SELECT u.unit, u.bucket, u.quantity::text AS quantity FROM ${usageRows(granularity)} u
        WHERE u.lease_id = $1
          AND ($2::timestamptz IS NULL OR u.bucket >= $2)
          AND ($3::timestamptz IS NULL OR u.bucket < $3)
        ORDER BY u.bucket, u.unit LIMIT 10000`,
      [id, range.from ?? null, range.to ?? null],
    );
    return rows.map((r) => ({
      unit: r.unit,
      bucket: r.bucket.toISOString(),
      quantity: r.quantity,
    }));
  }
}

const orderView = (o: OrderEntity): Omit<OrderView, 'lease'> => ({
  id: o.id,
  offerId: o.offerId,
  buyerOrgId: o.buyerOrgId,
  slots: o.slots,
  hours: o.hours,
  bid: o.bid === null ? null : new Decimal(o.bid).toString(),
  status: o.status,
  createdAt: o.createdAt.toISOString(),
});

export const leaseView = (l: LeaseEntity, cri: string): LeaseView => ({
  id: l.id,
  orderId: l.orderId,
  offerId: l.offerId,
  resourceId: l.resourceId,
  cri,
  slots: l.slots,
  state: l.state,
  startsAt: l.startsAt.toISOString(),
  endsAt: l.endsAt.toISOString(),
  endedAt: l.endedAt?.toISOString() ?? null,
  endReason: l.endReason,
  currency: l.currency,
  catalogVersion: l.catalogVersion,
  takeRate: l.takeRate,
  bid: l.bid === null ? null : (l.prices[0]?.price ?? new Decimal(l.bid).toString()),
  paused: l.pausedAt !== null,
});

export const interruptionView = (i: {
  pausedAt: Date;
  pauseReason: string;
  resumedAt: Date | null;
  resumeReason: string | null;
}): LeaseInterruptionView => ({
  pausedAt: i.pausedAt.toISOString(),
  pauseReason: i.pauseReason,
  resumedAt: i.resumedAt?.toISOString() ?? null,
  resumeReason: i.resumeReason,
});
