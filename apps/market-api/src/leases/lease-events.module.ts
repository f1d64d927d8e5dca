import { Global, Module } from '@nestjs/common';
import { LeaseEventsRelay } from './lease-events.relay.js';
import { LeaseEventsService } from './lease-events.service.js';

/** Lease events: the outbox writer (global, used by orders and settlement) and its relay. */
@Global()
@Module({
  providers: [LeaseEventsService, LeaseEventsRelay],
  exports: [LeaseEventsService, LeaseEventsRelay],
})
export class LeaseEventsModule {}
