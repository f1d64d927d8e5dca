import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In, IsNull, type SelectQueryBuilder } from 'typeorm';
import type {
  CreateOfferRequest,
  OfferPriceInput,
  OfferView,
  Page,
  PricingModel,
  UpdateOfferRequest,
} from '@suanli/contracts';
import { z } from 'zod';
import { checkOfferPrices, offerSearchSchema } from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { CURRENT_CATALOG } from '@suanli/units';
import { Clock } from '../common/clock.js';
import { DomainError, invalidState, notFound } from '../common/errors.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import { resourceScores } from '../credibility/resource-scores.js';
import { OfferEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import { RegistryService } from '../registry/registry.service.js';
import { liveStatus, ONLINE_WINDOW_MS, onlineSql } from '../registry/lifecycle.js';
import { BidScheduler } from '../leases/bid-scheduler.service.js';
import {
  freeSlots,
  OFFER_SLOTS_HELD_SQL,
  offerSlotsHeld,
  RESOURCE_SLOTS_HELD_SQL,
  resourceSlotsHeld,
} from '../leases/capacity.js';
import { validatePriceRow } from '../settlement/rating.js';
import { DEFAULT_SLA, validateSla } from '../settlement/sla.js';
import { decodeCursor, encodeCursor } from './catalog-cursor.js';
import { normalizedPrice, toPriceRows } from './pricing.js';

export type OfferSearch = z.infer<typeof offerSearchSchema>;
/** How far in the past an availability window may start (clock skew of the seller's client). */
const WINDOW_PAST_TOLERANCE_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

const invalid = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new DomainError('validation_failed', message, 400, { field, ...details });

/**
 * The availability window rules: it may not end in the past, may not start more than a few
 * minutes in the past (when it is being set), must end after it starts and leave room for the
 * shortest lease.
 */
export function checkWindow(
  w: { from: Date | null; until: Date | null; minHours: number },
  now: Date,
  fromChanged: boolean,
): void {
  if (w.until && w.until.getTime() <= now.getTime()) {
    throw invalid('availableUntil', 'the availability window ends in the past', {
      availableUntil: w.until.toISOString(),
      now: now.toISOString(),
    });
  }
  if (w.from && fromChanged && w.from.getTime() < now.getTime() - WINDOW_PAST_TOLERANCE_MS) {
    throw invalid('availableFrom', 'the availability window starts in the past', {
      availableFrom: w.from.toISOString(),
      now: now.toISOString(),
    });
  }
  if (w.from && w.until && w.from.getTime() >= w.until.getTime()) {
    throw invalid('availableUntil', 'availableUntil must be after availableFrom');
  }
  if (w.until) {
    const start = Math.max(now.getTime(), w.from?.getTime() ?? 0);
    if (w.until.getTime() - start < w.minHours * HOUR_MS) {
      throw invalid('availableUntil', `the window leaves less than minHours (${w.minHours} h)`);
    }
  }
}

/** Price rows checked against the model (in the schema for create; here for edits). */
function checkPricesFor(model: PricingModel, prices: readonly OfferPriceInput[]): void {
  const issues: { path: string; message: string }[] = [];
  checkOfferPrices(model, prices, {
    addIssue: (i: { path?: PropertyKey[]; message?: string }) =>
      issues.push({ path: (i.path ?? []).map(String).join('.'), message: i.message ?? '' }),
  } as unknown as z.RefinementCtx);
  if (issues.length > 0) {
    throw new DomainError('validation_failed', 'the request is not valid', 400, {
      field: issues[0].path,
      issues,
    });
  }
}

/** The stored rows, also checked by the rating rules they will be billed with. */
function storedPrices(model: PricingModel, prices: readonly OfferPriceInput[]) {
  const rows = toPriceRows(model, prices);
  rows.forEach((r, i) => {
    try {
      validatePriceRow(r);
    } catch (e) {
      throw invalid(`prices.${i}`, e instanceof Error ? e.message : String(e));
    }
  });
  return rows;
}

function storedSla(sla: CreateOfferRequest['sla'] | null | undefined) {
  if (!sla) return null;
  try {
    return validateSla({ target: sla.target, schedule: sla.schedule.map((s) => ({ ...s })) });
  } catch (e) {
    throw invalid('sla', e instanceof Error ? e.message : String(e));
  }
}

const normalizedColumns = (prices: OfferEntity['prices'], r: ResourceEntity) => {
  const n = normalizedPrice(prices, {
    class: r.computeClass,
    spec: r.spec,
    catalog: CURRENT_CATALOG,
  });
  return { normalizedUnit: n?.unit ?? null, normalizedPrice: n?.price ?? null };
};

/** An offer sells at most what its resource has (docs/decisions.md, "Capacity belongs to the resource"). */
function checkWithinResource(capacity: number, r: ResourceEntity): void {
  if (capacity > r.capacitySlots) {
    throw invalid(
      'capacity',
      `an offer cannot sell more than its resource's capacity (${r.capacitySlots} slots)`,
      { resourceCapacity: r.capacitySlots },
    );
  }
}

/** One row of `catalogSql`: an offer with everything its view shows. */
interface CatalogRow {
  sort_key: string | null;
  id: string;
  title: string;
  status: OfferEntity['status'];
  seller_org_id: string;
  resource_id: string;
  currency: string;
  capacity: number;
  pricing_model: PricingModel;
  prices: OfferEntity['prices'];
  normalized_unit: string | null;
  normalized_price: string | null;
  min_hours: number;
  max_hours: number;
  accepts_unsigned: boolean;
  available_from: Date | null;
  available_until: Date | null;
  sla: OfferEntity['sla'];
  created_at: Date;
  handle: string;
  cri: string;
  resource_name: string;
  class: ResourceEntity['computeClass'];
  form: ResourceEntity['form'];
  country: string;
  subdivision: string;
  site: string;
  spec: ResourceEntity['spec'];
  seller_name: string | null;
  score: number | null;
  confidence: number | null;
  used: number;
  resource_capacity: number;
  resource_used: number;
  last_heartbeat_at: Date | null;
  reported_status: ResourceEntity['reportedStatus'];
}

function catalogView(r: CatalogRow, now: Date): OfferView {
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    resource: {
      id: r.resource_id,
      handle: r.handle,
      cri: r.cri,
      name: r.resource_name,
      class: r.class,
      form: r.form,
      location: { country: r.country, subdivision: r.subdivision, site: r.site },
      spec: r.spec,
      live: {
        status: liveStatus(r.last_heartbeat_at, now, r.reported_status),
        lastHeartbeatAt: r.last_heartbeat_at?.toISOString() ?? null,
      },
    },
    seller: { id: r.seller_org_id, name: r.seller_name ?? '' },
    currency: r.currency.trim(),
    capacity: r.capacity,
    available: freeSlots({
      offerCapacity: r.capacity,
      offerHeld: Number(r.used),
      resourceCapacity: Number(r.resource_capacity),
      resourceHeld: Number(r.resource_used),
    }),
    pricingModel: r.pricing_model,
    prices: r.prices,
    normalizedPrice:
      r.normalized_unit && r.normalized_price
        ? { unit: r.normalized_unit, price: new Decimal(r.normalized_price).toString() }
        : null,
    minHours: r.min_hours,
    maxHours: r.max_hours,
    acceptsUnsigned: r.accepts_unsigned,
    availableFrom: r.available_from?.toISOString() ?? null,
    availableUntil: r.available_until?.toISOString() ?? null,
    sla: r.sla ? { ...r.sla, isDefault: false } : { ...DEFAULT_SLA, isDefault: true },
    createdAt: r.created_at.toISOString(),
    credibility:
      r.score === null || r.confidence === null
        ? null
        : { score: r.score, confidence: r.confidence },
  };
}

