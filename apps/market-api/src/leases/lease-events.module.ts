import { Global, Module } from '@nestjs/common';
import { BidScheduler } from './bid-scheduler.service.js';
import { LeaseEventsRelay } from './lease-events.relay.js';
import { LeaseEventsService } from './lease-events.service.js';

/**
 * Lease events: the outbox writer (global, used by orders and settlement), its relay, and the
 * interruptible offers' bid scheduler.
 */
@Global()
@Module({
  providers: [LeaseEventsService, LeaseEventsRelay, BidScheduler],
  exports: [LeaseEventsService, LeaseEventsRelay, BidScheduler],
})
export class LeaseEventsModule {}
