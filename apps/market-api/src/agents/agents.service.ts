import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import type { AgentView, HeartbeatInput, HeartbeatView } from '@suanli/contracts';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { Clock } from '../common/clock.js';
import { invalidField } from '../common/errors.js';
import { LeaseEntity } from '../database/market.entities.js';
import { EnrolledAgents } from '../registry/enrolled-agents.js';
import { liveStatus } from '../registry/lifecycle.js';
import { RegistryService } from '../registry/registry.service.js';
import type { ResourceEntity } from '../database/registry.entities.js';
import { AgentEntity, ResourceHeartbeatEntity } from './agents.entities.js';

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

/** A heartbeat may be stamped at most this far ahead of the API's clock (clock skew). */
const MAX_HEARTBEAT_SKEW_MS = 5 * 60_000;

/** How many agents a resource has had: what the registry asks before a resource connects. */
@Injectable()
export class AgentDirectory extends EnrolledAgents {
  countOn(m: EntityManager, resourceId: string): Promise<number> {
    return m.getRepository(AgentEntity).countBy({ resourceId });
  }
}

/**
 * Metering agents: enrolment (a key per agent, on a resource of the seller), what an agent
 * meters (its resource's active leases), and its heartbeats. The resource itself stays the
 * registry's: agents lock it, move it to `connected` and set its live status through it.
 */
@Injectable()
export class AgentsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly registry: RegistryService,
  ) {}

  async enrolAgent(orgId: string, resourceId: string, publicJwk: JWK): Promise<AgentView> {
    return this.db.transaction(async (m) => {
      const r = await this.registry.lockLive(m, resourceId, orgId);
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
    const r = await this.registry.byId(resourceId);
    if (r.state === 'prepared') await this.registry.transition(this.db.manager, r, 'connected');
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

  /**
   * An agent's heartbeat: kept as history, and the latest one sets the resource's live status.
   * The first one marks a prepared resource connected. A repeated `at` is ignored.
   */
  async heartbeat(
    agentId: string,
    resourceId: string,
    hb: HeartbeatInput,
  ): Promise<{ resourceId: string; at: string; accepted: boolean; liveStatus: string }> {
    const now = this.clock.now();
    const at = hb.at ? new Date(hb.at) : now;
    if (at.getTime() > now.getTime() + MAX_HEARTBEAT_SKEW_MS) {
      throw invalidField('at', 'is in the future (more than 5 minutes ahead of the exchange)');
    }
    const r = await this.db.transaction(async (m) => {
      const r = await this.registry.lockLive(m, resourceId);
      const inserted = await m
        .createQueryBuilder()
        .insert()
        .into(ResourceHeartbeatEntity)
        .values({
          resourceId,
          at,
          agentId,
          status: hb.status,
          utilization: hb.utilization === undefined ? null : String(hb.utilization),
        })
        .orIgnore()
        .returning(['at'])
        .execute();
      const accepted = (inserted.raw as unknown[]).length > 0;
      if (accepted && (!r.lastHeartbeatAt || r.lastHeartbeatAt.getTime() <= at.getTime())) {
        await this.registry.recordReport(m, r, at, hb.status);
      }
      if (r.state === 'prepared') await this.registry.transition(m, r, 'connected');
      return { r, accepted };
    });
    return {
      resourceId,
      at: at.toISOString(),
      accepted: r.accepted,
      liveStatus: liveStatus(r.r.lastHeartbeatAt, now, r.r.reportedStatus),
    };
  }

  /** The owner's view of a resource's heartbeat history, oldest first. */
  async heartbeats(
    orgId: string,
    id: string,
    range: { from?: string; to?: string; limit: number },
  ): Promise<{ items: HeartbeatView[] }> {
    const r = await this.registry.getOwn(orgId, id);
    const to = range.to ? new Date(range.to) : this.clock.now();
    const from = range.from ? new Date(range.from) : new Date(to.getTime() - 24 * 3600_000);
    if (from.getTime() > to.getTime()) throw invalidField('from', 'must not be after to');
    const rows = await this.db
      .getRepository(ResourceHeartbeatEntity)
      .createQueryBuilder('h')
      .where('h.resource_id = :id', { id: r.id })
      .andWhere('h.at >= :from AND h.at <= :to', { from, to })
      .orderBy('h.at', 'ASC')
      .limit(range.limit)
      .getMany();
    return {
      items: rows.map((h) => ({
        at: h.at.toISOString(),
        agentId: h.agentId,
        status: h.status,
        utilization: h.utilization,
      })),
    };
  }
}
