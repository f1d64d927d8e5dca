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

  @Roles('buyer')
  @Post('orders')
  @Idempotent()
  place(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.orders.place(p.orgId, parseInput(createOrderSchema, body));
  }

  @Roles('buyer', 'seller')
  @Get('leases')
  async leases(@CurrentPrincipal() p: Principal) {
    return { items: await this.orders.listLeases(p) };
  }

  @Roles('buyer', 'seller')
  @Get('leases/:id')
  lease(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.leaseView(p, id);
  }

  /** An interruptible lease's pauses and resumes with their reasons. */
  @Roles('buyer', 'seller')
  @Get('leases/:id/interruptions')
  async interruptions(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return { items: await this.orders.interruptions(p, id) };
  }

  @Roles('buyer')
  @Post('leases/:id/cancel')
  @HttpCode(200)
  cancel(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.endEarly(p, id, 'cancelled_by_buyer');
  }

  @Roles('seller')
  @Post('leases/:id/terminate')
  @HttpCode(200)
  terminate(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.orders.endEarly(p, id, 'terminated_by_seller');
  }

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
