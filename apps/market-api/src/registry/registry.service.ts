import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import type {
  AgentView,
  LifecycleState,
  RegisterResourceRequest,
  ResourceView,
} from '@suanli/contracts';
import {
  CriError,
  formatCri,
  isHandle,
  parseCri,
  parseRegistrant,
  serialFromNumber,
} from '@suanli/cri';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { Clock } from '../common/clock.js';
import { DomainError, notFound } from '../common/errors.js';
import {
  AgentEntity,
  LeaseEntity,
  OrganizationEntity,
  RegistrantEntity,
  ResourceEntity,
} from '../database/entities.js';
import { assertTransition, liveStatus } from './lifecycle.js';

export interface AgentLeaseView {
  leaseId: string;
  cri: string;
  class: ResourceEntity['computeClass'];
  spec: ResourceEntity['spec'];
  slots: number;
  startsAt: string;
  endsAt: string;
  catalogVersion: string;
}

@Injectable()
export class RegistryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Assigns the next serial under the owner's registrant code and computes the CRI. */
  async register(orgId: string, req: RegisterResourceRequest): Promise<ResourceView> {
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
      const org = await m.getRepository(OrganizationEntity).findOneByOrFail({ id: orgId });
      const serial = serialFromNumber(reg.nextSerial);
      let cri: string;
      try {
        cri = formatCri({
          registrant: parseRegistrant(reg.code),
          industry: org.industry,
          location: req.location,
          class: req.class,
          form: req.form,
          spec: req.spec,
          serial,
        });
      } catch (err) {
        if (err instanceof CriError) {
          throw new DomainError('validation_failed', err.message, 400, { segment: err.segment });
        }
        throw err;
      }
      reg.nextSerial += 1;
      await m.save(reg);
      return m.getRepository(ResourceEntity).save({
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
        cpuModel: req.cpuModel ?? null,
        state: 'prepared' as LifecycleState,
        lastHeartbeatAt: null,
      });
    });
    return this.view(resource);
  }

  listOwn(orgId: string): Promise<ResourceView[]> {
    return this.db
      .getRepository(ResourceEntity)
      .find({ where: { ownerOrgId: orgId }, order: { createdAt: 'ASC' } })
      .then((rs) => rs.map((r) => this.view(r)));
  }

  async getOwn(orgId: string, id: string): Promise<ResourceEntity> {
    const r = await this.db.getRepository(ResourceEntity).findOneBy({ id, ownerOrgId: orgId });
    if (!r) throw notFound('resource');
    return r;
  }

  /** Resolution by full CRI (current or not) or by handle. Malformed → 400 naming the segment. */
  async resolve(code: string): Promise<ResourceView> {
    const repo = this.db.getRepository(ResourceEntity);
    let found: ResourceEntity | null;
    if (isHandle(code)) {
      found = await repo.findOneBy({ handle: code });
    } else {
      try {
        parseCri(code);
      } catch (err) {
        if (err instanceof CriError) {
          throw new DomainError('invalid_cri', err.message, 400, {
            segment: err.segment,
            ...(err.expected ? { expected: err.expected } : {}),
          });
        }
        throw err;
      }
      found = await repo.findOneBy({ cri: code });
    }
    if (!found) throw notFound('compute resource', { code });
    return this.view(found);
  }

  async enrolAgent(orgId: string, resourceId: string, publicJwk: JWK): Promise<AgentView> {
    return this.db.transaction(async (m) => {
      const r = await m.getRepository(ResourceEntity).findOne({
        where: { id: resourceId, ownerOrgId: orgId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!r) throw notFound('resource');
      if (r.state === 'retired')
        throw new DomainError('invalid_state', 'the resource is retired', 409);
      const n = await m.getRepository(AgentEntity).countBy({ resourceId });
      const id = `${r.handle}#a${n + 1}`;
      const kid = await calculateJwkThumbprint(publicJwk);
      const agent = await m.getRepository(AgentEntity).save({
        id,
        resourceId,
        kid,
        publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, kid },
        lastSeq: null,
        lastHash: null,
        revokedAt: null,
      });
      return {
        id: agent.id,
        resourceId,
        handle: r.handle,
        kid,
        createdAt: agent.createdAt.toISOString(),
      };
    });
  }

  /** What an agent meters: the active leases on its resource. Reporting in marks it connected. */
  async agentLeases(agentId: string, resourceId: string): Promise<AgentLeaseView[]> {
    void agentId;
    const r = await this.db.getRepository(ResourceEntity).findOneByOrFail({ id: resourceId });
    if (r.state === 'prepared') await this.transition(this.db.manager, r, 'connected');
    const leases = await this.db.getRepository(LeaseEntity).find({
      where: { resourceId, state: In(['active']) },
      order: { startsAt: 'ASC' },
    });
    return leases.map((l) => ({
      leaseId: l.id,
      cri: r.cri,
      class: r.computeClass,
      spec: r.spec,
      slots: l.slots,
      startsAt: l.startsAt.toISOString(),
      endsAt: l.endsAt.toISOString(),
      catalogVersion: l.catalogVersion,
    }));
  }

  async transition(m: EntityManager, r: ResourceEntity, to: LifecycleState): Promise<void> {
    if (r.state === to) return;
    assertTransition(r.state, to);
    r.state = to;
    await m.getRepository(ResourceEntity).update({ id: r.id }, { state: to });
  }

  view(r: ResourceEntity): ResourceView {
    return {
      id: r.id,
      handle: r.handle,
      cri: r.cri,
      name: r.name,
      ownerOrgId: r.ownerOrgId,
      class: r.computeClass,
      form: r.form,
      location: { country: r.country, subdivision: r.subdivision, site: r.site },
      spec: r.spec,
      state: r.state,
      liveStatus: liveStatus(r.lastHeartbeatAt, this.clock.now()),
      lastHeartbeatAt: r.lastHeartbeatAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  }
}
