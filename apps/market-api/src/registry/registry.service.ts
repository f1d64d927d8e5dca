import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import type {
  LifecycleState,
  RegisterResourceInput,
  ResolutionView,
  ResourceDetailView,
  ResourceSearchPage,
  ResourceSearchQuery,
  ResourceSpec,
  UpdateResourceInput,
} from '@suanli/contracts';
import {
  CriError,
  formatCri,
  parseCri,
  parseHandle,
  parseRegistrant,
  serialFromNumber,
  type Registrant,
} from '@suanli/cri';
import { isAcceleratorModel } from '@suanli/units';
import { Clock } from '../common/clock.js';
import { DomainError, invalidState, notFound } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';
import { OrganizationEntity } from '../database/accounts.entities.js';
import { LeaseEntity, OfferEntity } from '../database/market.entities.js';
import {
  RegistrantEntity,
  ResourceEntity,
  ResourceRevisionEntity,
} from '../database/registry.entities.js';
import { BidScheduler } from '../leases/bid-scheduler.service.js';
import { resourceSlotsHeld } from '../leases/capacity.js';
import { LeaseEndings } from '../leases/lease-endings.service.js';
import { EnrolledAgents } from './enrolled-agents.js';
import { assertTransition, liveStatus } from './lifecycle.js';
import { buildResourceSearch, encodeCursor, resourceFromRow } from './resource-search.js';

type Location = { country: string; subdivision: string; site: string };

const OPEN_LEASES = ['pending', 'provisioning', 'active', 'suspended'] as const;
/**
 * A resource's capacity may not drop below the slots its leases hold now, nor below what one of
 * its open offers sells (lower the offer first: that path pauses bids as it should). The caller
 * holds the resource's row lock, which orders and offer edits take too.
 */
async function checkCapacityCut(m: EntityManager, resourceId: string, capacity: number) {
  const held = (await resourceSlotsHeld(m, [resourceId])).get(resourceId) ?? 0;
  if (capacity < held) {
    throw new DomainError(
      'validation_failed',
      `capacity may not go below the ${held} slots leased now`,
      400,
      { field: 'capacity', inUse: held },
    );
  }
  const offers = await m.getRepository(OfferEntity).find({
    where: { resourceId, status: In(['active', 'paused']) },
    select: { id: true, capacity: true },
  });
  const over = offers.filter((o) => o.capacity > capacity).map((o) => o.id);
  if (over.length > 0) {
    throw new DomainError(
      'validation_failed',
      `capacity may not go below what an open offer sells: lower the offer(s) first`,
      400,
      { field: 'capacity', offers: over },
    );
  }
}

const ENDPOINT_KIND = {
  BM: 'ssh',
  VM: 'ssh',
  CTR: 'container',
  API: 'https',
  JOB: 'batch-queue',
} as const;

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** Facts the code depends on beyond what the request says: a real country, a catalog model. */
function checkFacts(location: Location | undefined, spec: ResourceSpec | undefined): void {
  const issues: { path: string; message: string }[] = [];
  if (location && regionNames.of(location.country) === location.country) {
    issues.push({
      path: 'location.country',
      message: `${location.country} is not an assigned ISO 3166-1 alpha-2 country code`,
    });
  }
  if (spec?.accel && !isAcceleratorModel(spec.accel.model)) {
    issues.push({
      path: 'spec.accel.model',
      message: `${spec.accel.model} is not an accelerator model of the unit catalog`,
    });
  }
  if (issues.length) {
    throw new DomainError('validation_failed', 'the request is not valid', 400, { issues });
  }
}

function criFailure(err: unknown): never {
  if (err instanceof CriError) {
    throw new DomainError('invalid_cri', err.message, 400, {
      segment: err.segment,
      reason: err.reason,
      ...(err.expected ? { expected: err.expected } : {}),
    });
  }
  throw err;
}

