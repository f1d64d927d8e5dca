import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import type { CreateOfferRequest, OfferView } from '@suanli/contracts';
import { z } from 'zod';
import { offerSearchSchema } from '@suanli/contracts';
import { CURRENT_CATALOG } from '@suanli/units';
import { DomainError, notFound } from '../common/errors.js';
import {
  CredibilityScoreEntity,
  LeaseEntity,
  OfferEntity,
  OrganizationEntity,
  ResourceEntity,
} from '../database/entities.js';
import { RegistryService } from '../registry/registry.service.js';
import { normalizedPrice } from './pricing.js';

export type OfferSearch = z.infer<typeof offerSearchSchema>;
const credOf = (c: CredibilityScoreEntity | undefined) =>
  c ? { score: c.score, confidence: c.confidence } : null;
const OPEN_LEASE_STATES = ['pending', 'active', 'suspended'] as const;

@Injectable()
export class OffersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: RegistryService,
  ) {}

  async create(orgId: string, req: CreateOfferRequest): Promise<OfferView> {
    if (req.minHours > req.maxHours) {
      throw new DomainError('validation_failed', 'minHours may not exceed maxHours', 400, {
        field: 'minHours',
      });
    }
    const offerId = await this.db.transaction(async (m) => {
      const r = await m.getRepository(ResourceEntity).findOne({
        where: { id: req.resourceId, ownerOrgId: orgId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!r) throw notFound('resource');
      if (r.state === 'prepared') {
        throw new DomainError(
          'invalid_state',
          'no metering agent has reported in for this resource yet',
          409,
          {
            state: r.state,
          },
        );
      }
      if (r.state === 'retired')
        throw new DomainError('invalid_state', 'the resource is retired', 409);
      if (r.state === 'connected') await this.registry.transition(m, r, 'schedulable');
      const o = await m.getRepository(OfferEntity).save({
        resourceId: r.id,
        sellerOrgId: orgId,
        title: req.title,
        currency: req.currency,
        capacity: req.capacity,
        pricingModel: req.pricingModel,
        prices: req.prices,
        minHours: req.minHours,
        maxHours: req.maxHours,
        acceptsUnsigned: req.acceptsUnsigned,
        status: 'active' as const,
      });
      return o.id;
    });
    return this.get(offerId);
  }

  async search(q: OfferSearch): Promise<OfferView[]> {
    const qb = this.db
      .getRepository(OfferEntity)
      .createQueryBuilder('o')
      .innerJoin(ResourceEntity, 'r', 'r.id = o.resource_id')
      .where(`o.status = 'active'`)
      .orderBy('o.created_at', 'DESC')
      .limit(200);
    if (q.class) qb.andWhere('r.class = :cls', { cls: q.class });
    if (q.form) qb.andWhere('r.form = :form', { form: q.form });
    if (q.currency) qb.andWhere('o.currency = :cur', { cur: q.currency });
    if (q.region) {
      const [country, subdivision] = q.region.toUpperCase().split('-');
      qb.andWhere('r.country = :country', { country });
      if (subdivision) qb.andWhere('r.subdivision = :sub', { sub: subdivision });
    }
    if (q.minCredibility !== undefined)
      qb.andWhere(
        `EXISTS (SELECT 1 FROM credibility_scores cs WHERE cs.subject_type = 'resource' AND cs.subject_id = r.id AND cs.score >= :minCred)`,
        { minCred: q.minCredibility },
      );
    if (q.q)
      qb.andWhere('(o.title ILIKE :q OR r.cri ILIKE :q OR r.name ILIKE :q)', {
        q: `%${q.q.replace(/[%_\\]/g, '\\$&')}%`,
      });
    return this.views(await qb.getMany());
  }

  async get(id: string): Promise<OfferView> {
    const o = await this.db.getRepository(OfferEntity).findOneBy({ id });
    if (!o) throw notFound('offer');
    return (await this.views([o]))[0];
  }

  /** Slots taken on an offer by leases that are not over. */
  async slotsInUse(offerIds: string[], m = this.db.manager): Promise<Map<string, number>> {
    const used = new Map<string, number>();
    if (offerIds.length === 0) return used;
    const rows = await m
      .getRepository(LeaseEntity)
      .createQueryBuilder('l')
      .select('l.offer_id', 'offerId')
      .addSelect('COALESCE(SUM(l.slots), 0)::int', 'slots')
      .where({ offerId: In(offerIds), state: In([...OPEN_LEASE_STATES]) })
      .groupBy('l.offer_id')
      .getRawMany<{ offerId: string; slots: number }>();
    for (const r of rows) used.set(r.offerId, Number(r.slots));
    return used;
  }

  private async views(offers: OfferEntity[]): Promise<OfferView[]> {
    if (offers.length === 0) return [];
    const resources = await this.db
      .getRepository(ResourceEntity)
      .findBy({ id: In(offers.map((o) => o.resourceId)) });
    const sellers = await this.db
      .getRepository(OrganizationEntity)
      .findBy({ id: In(offers.map((o) => o.sellerOrgId)) });
    const used = await this.slotsInUse(offers.map((o) => o.id));
    const scores = await this.db.getRepository(CredibilityScoreEntity).findBy({
      subjectType: 'resource',
      subjectId: In(offers.map((o) => o.resourceId)),
    });
    const credByResource = new Map(scores.map((c) => [c.subjectId, c]));
    const rById = new Map(resources.map((r) => [r.id, r]));
    const sById = new Map(sellers.map((s) => [s.id, s]));
    return offers.map((o) => {
      const r = rById.get(o.resourceId)!;
      const v = this.registry.view(r);
      return {
        id: o.id,
        title: o.title,
        status: o.status,
        resource: {
          id: v.id,
          handle: v.handle,
          cri: v.cri,
          name: v.name,
          class: v.class,
          form: v.form,
          location: v.location,
          spec: v.spec,
        },
        seller: { id: o.sellerOrgId, name: sById.get(o.sellerOrgId)?.name ?? '' },
        currency: o.currency,
        capacity: o.capacity,
        available: Math.max(0, o.capacity - (used.get(o.id) ?? 0)),
        pricingModel: o.pricingModel,
        prices: o.prices,
        normalizedPrice: normalizedPrice(o.prices, {
          class: r.computeClass,
          spec: r.spec,
          catalog: CURRENT_CATALOG,
        }),
        minHours: o.minHours,
        maxHours: o.maxHours,
        acceptsUnsigned: o.acceptsUnsigned,
        createdAt: o.createdAt.toISOString(),
        credibility: credOf(credByResource.get(o.resourceId)),
      };
    });
  }
}