@Injectable()
export class OffersService implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: RegistryService,
    private readonly clock: Clock,
    private readonly bids: BidScheduler,
  ) {}

  async create(orgId: string, req: CreateOfferRequest): Promise<OfferView> {
    if (req.minHours > req.maxHours) {
      throw new DomainError('validation_failed', 'minHours may not exceed maxHours', 400, {
        field: 'minHours',
      });
    }
    const availableFrom = req.availableFrom ? new Date(req.availableFrom) : null;
    const availableUntil = req.availableUntil ? new Date(req.availableUntil) : null;
    checkWindow(
      { from: availableFrom, until: availableUntil, minHours: req.minHours },
      this.clock.now(),
      true,
    );
    const prices = storedPrices(req.pricingModel, req.prices);
    const sla = storedSla(req.sla);
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
      checkWithinResource(req.capacity, r);
      if (r.state === 'connected') await this.registry.transition(m, r, 'schedulable');
      const o = await m.getRepository(OfferEntity).save({
        resourceId: r.id,
        sellerOrgId: orgId,
        title: req.title,
        currency: req.currency,
        capacity: req.capacity,
        pricingModel: req.pricingModel,
        prices,
        minHours: req.minHours,
        maxHours: req.maxHours,
        acceptsUnsigned: req.acceptsUnsigned,
        availableFrom,
        availableUntil,
        sla,
        status: 'active' as const,
        ...normalizedColumns(prices, r),
      });
      return o.id;
    });
    return this.get(offerId);
  }

  /**
   * The public catalog: filters, three sorts and keyset (cursor) pagination with the offer id
   * as the tiebreak, so pages never skip or repeat an offer.
   */
  /** The catalog's page query (the benchmark runs its SQL bare, beside the API). */
  catalogQuery(q: OfferSearch): SelectQueryBuilder<OfferEntity> {
    const qb = this.db
      .getRepository(OfferEntity)
      .createQueryBuilder('o')
      .innerJoin(ResourceEntity, 'r', 'r.id = o.resource_id')
      .select('o.id', 'id')
      .where(`o.status = 'active'`)
      // Offers whose availability window has closed are not listed.
      .andWhere('(o.available_until IS NULL OR o.available_until > :now)', {
        now: this.clock.now(),
      })
      .limit(q.limit + 1);
    if (q.class) qb.andWhere('r.class = :cls', { cls: q.class });
    if (q.form) qb.andWhere('r.form = :form', { form: q.form });
    if (q.currency) qb.andWhere('o.currency = :cur', { cur: q.currency });
    if (q.region) {
      const [country, subdivision] = q.region.toUpperCase().split('-');
      qb.andWhere('r.country = :country', { country });
      if (subdivision) qb.andWhere('r.subdivision = :sub', { sub: subdivision });
    }
    if (q.accelerator) qb.andWhere('r.accel_model = :acc', { acc: q.accelerator });
    if (q.minAccelerators !== undefined)
      qb.andWhere('r.accel_count >= :minAcc', {
        minAcc: q.minAccelerators,
      });
    if (q.minPrice !== undefined)
      qb.andWhere('o.normalized_price >= :minPrice', { minPrice: q.minPrice });
    if (q.maxPrice !== undefined)
      qb.andWhere('o.normalized_price <= :maxPrice', { maxPrice: q.maxPrice });
    // Available now: a free slot on an online resource (docs/decisions.md, "Live status in the
    // market").
    if (q.availableNow === 'true')
      qb.andWhere(
        `o.capacity > ${OFFER_SLOTS_HELD_SQL}
         AND r.capacity_slots > ${RESOURCE_SLOTS_HELD_SQL}
         AND (o.available_from IS NULL OR o.available_from <= :now)
         AND ${onlineSql('r', ':onlineSince')}`,
        { onlineSince: new Date(this.clock.now().getTime() - ONLINE_WINDOW_MS) },
      );
    if (q.minCredibility !== undefined)
      qb.andWhere(
        `EXISTS (SELECT 1 FROM credibility_scores cs WHERE cs.subject_type = 'resource' AND cs.subject_id = r.id AND cs.score >= :minCred)`,
        { minCred: q.minCredibility },
      );
    if (q.q)
      qb.andWhere('(o.title ILIKE :q OR r.cri ILIKE :q OR r.name ILIKE :q)', {
        q: `%${q.q.replace(/[%_\\]/g, '\\$&')}%`,
      });

    // Keyset pagination on indexed columns (offers(status, created_at, id) and
    // offers(status, normalized_price, id)); offers without a normalized price sort last.
    if (q.sort === 'newest') {
      qb.addSelect('o.created_at::text', 'sort_key');
      if (q.cursor) {
        const c = decodeCursor(q.cursor, q.sort);
        qb.andWhere('(o.created_at, o.id) < (CAST(:ck AS timestamptz), CAST(:cid AS uuid))', {
          ck: c.key,
          cid: c.id,
        });
      }
      qb.orderBy('o.created_at', 'DESC').addOrderBy('o.id', 'DESC');
    } else if (q.sort === 'price') {
      qb.addSelect(`COALESCE(o.normalized_price::text, '')`, 'sort_key');
      if (q.cursor) {
        const c = decodeCursor(q.cursor, q.sort);
        if (c.key === '') {
          qb.andWhere('o.normalized_price IS NULL AND o.id > CAST(:cid AS uuid)', { cid: c.id });
        } else {
          qb.andWhere(
            `((o.normalized_price, o.id) > (CAST(:ck AS numeric), CAST(:cid AS uuid))
              OR o.normalized_price IS NULL)`,
            { ck: c.key, cid: c.id },
          );
        }
      }
      qb.orderBy('o.normalized_price', 'ASC', 'NULLS LAST').addOrderBy('o.id', 'ASC');
    } else {
      const score = `COALESCE((SELECT cs.score FROM credibility_scores cs WHERE cs.subject_type = 'resource' AND cs.subject_id = r.id), -1)`;
      qb.addSelect(`(${score})::text`, 'sort_key');
      if (q.cursor) {
        const c = decodeCursor(q.cursor, q.sort);
        qb.andWhere(`((${score})::numeric, o.id) < (CAST(:ck AS numeric), CAST(:cid AS uuid))`, {
          ck: c.key,
          cid: c.id,
        });
      }
      qb.orderBy(score, 'DESC').addOrderBy('o.id', 'DESC');
    }
    return qb;
  }

  /**
   * The catalog page as ONE statement: the keyset page of offer ids (`catalogQuery`), joined to
   * every column its offer views need (resource, seller, slots in use, credibility). The
   * benchmark runs this SQL bare beside the API.
   */
  catalogSql(q: OfferSearch): [string, unknown[]] {
    const [page, params] = this.catalogQuery(q).getQueryAndParameters();
    const sql = `
      WITH page AS (SELECT p.*, row_number() OVER () AS ord FROM (${page}) p)
      SELECT p.ord, p.sort_key::text AS sort_key, o.id, o.title, o.status, o.seller_org_id,
             o.resource_id, o.currency, o.capacity, o.pricing_model, o.prices, o.normalized_unit,
             o.normalized_price::text AS normalized_price, o.min_hours, o.max_hours,
             o.accepts_unsigned, o.available_from, o.available_until, o.sla, o.created_at,
             r.handle, r.cri, r.name AS resource_name, r.class, r.form, r.country, r.subdivision,
             r.site, r.spec, r.last_heartbeat_at, r.reported_status, s.name AS seller_name,
             cs.score, cs.confidence,
             r.capacity_slots AS resource_capacity,
             ${OFFER_SLOTS_HELD_SQL} AS used, ${RESOURCE_SLOTS_HELD_SQL} AS resource_used
        FROM page p
        JOIN offers o ON o.id = p.id
        JOIN resources r ON r.id = o.resource_id
        LEFT JOIN organizations s ON s.id = o.seller_org_id
        LEFT JOIN credibility_scores cs ON cs.subject_type = 'resource' AND cs.subject_id = r.id
       ORDER BY p.ord`;
    return [sql, params];
  }

  async search(q: OfferSearch): Promise<Page<OfferView>> {
    const [sql, params] = this.catalogSql(q);
    const rows: CatalogRow[] = await this.db.query(sql, params);
    const page = rows.slice(0, q.limit);
    const last = page.length === q.limit && rows.length > q.limit ? page.length - 1 : -1;
    const nextCursor =
      last >= 0
        ? encodeCursor({ sort: q.sort, key: page[last].sort_key ?? '', id: page[last].id })
        : null;
    const now = this.clock.now();
    return { items: page.map((r) => catalogView(r, now)), nextCursor };
  }

  async update(orgId: string, id: string, req: UpdateOfferRequest): Promise<OfferView> {
    await this.db.transaction(async (m) => {
      const o = await this.ownOffer(m, orgId, id);
      if (o.status === 'closed') throw invalidState('the offer is closed', { status: o.status });
      const now = this.clock.now();
      const minHours = req.minHours ?? o.minHours;
      const maxHours = req.maxHours ?? o.maxHours;
      if (minHours > maxHours) {
        throw new DomainError('validation_failed', 'minHours may not exceed maxHours', 400, {
          field: 'minHours',
        });
      }
      const window = {
        from:
          req.availableFrom === undefined
            ? o.availableFrom
            : req.availableFrom === null
              ? null
              : new Date(req.availableFrom),
        until:
          req.availableUntil === undefined
            ? o.availableUntil
            : req.availableUntil === null
              ? null
              : new Date(req.availableUntil),
        minHours,
      };
      if (
        req.availableFrom !== undefined ||
        req.availableUntil !== undefined ||
        req.minHours !== undefined
      ) {
        checkWindow(window, now, req.availableFrom !== undefined && req.availableFrom !== null);
      }
      const model = req.pricingModel ?? o.pricingModel;
      if (req.prices !== undefined && req.pricingModel === undefined) {
        checkPricesFor(model, req.prices);
      }
      const interruptible = o.pricingModel === 'interruptible' || model === 'interruptible';
      if (model !== o.pricingModel) {
        const used = (await offerSlotsHeld(m, [o.id], true)).get(o.id) ?? 0;
        if (used > 0 && interruptible) {
          throw invalid('pricingModel', 'an offer with open leases cannot switch to or from bids', {
            openSlots: used,
          });
        }
      }
      if (req.capacity !== undefined) {
        // The resource's lock (after the offer's, as orders take them) keeps its capacity still.
        const r = await m
          .getRepository(ResourceEntity)
          .findOneOrFail({ where: { id: o.resourceId }, lock: { mode: 'pessimistic_write' } });
        checkWithinResource(req.capacity, r);
      }
      if (req.capacity !== undefined && model !== 'interruptible') {
        const used = (await offerSlotsHeld(m, [o.id])).get(o.id) ?? 0;
        if (req.capacity < used) {
          throw new DomainError(
            'validation_failed',
            `capacity may not go below the ${used} slots leased now`,
            400,
            { field: 'capacity', inUse: used },
          );
        }
      }
      // Running leases keep the prices pinned at order time; new prices apply to new orders.
      if (req.title !== undefined) o.title = req.title;
      if (req.capacity !== undefined) o.capacity = req.capacity;
      if (req.acceptsUnsigned !== undefined) o.acceptsUnsigned = req.acceptsUnsigned;
      if (req.prices !== undefined) {
        o.pricingModel = model;
        o.prices = storedPrices(model, req.prices);
      }
      if (req.sla !== undefined) o.sla = storedSla(req.sla);
      Object.assign(o, {
        minHours,
        maxHours,
        availableFrom: window.from,
        availableUntil: window.until,
      });
      await this.withNormalizedPrice(m, o);
      await m.getRepository(OfferEntity).save(o);
      // Interruptible: a smaller capacity pauses the lowest bids, a larger one resumes them.
      if (o.pricingModel === 'interruptible' && req.capacity !== undefined) {
        await this.bids.reschedule(m, o, now, { kind: 'capacity_changed', capacity: o.capacity });
      }
    });
    return this.get(id);
  }

  async setStatus(
    orgId: string,
    id: string,
    action: 'pause' | 'resume' | 'close',
  ): Promise<OfferView> {
    await this.db.transaction(async (m) => {
      const o = await this.ownOffer(m, orgId, id);
      const next = { pause: 'paused', resume: 'active', close: 'closed' } as const;
      const allowed: Record<typeof action, OfferEntity['status'][]> = {
        pause: ['active'],
        resume: ['paused'],
        close: ['active', 'paused'],
      };
      if (!allowed[action].includes(o.status)) {
        throw invalidState(`an offer that is ${o.status} cannot ${action}`, { status: o.status });
      }
      o.status = next[action];
      await m.getRepository(OfferEntity).save(o);
    });
    return this.get(id);
  }

  /** Fills in normalized prices stored before the column existed (or after a catalog change). */
  async onApplicationBootstrap(): Promise<void> {
    const stale = await this.db
      .getRepository(OfferEntity)
      .find({ where: { normalizedUnit: IsNull() }, take: 10_000 });
    for (const o of stale) {
      await this.withNormalizedPrice(this.db.manager, o);
      if (o.normalizedUnit !== null) await this.db.getRepository(OfferEntity).save(o);
    }
  }

  private async ownOffer(m: EntityManager, orgId: string, id: string): Promise<OfferEntity> {
    const o = await m
      .getRepository(OfferEntity)
      .findOne({ where: { id, sellerOrgId: orgId }, lock: { mode: 'pessimistic_write' } });
    if (!o) throw notFound('offer');
    return o;
  }

  private async withNormalizedPrice(m: EntityManager, o: OfferEntity): Promise<void> {
    const r = await m.getRepository(ResourceEntity).findOneByOrFail({ id: o.resourceId });
    Object.assign(o, normalizedColumns(o.prices, r));
  }

  /** The seller's own offers, every status, newest first. */
  async listOwn(orgId: string): Promise<OfferView[]> {
    const own = await this.db
      .getRepository(OfferEntity)
      .find({ where: { sellerOrgId: orgId }, order: { createdAt: 'DESC' }, take: 500 });
    return this.views(own);
  }

  async get(id: string): Promise<OfferView> {
    const o = await this.db.getRepository(OfferEntity).findOneBy({ id });
    if (!o) throw notFound('offer');
    return (await this.views([o]))[0];
  }

  async views(offers: OfferEntity[]): Promise<OfferView[]> {
    if (offers.length === 0) return [];
    const resourceIds = [...new Set(offers.map((o) => o.resourceId))];
    // Independent lookups: run them at once rather than one round trip after another.
    const [resources, sellers, used, resourceUsed, credByResource] = await Promise.all([
      this.db.getRepository(ResourceEntity).findBy({ id: In(resourceIds) }),
      this.db
        .getRepository(OrganizationEntity)
        .findBy({ id: In([...new Set(offers.map((o) => o.sellerOrgId))]) }),
      offerSlotsHeld(
        this.db.manager,
        offers.map((o) => o.id),
      ),
      resourceSlotsHeld(this.db.manager, resourceIds),
      resourceScores(this.db.manager, resourceIds),
    ]);
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
          live: { status: v.liveStatus, lastHeartbeatAt: v.lastHeartbeatAt },
        },
        seller: { id: o.sellerOrgId, name: sById.get(o.sellerOrgId)?.name ?? '' },
        currency: o.currency,
        capacity: o.capacity,
        available: freeSlots({
          offerCapacity: o.capacity,
          offerHeld: used.get(o.id) ?? 0,
          resourceCapacity: r.capacitySlots,
          resourceHeld: resourceUsed.get(o.resourceId) ?? 0,
        }),
        pricingModel: o.pricingModel,
        prices: o.prices,
        // Stored with the offer (see normalizedColumns); computed only when it was not stored.
        normalizedPrice:
          o.normalizedUnit && o.normalizedPrice
            ? { unit: o.normalizedUnit, price: new Decimal(o.normalizedPrice).toString() }
            : normalizedPrice(o.prices, {
                class: r.computeClass,
                spec: r.spec,
                catalog: CURRENT_CATALOG,
              }),
        minHours: o.minHours,
        maxHours: o.maxHours,
        acceptsUnsigned: o.acceptsUnsigned,
        availableFrom: o.availableFrom?.toISOString() ?? null,
        availableUntil: o.availableUntil?.toISOString() ?? null,
        sla: o.sla ? { ...o.sla, isDefault: false } : { ...DEFAULT_SLA, isDefault: true },
        createdAt: o.createdAt.toISOString(),
        credibility: credByResource.get(o.resourceId) ?? null,
      };
    });
  }
}
