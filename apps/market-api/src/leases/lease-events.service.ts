import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { LeaseEvent, LeaseEventType } from '@suanli/contracts';
import { Clock } from '../common/clock.js';
import { InvoiceEntity } from '../database/settlement.entities.js';
import { LeaseEventOutboxEntity } from './lease-events.entities.js';
import { type LeaseEntity, OfferEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import { correlationField } from '../observability/correlation-context.js';

/**
 * Records lease events in the transactional outbox (`lease_events_outbox`): call `record` in the
 * transaction that starts, suspends, resumes or ends the lease, so the event exists if and only
 * if the change committed. The relay publishes them to `exchange.lease.v1`.
 */
@Injectable()
export class LeaseEventsService {
  constructor(private readonly clock: Clock) {}

  async record(
    manager: EntityManager,
    lease: LeaseEntity,
    type: LeaseEventType,
    reason?: string,
  ): Promise<void> {
    const resource = await manager.findOneByOrFail(ResourceEntity, { id: lease.resourceId });
    const offer = await manager.findOneBy(OfferEntity, { id: lease.offerId });
    const invoice =
      type === 'lease.ended' ? await manager.findOneBy(InvoiceEntity, { leaseId: lease.id }) : null;
    const event: LeaseEvent = {
      eventId: randomUUID(),
      schemaVersion: 1,
      type,
      leaseId: lease.id,
      resourceId: lease.resourceId,
      sellerOrgId: lease.sellerOrgId,
      cri: resource.cri,
      class: resource.computeClass,
      spec: { ...resource.spec },
      cpuModel: resource.cpuModel,
      slots: lease.slots,
      startsAt: lease.startsAt.toISOString(),
      endsAt: lease.endsAt.toISOString(),
      endedAt: lease.endedAt?.toISOString() ?? null,
      invoicedAt: invoice?.issuedAt.toISOString() ?? null,
      catalogVersion: lease.catalogVersion,
      acceptsUnsigned: offer?.acceptsUnsigned ?? false,
      occurredAt: this.clock.now().toISOString(),
      ...(reason ? { reason } : {}),
      state: lease.state,
    };
    await manager
      .createQueryBuilder()
      .insert()
      .into(LeaseEventOutboxEntity)
      .values({ eventId: event.eventId, leaseId: lease.id, type, payload: () => ':payload' })
      // The current correlation id and the lease's originating one ride along; the relay moves
      // them to Kafka headers.
      .setParameter(
        'payload',
        JSON.stringify({
          ...event,
          ...correlationField(),
          ...(lease.correlationId ? { leaseCorrelationId: lease.correlationId } : {}),
        }),
      )
      .execute();
  }
}
