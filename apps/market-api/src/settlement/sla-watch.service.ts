import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LeaseEntity, OfferEntity } from '../database/market.entities.js';
import { ResourceEntity } from '../database/registry.entities.js';
import { LeaseEndings } from '../leases/lease-endings.service.js';
import { DEGRADED_WINDOW_MS, notOfflineSql } from '../registry/lifecycle.js';
import { RegistryService } from '../registry/registry.service.js';
import { withLease } from '../observability/correlation-context.js';
import { SettlementConfig } from './settlement.config.js';
import { offlineBreachAt } from './sla.js';

/** What one watch run did. */
export interface SlaWatchResult {
  /** Leases ended as `sla_breach`. */
  breached: string[];
}

/**
 * The SLA watch (docs/decisions.md, "Live status in the market"): an active lease whose
 * resource has been offline for SLA_OFFLINE_LIMIT_MINUTES ends as `sla_breach` at the moment
 * the limit ran out. Settlement then rates it up to then, releases its hold and issues the
 * final invoice, whose SLA credit (the one path, `slaCredit`) pays the buyer back for the
 * offline minutes. Runs before each settlement tick (`SettlementScheduler`).
 */
@Injectable()
export class SlaWatch {
  private readonly log = new Logger('sla-watch');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: SettlementConfig,
    private readonly endings: LeaseEndings,
    private readonly registry: RegistryService,
  ) {}

  async run(now: Date): Promise<SlaWatchResult> {
    // Candidates: active leases on resources that are offline now (the rule's SQL form).
    const rows: { id: string; offer_id: string }[] = await this.db.query(
      `SELECT l.id, l.offer_id FROM leases l JOIN resources r ON r.id = l.resource_id
        WHERE l.state = 'active' AND l.starts_at <= $1 AND l.ends_at > $1
          AND NOT (r.last_heartbeat_at IS NOT NULL AND ${notOfflineSql('r', '$2')})
        ORDER BY l.id`,
      [now, new Date(now.getTime() - DEGRADED_WINDOW_MS)],
    );
    const breached: string[] = [];
    for (const row of rows) {
      if (await this.endIfBreached(row.id, row.offer_id, now)) breached.push(row.id);
    }
    return { breached };
  }

  /** One lease, in its own transaction, checked again under its locks. */
  private endIfBreached(leaseId: string, offerId: string, now: Date): Promise<boolean> {
    return this.db.transaction(async (m) => {
      // Offer, then lease, then resource: the order orders and cancellations lock them in.
      const offer = await m
        .getRepository(OfferEntity)
        .findOne({ where: { id: offerId }, lock: { mode: 'pessimistic_write' } });
      const lease = await m
        .getRepository(LeaseEntity)
        .findOne({ where: { id: leaseId }, lock: { mode: 'pessimistic_write' } });
      if (!lease || lease.state !== 'active') return false;
      const resource = await m
        .getRepository(ResourceEntity)
        .findOneByOrFail({ id: lease.resourceId });
      const at = offlineBreachAt({
        lastHeartbeatAt: resource.lastHeartbeatAt,
        reported: resource.reportedStatus,
        leaseStart: lease.startsAt,
        now,
        degradedWindowMs: DEGRADED_WINDOW_MS,
        limitMs: this.config.offlineLimitMs,
      });
      if (!at || at.getTime() >= lease.endsAt.getTime()) return false;
      await withLease(lease, async () => {
        await this.endings.end(m, lease, offer, 'sla_breach', at);
        await this.registry.afterLeaseEnded(m, lease.resourceId);
        this.log.log(`lease ${lease.id} ended (sla_breach at ${at.toISOString()})`);
      });
      return true;
    });
  }
}
