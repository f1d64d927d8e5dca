import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DemandMatchView, DemandRequest } from '@suanli/contracts';
import { Clock } from '../common/clock.js';
import { OfferEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import { OFFER_SLOTS_HELD_SQL, RESOURCE_SLOTS_HELD_SQL } from '../leases/capacity.js';
import { DEGRADED_WINDOW_MS, notOfflineSql } from '../registry/lifecycle.js';
import { rankOffers } from './demand-scoring.js';
import { OffersService } from './offers.service.js';

/** 供需匹配: the offers that can serve a demand, ranked with an explanation. */
@Injectable()
export class DemandsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly offers: OffersService,
    private readonly clock: Clock,
  ) {}

  async match(d: DemandRequest): Promise<{ items: DemandMatchView[] }> {
    const now = this.clock.now();
    const qb = this.db
      .getRepository(OfferEntity)
      .createQueryBuilder('o')
      .innerJoin(ResourceEntity, 'r', 'r.id = o.resource_id')
      .where(`o.status = 'active'`)
      .andWhere('o.currency = :cur', { cur: d.currency })
      .andWhere('r.class = :cls', { cls: d.class })
      .andWhere('o.min_hours <= :hours AND o.max_hours >= :hours', { hours: d.hours })
      // Bids are placed on an interruptible offer itself: a candidate here is ordered as is.
      .andWhere(`o.pricing_model <> 'interruptible'`)
      // Only offers with room for the whole order now, within their availability window.
      .andWhere(
        `LEAST(o.capacity - ${OFFER_SLOTS_HELD_SQL}, r.capacity_slots - ${RESOURCE_SLOTS_HELD_SQL}) >= :slots`,
        { slots: d.slots },
      )
      .andWhere('(o.available_from IS NULL OR o.available_from <= :now)', { now })
      // An offline resource cannot be ordered, so it is no candidate (degraded ones are, ranked
      // lower by their availability component).
      .andWhere(notOfflineSql('r', ':liveSince'), {
        liveSince: new Date(now.getTime() - DEGRADED_WINDOW_MS),
      })
      .andWhere('(o.available_until IS NULL OR o.available_until >= :end)', {
        end: new Date(now.getTime() + d.hours * 3_600_000),
      })
      .orderBy('o.normalized_price', 'ASC', 'NULLS LAST')
      .addOrderBy('o.id', 'ASC')
      .limit(200);
    if (d.form) qb.andWhere('r.form = :form', { form: d.form });
    if (d.accelerators) {
      qb.andWhere('r.accel_model IN (:...models)', { models: d.accelerators.models });
      qb.andWhere('r.accel_count >= :minAcc', {
        minAcc: d.accelerators.minCount,
      });
    }
    if (d.minCpu) qb.andWhere('r.cpu >= :cpu', { cpu: d.minCpu });
    if (d.minMemGiB) qb.andWhere('r.mem_gib >= :mem', { mem: d.minMemGiB });
    if (d.maxPricePerUnit)
      qb.andWhere('o.normalized_price <= :maxPrice', { maxPrice: d.maxPricePerUnit });
    if (d.minCredibility !== undefined)
      qb.andWhere(
        `EXISTS (SELECT 1 FROM credibility_scores cs WHERE cs.subject_type = 'resource'
           AND cs.subject_id = r.id AND cs.score >= :minCred)`,
        { minCred: d.minCredibility },
      );
    const candidates = await this.offers.views(await qb.getMany());
    return { items: rankOffers(candidates, d).slice(0, d.limit) };
  }
}