function searchColumns(spec: ResourceSpec) {
  return {
    cpu: spec.cpu ?? null,
    memGiB: spec.memGiB ?? null,
    accelModel: spec.accel?.model ?? null,
    accelCount: spec.accel?.count ?? null,
  };
}

@Injectable()
export class RegistryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly bids: BidScheduler,
    private readonly agents: EnrolledAgents,
    private readonly endings: LeaseEndings,
  ) {}

  /**
   * Assigns the next serial under the owner's registrant code and computes the CRI. Without an
   * Idempotency-Key (`keyed` false), the same facts as a live resource of the owner are a 409.
   */
  async register(
    orgId: string,
    req: RegisterResourceInput,
    opts: { keyed: boolean } = { keyed: false },
  ): Promise<ResourceDetailView> {
    checkFacts(req.location, req.spec);
    const resource = await this.db.transaction(async (m) => {
      const reg = await m
        .getRepository(RegistrantEntity)
        .findOne({ where: { orgId }, lock: { mode: 'pessimistic_write' } });
      if (!reg)
        throw new DomainError(
          'forbidden',
          'the organization has no registrant code (not a seller)',
          403,
        );
      if (!opts.keyed) {
        const dup = await m
          .getRepository(ResourceEntity)
          .createQueryBuilder('r')
          .where('r.owner_org_id = :orgId', { orgId })
          .andWhere("r.state <> 'retired'")
          .andWhere('r.name = :name', { name: req.name })
          .andWhere('r.class = :cls AND r.form = :form', { cls: req.class, form: req.form })
          .andWhere('r.country = :c AND r.subdivision = :s AND r.site = :site', {
            c: req.location.country,
            s: req.location.subdivision,
            site: req.location.site,
          })
          .andWhere('r.spec = CAST(:spec AS jsonb)', { spec: JSON.stringify(req.spec) })
          .andWhere('r.capacity_slots = :cap', { cap: req.capacity })
          .getOne();
        if (dup) {
          throw new DomainError(
            'conflict',
            'the organization already registered a resource with these facts; send an Idempotency-Key to register another one',
            409,
            { reason: 'duplicate_resource', existing: { id: dup.id, cri: dup.cri } },
          );
        }
      }
      const org = await m.getRepository(OrganizationEntity).findOneByOrFail({ id: orgId });
      const serial = serialFromNumber(reg.nextSerial);
      const cri = this.code(
        parseRegistrant(reg.code),
        org.industry,
        req,
        req.location,
        req.spec,
        serial,
      );
      reg.nextSerial += 1;
      await m.save(reg);
      const saved = await m.getRepository(ResourceEntity).save({
        handle: `${reg.code}/${serial}`,
        cri,
        name: req.name,
        ownerOrgId: orgId,
        registrant: reg.code,
        serial,
        industry: org.industry,
        computeClass: req.class,
        form: req.form,
        country: req.location.country,
        subdivision: req.location.subdivision,
        site: req.location.site,
        spec: req.spec,
        ...searchColumns(req.spec),
        capacitySlots: req.capacity,
        revision: 1,
        cpuModel: req.cpuModel ?? null,
        state: 'prepared' as LifecycleState,
        lastHeartbeatAt: null,
        reportedStatus: null,
        retiredAt: null,
      });
      await this.recordRevision(m, saved);
      return saved;
    });
    return this.view(resource);
  }

  private code(
    registrant: Registrant,
    industry: string,
    kind: { class: ResourceEntity['computeClass']; form: ResourceEntity['form'] },
    location: Location,
    spec: ResourceSpec,
    serial: string,
  ): string {
    try {
      return formatCri({
        registrant,
        industry,
        location,
        class: kind.class,
        form: kind.form,
        spec,
        serial,
      });
    } catch (err) {
      if (err instanceof CriError) {
        throw new DomainError('validation_failed', err.message, 400, { segment: err.segment });
      }
      throw err;
    }
  }

  private async recordRevision(m: EntityManager, r: ResourceEntity): Promise<void> {
    await m.getRepository(ResourceRevisionEntity).insert({
      resourceId: r.id,
      revision: r.revision,
      cri: r.cri,
      facts: {
        industry: r.industry,
        class: r.computeClass,
        form: r.form,
        location: { country: r.country, subdivision: r.subdivision, site: r.site },
        spec: r.spec,
      },
      createdAt: this.clock.now(),
      supersededAt: null,
    });
  }

  /**
   * Changes a resource. A new location or spec changes the code: a new revision with a new CRI
   * for the same handle; the old CRI stays resolvable as superseded.
   */
  async update(orgId: string, id: string, u: UpdateResourceInput): Promise<ResourceDetailView> {
    checkFacts(u.location, u.spec);
    let grew = false;
    const r = await this.db.transaction(async (m) => {
      const r = await m.getRepository(ResourceEntity).findOne({
        where: { id, ownerOrgId: orgId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!r) throw notFound('resource');
      if (r.state === 'retired') {
        throw invalidState('the resource is retired: it cannot change', { state: r.state });
      }
      const location = u.location ?? {
        country: r.country,
        subdivision: r.subdivision,
        site: r.site,
      };
      const spec = u.spec ?? r.spec;
      const cri = this.code(
        parseRegistrant(r.registrant),
        r.industry,
        { class: r.computeClass, form: r.form },
        location,
        spec,
        r.serial,
      );
      if (u.name !== undefined) r.name = u.name;
      if (u.cpuModel !== undefined) r.cpuModel = u.cpuModel;
      if (u.capacity !== undefined && u.capacity < r.capacitySlots) {
        await checkCapacityCut(m, r.id, u.capacity);
      }
      grew = u.capacity !== undefined && u.capacity > r.capacitySlots;
      if (u.capacity !== undefined) r.capacitySlots = u.capacity;
      if (cri !== r.cri) {
        const now = this.clock.now();
        await m
          .getRepository(ResourceRevisionEntity)
          .update({ resourceId: r.id, revision: r.revision }, { supersededAt: now });
        r.cri = cri;
        r.revision += 1;
        r.country = location.country;
        r.subdivision = location.subdivision;
        r.site = location.site;
        r.spec = spec;
        Object.assign(r, searchColumns(spec));
        await this.recordRevision(m, r);
      }
      return m.getRepository(ResourceEntity).save(r);
    });
    // More room may let paused bids of its interruptible offers run again.
    if (grew) {
      await this.bids.rescheduleResource(this.db, r.id, this.clock.now(), {
        kind: 'capacity_changed',
        capacity: r.capacitySlots,
      });
    }
    return this.view(r);
  }

  /**
   * Retires a resource: no new offers or orders, its handle reserved for ever. Its open leases
   * end as `resource_retired` (settlement then invoices them up to now, with their SLA credit).
   */
  async retire(orgId: string, id: string): Promise<ResourceDetailView> {
    const r = await this.db.transaction(async (m) => {
      const owned = await m.getRepository(ResourceEntity).findOneBy({ id, ownerOrgId: orgId });
      if (!owned) throw notFound('resource');
      // Offers, then leases, then the resource: the order orders and cancellations lock them in.
      const offers = await m.getRepository(OfferEntity).find({
        where: { resourceId: id },
        order: { id: 'ASC' },
        lock: { mode: 'pessimistic_write' },
      });
      const leases = await m.getRepository(LeaseEntity).find({
        where: { resourceId: id, state: In([...OPEN_LEASES]) },
        order: { id: 'ASC' },
        lock: { mode: 'pessimistic_write' },
      });
      const r = await m
        .getRepository(ResourceEntity)
        .findOneOrFail({ where: { id }, lock: { mode: 'pessimistic_write' } });
      assertTransition(r.state, 'retired');
      const now = this.clock.now();
      const offerById = new Map(offers.map((o) => [o.id, o]));
      for (const lease of leases) {
        await this.endings.end(
          m,
          lease,
          offerById.get(lease.offerId) ?? null,
          'resource_retired',
          now,
        );
      }
      await m
        .getRepository(OfferEntity)
        .update({ resourceId: r.id, status: In(['active', 'paused']) }, { status: 'closed' });
      r.state = 'retired';
      r.retiredAt = now;
      return m.getRepository(ResourceEntity).save(r);
    });
    return this.view(r);
  }

  /** An explicit lifecycle transition by the owner; 409 naming the current state otherwise. */
  async moveTo(orgId: string, id: string, to: LifecycleState): Promise<ResourceDetailView> {
    if (to === 'retired') return this.retire(orgId, id);
    const r = await this.db.transaction(async (m) => {
      const r = await m.getRepository(ResourceEntity).findOne({
        where: { id, ownerOrgId: orgId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!r) throw notFound('resource');
      assertTransition(r.state, to);
      if (to === 'connected' && r.state === 'prepared') {
        if ((await this.agents.countOn(m, r.id)) === 0) {
          throw invalidState('the resource is prepared: no agent is enrolled to connect it', {
            state: r.state,
          });
        }
      }
      if (to === 'running') {
        const active = await m
          .getRepository(LeaseEntity)
          .countBy({ resourceId: r.id, state: 'active' });
        if (active === 0) {
          throw invalidState(`the resource is ${r.state}: running needs an active lease`, {
            state: r.state,
          });
        }
      }
      if (to === 'connected' && r.state === 'schedulable') {
        // Delisting: no longer sellable, so its active offers pause (they can be resumed later).
        await m
          .getRepository(OfferEntity)
          .update({ resourceId: r.id, status: 'active' }, { status: 'paused' });
      }
      await this.transition(m, r, to);
      return r;
    });
    return this.view(r);
  }

  listOwn(orgId: string): Promise<ResourceDetailView[]> {
    return this.db
      .getRepository(ResourceEntity)
      .find({ where: { ownerOrgId: orgId }, order: { createdAt: 'ASC', id: 'ASC' } })
      .then((rs) => rs.map((r) => this.view(r)));
  }

  async getOwn(orgId: string, id: string): Promise<ResourceEntity> {
    const r = await this.db.getRepository(ResourceEntity).findOneBy({ id, ownerOrgId: orgId });
    if (!r) throw notFound('resource');
    return r;
  }

  /** Public search over the registry: one SQL statement, keyset pagination. */
  async search(q: ResourceSearchQuery): Promise<ResourceSearchPage> {
    const { sql, params } = buildResourceSearch(q, this.clock.now());
    const rows: Record<string, unknown>[] = await this.db.query(sql, params);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => this.view(resourceFromRow(row))),
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor({ t: String(last.cursor_ts), i: String(last.id) })
          : null,
    };
  }

  /**
   * The identifier gateway: a full CRI (current or superseded) or a handle. Malformed → 400
   * naming the segment; another platform's prefix → 404 naming the authority; unknown → 404.
   */
  async resolve(code: string): Promise<ResolutionView> {
    const asHandle = !code.startsWith('CRI') && code.includes('/');
    let registrant: Registrant;
    try {
      registrant = asHandle ? parseHandle(code).registrant : parseCri(code).registrant;
    } catch (err) {
      criFailure(err);
    }
    const prefix = `${registrant.root}.${registrant.platform}`;
    if (prefix !== this.config.platformCode) {
      throw new DomainError(
        'not_found',
        `${prefix} is another platform's prefix: resolve the code there`,
        404,
        { code, authority: prefix, platform: this.config.platformCode, forwarded: false },
      );
    }
    const repo = this.db.getRepository(ResourceEntity);
    if (asHandle) {
      const r = await repo.findOneBy({ handle: code });
      if (!r) throw notFound('compute resource', { code });
      return this.resolution(r, null);
    }
    const current = await repo.findOneBy({ cri: code });
    if (current) return this.resolution(current, null);
    const old = await this.db
      .getRepository(ResourceRevisionEntity)
      .findOne({ where: { cri: code }, order: { revision: 'DESC' } });
    const r = old ? await repo.findOneBy({ id: old.resourceId }) : null;
    if (!old || !r) throw notFound('compute resource', { code });
    return this.resolution(r, old);
  }

  private resolution(r: ResourceEntity, old: ResourceRevisionEntity | null): ResolutionView {
    const v = this.view(r);
    return {
      ...v,
      resolved: old
        ? {
            cri: old.cri,
            revision: old.revision,
            current: false,
            supersededAt: old.supersededAt?.toISOString() ?? null,
          }
        : { cri: r.cri, revision: r.revision, current: true, supersededAt: null },
      lifecycle: r.state,
      live: { status: v.liveStatus, lastHeartbeatAt: v.lastHeartbeatAt },
      accessPath: {
        region: `${r.country}-${r.subdivision}`,
        site: r.site,
        endpointKind: ENDPOINT_KIND[r.form],
        gateway: `/v1/cri/${encodeURIComponent(r.handle)}`,
      },
    };
  }

  /**
   * The resource `id` (of `ownerOrgId` when given), locked for the caller's transaction; a
   * retired one is refused. Agents enrol on and report for resources through this.
   */
  async lockLive(m: EntityManager, id: string, ownerOrgId?: string): Promise<ResourceEntity> {
    const r = await m.getRepository(ResourceEntity).findOne({
      where: ownerOrgId === undefined ? { id } : { id, ownerOrgId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!r) throw notFound('resource');
    if (r.state === 'retired') throw invalidState('the resource is retired', { state: r.state });
    return r;
  }

  /** The resource, read without a lock (for an authenticated agent's own resource). */
  byId(id: string): Promise<ResourceEntity> {
    return this.db.getRepository(ResourceEntity).findOneByOrFail({ id });
  }

  /** The latest heartbeat sets the resource's live status (the caller holds its lock). */
  async recordReport(
    m: EntityManager,
    r: ResourceEntity,
    at: Date,
    status: ResourceEntity['reportedStatus'] & string,
  ): Promise<void> {
    r.lastHeartbeatAt = at;
    r.reportedStatus = status;
    await m
      .getRepository(ResourceEntity)
      .update({ id: r.id }, { lastHeartbeatAt: at, reportedStatus: status });
  }

  async transition(m: EntityManager, r: ResourceEntity, to: LifecycleState): Promise<void> {
    if (r.state === to) return;
    assertTransition(r.state, to);
    r.state = to;
    await m.getRepository(ResourceEntity).update({ id: r.id }, { state: to });
  }

  /**
   * After one of its leases ended (the caller's transaction): a running resource with no open
   * lease left is schedulable again. Returns the resource, row-locked.
   */
  async afterLeaseEnded(m: EntityManager, resourceId: string): Promise<ResourceEntity | null> {
    const resource = await m
      .getRepository(ResourceEntity)
      .findOne({ where: { id: resourceId }, lock: { mode: 'pessimistic_write' } });
    const stillOpen = await m
      .getRepository(LeaseEntity)
      .countBy({ resourceId, state: In([...OPEN_LEASES]) });
    if (resource && resource.state === 'running' && stillOpen === 0) {
      await this.transition(m, resource, 'schedulable');
    }
    return resource;
  }

  view(r: ResourceEntity): ResourceDetailView {
    return {
      id: r.id,
      handle: r.handle,
      cri: r.cri,
      name: r.name,
      ownerOrgId: r.ownerOrgId,
      registrant: r.registrant,
      industry: r.industry,
      class: r.computeClass,
      form: r.form,
      location: { country: r.country, subdivision: r.subdivision, site: r.site },
      spec: r.spec,
      capacity: r.capacitySlots,
      revision: r.revision,
      state: r.state,
      liveStatus: liveStatus(r.lastHeartbeatAt, this.clock.now(), r.reportedStatus),
      lastHeartbeatAt: r.lastHeartbeatAt?.toISOString() ?? null,
      retiredAt: r.retiredAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  }
}
