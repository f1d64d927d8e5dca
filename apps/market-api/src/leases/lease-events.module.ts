import { Global, Module } from '@nestjs/common';
import { BidScheduler } from './bid-scheduler.service.js';
import { LeaseEndings } from './lease-endings.service.js';
import { LeaseEventsRelay } from './lease-events.relay.js';
import { LeaseEventsService } from './lease-events.service.js';

/**
 * Lease events: the outbox writer (global, used by orders and settlement), its relay, the
 * interruptible offers' bid scheduler, and ending a lease early (`LeaseEndings`).
 */
@Global()
@Module({
  providers: [LeaseEventsService, LeaseEventsRelay, BidScheduler, LeaseEndings],
  exports: [LeaseEventsService, LeaseEventsRelay, BidScheduler, LeaseEndings],
})
export class LeaseEventsModule {}
