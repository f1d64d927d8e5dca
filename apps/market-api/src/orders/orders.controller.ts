import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { createOrderSchema, isoInstant } from '@suanli/contracts';
import { z } from 'zod';
import { parseInput } from '../common/validation.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';
import { CurrentPrincipal, type Principal, Roles } from '../auth/auth.decorators.js';
import { OrdersService } from './orders.service.js';

/** Buckets in [from, to) (ISO 8601); both optional. */
export const usageQuery = z.object({
  granularity: z.enum(['minute', 'hour']).default('hour'),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});

@Controller('v1')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * A buyer orders slots of an offer for a period. The lease's estimated amount is held in the
   * buyer's wallet; a lease that cannot be delivered is refunded. Send an `Idempotency-Key`: a
   * retry with the same key answers the same lease.
   *
   * @summary Order a lease
   */
  @Roles('buyer')
  @Post('orders')
  @Idempotent()
  place(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.orders.place(p.orgId, parseInput(createOrderSchema, body));
  }

  /**
   * The caller's leases: as buyer, those it ordered; as seller, those on its resources. Newest
   * first.
   *
   * @summary List leases
   */
  @Roles('buyer', 'seller')
  @Get('leases')
  async leases(@CurrentPrincipal() p: Principal) {
    return { items: await this.orders.listLeases(p) };
  }

  /**
   * One lease with its offer, pinned price, period, status and amounts, for its buyer or seller.
   *
   * @summary Get a lease
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer', 'seller')
  @Get('leases/:id')
  lease(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.leaseView(p, id);
  }

  /**
   * An interruptible lease's pauses and resumes with their reasons.
   *
   * @summary List a lease's interruptions
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer', 'seller')
  @Get('leases/:id/interruptions')
  async interruptions(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return { items: await this.orders.interruptions(p, id) };
  }

  /**
   * The buyer ends the lease early; usage up to now is billed and the rest of the hold is released.
   *
   * @summary Cancel a lease (buyer)
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer')
  @Post('leases/:id/cancel')
  @HttpCode(200)
  cancel(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.endEarly(p, id, 'cancelled_by_buyer');
  }

  /**
   * The seller ends the lease early; the buyer is billed for usage up to now only, and the early
   * end counts as negative evidence in the seller's credibility.
   *
   * @summary Terminate a lease (seller)
   * @param id The lease's id (a UUID).
   */
  @Roles('seller')
  @Post('leases/:id/terminate')
  @HttpCode(200)
  terminate(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.endEarly(p, id, 'terminated_by_seller');
  }

  /**
   * The lease's metered usage in standard units, bucketed by minute or hour within `[from, to)`.
   *
   * @summary Get a lease's metered usage
   * @param id The lease's id (a UUID).
   */
  @Roles('buyer', 'seller')
  @Get('leases/:id/usage')
  async usage(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: unknown,
  ) {
    const { granularity, ...range } = parseInput(usageQuery, q);
    return { items: await this.orders.usage(p, id, granularity, range) };
  }
}
