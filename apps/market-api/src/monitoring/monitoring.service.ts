import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { Metrics } from '../observability/metrics.js';
import { DEFAULT_SLA } from '../settlement/sla.js';

/** A heartbeat gap longer than this is an incident (the resource was not seen). */
export const TOLERANCE_SECONDS =
  Number(process.env.MONITORING_HEARTBEAT_TOLERANCE_SECONDS ?? '180') || 180;

export type LiveStatus = 'up' | 'degraded' | 'down' | 'unknown';

export interface Incident {
  kind: 'no_heartbeat';
  start: string;
  /** null while it lasts */
  end: string | null;
  minutes: number;
}

export interface ResourceMonitoringView {
  id: string;
  handle: string;
  cri: string;
  name: string;
  sellerOrgId: string;
  state: string;
  live: LiveStatus;
  lastHeartbeatAt: string | null;
  utilization: {
    slotsLeased: number;
    slotsOffered: number;
    /** leased ÷ offered (by its active offers), 0..1 */
    ratio: number;
    /** mean utilization the agents reported over the window, 0..1, or null */
    measured: number | null;
  };
  sla: {
    windowHours: number;
    /** available ÷ observed time over the window, 0..1, or null when never seen */
    attainment: number | null;
    /** the platform's default target, percent */
    target: string;
    met: boolean | null;
    downtimeMinutes: number;
  };
  incidents: Incident[];
}

export interface SellerMonitoringView {
  sellerOrgId: string;
  sellerName: string;
  resources: number;
  live: Record<LiveStatus, number>;
  utilization: { slotsLeased: number; slotsOffered: number; ratio: number };
  /** lowest and mean SLA attainment of its resources */
  sla: { min: number | null; mean: number | null; breaches: number };
  openIncidents: number;
  incidents: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Monitoring of the compute being sold: per resource its live status (heartbeats), utilization
 * (slots leased now against slots offered, and what the agents measure), SLA attainment and
 * incidents (heartbeat gaps) over a window; per seller the same, aggregated. Read-only SQL
 * over the registry, leases and heartbeats. Also exported to Prometheus (suanli_resources,
 * suanli_sla_attainment_ratio, suanli_slot_utilization_ratio).
 */
@Injectable()
export class MonitoringService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @Optional() metrics?: Metrics,
  ) {
    if (metrics) this.register(metrics);
  }

  async resources(
    opts: { sellerOrgId?: string; windowHours?: number } = {},
  ): Promise<ResourceMonitoringView[]> {
    const now = this.clock.now();
    const windowHours = opts.windowHours ?? 24;
    const from = new Date(now.getTime() - windowHours * 3_600_000);
    const resources = await this.db.query<
      {
        id: string;
        handle: string;
        cri: string;
        name: string;
        owner_org_id: string;
        state: string;
        reported_status: string | null;
        capacity_slots: number;
        created_at: Date;
      }[]
    >(
      `SELECT id, handle, cri, name, owner_org_id, state, reported_status, capacity_slots, created_at
         FROM resources
        WHERE state <> 'retired' AND ($1::uuid IS NULL OR owner_org_id = $1)
        ORDER BY owner_org_id, handle`,
      [opts.sellerOrgId ?? null],
    );
    if (resources.length === 0) return [];
    const ids = resources.map((r) => r.id);
    const [offered, leased, heartbeats, gaps] = await Promise.all([
      this.db.query<{ resource_id: string; slots: string }[]>(
        `SELECT resource_id, SUM(capacity)::text AS slots FROM offers
          WHERE resource_id = ANY($1::uuid[]) AND status = 'active' GROUP BY resource_id`,
        [ids],
      ),
      this.db.query<{ resource_id: string; slots: string }[]>(
        `SELECT resource_id, SUM(slots)::text AS slots FROM leases
          WHERE resource_id = ANY($1::uuid[]) AND state IN ('pending', 'active')
            AND starts_at <= $2 AND ends_at > $2
          GROUP BY resource_id`,
        [ids, now],
      ),
      this.db.query<
        {
          resource_id: string;
          first_at: Date;
          last_at: Date;
          last_status: string;
          measured: string | null;
        }[]
      >(
        `SELECT resource_id, MIN(at) AS first_at, MAX(at) AS last_at,
                (ARRAY_AGG(status ORDER BY at DESC))[1] AS last_status,
                AVG(utilization) FILTER (WHERE at > $2)::text AS measured
           FROM resource_heartbeats
          WHERE resource_id = ANY($1::uuid[]) AND status <> 'offline' AND at <= $3
          GROUP BY resource_id`,
        [ids, from, now],
      ),
      this.db.query<{ resource_id: string; start: Date; end: Date }[]>(
        `SELECT resource_id, prev_at AS start, at AS "end" FROM (
           SELECT resource_id, at, LAG(at) OVER (PARTITION BY resource_id ORDER BY at) AS prev_at
             FROM resource_heartbeats
            WHERE resource_id = ANY($1::uuid[]) AND status <> 'offline'
              AND at > $2 AND at <= $3
         ) g
         WHERE prev_at IS NOT NULL AND at - prev_at > make_interval(secs => $4)
         ORDER BY resource_id, prev_at`,
        [ids, new Date(from.getTime() - TOLERANCE_SECONDS * 1000), now, TOLERANCE_SECONDS],
      ),
    ]);
    const leasedOf = new Map(leased.map((l) => [l.resource_id, Number(l.slots)]));
    const offeredOf = new Map(offered.map((o) => [o.resource_id, Number(o.slots)]));
    const hbOf = new Map(heartbeats.map((h) => [h.resource_id, h]));
    return resources.map((r) => {
      const hb = hbOf.get(r.id);
      const incidents: Incident[] = gaps
        .filter((g) => g.resource_id === r.id)
        .map((g) => ({
          kind: 'no_heartbeat' as const,
          start: g.start.toISOString(),
          end: g.end.toISOString(),
          minutes: Math.round((g.end.getTime() - g.start.getTime()) / 60_000),
        }));
      const silentMs = hb ? now.getTime() - hb.last_at.getTime() : Infinity;
      if (hb && silentMs > TOLERANCE_SECONDS * 1000) {
        incidents.push({
          kind: 'no_heartbeat',
          start: hb.last_at.toISOString(),
          end: null,
          minutes: Math.round(silentMs / 60_000),
        });
      }
      let live: LiveStatus = 'unknown';
      if (hb) {
        if (silentMs > TOLERANCE_SECONDS * 1000 || r.reported_status === 'offline') live = 'down';
        else live = hb.last_status === 'degraded' ? 'degraded' : 'up';
      }
      // Availability over the part of the window since the resource was first seen.
      let attainment: number | null = null;
      let downtimeMs = 0;
      if (hb) {
        const observedFrom = Math.max(from.getTime(), hb.first_at.getTime());
        const observed = now.getTime() - observedFrom;
        for (const i of incidents) {
          const s = Math.max(new Date(i.start).getTime(), observedFrom);
          const e = i.end === null ? now.getTime() : new Date(i.end).getTime();
          if (e > s) downtimeMs += e - s;
        }
        attainment = observed > 0 ? round4(Math.max(0, 1 - downtimeMs / observed)) : 1;
      }
      const target = DEFAULT_SLA.target;
      const slotsLeased = leasedOf.get(r.id) ?? 0;
      // What its active offers sell, within the resource's own slot count (all of it when it
      // has no offer): offers draw from the resource's capacity, they do not add to it.
      const slotsOffered = Math.min(offeredOf.get(r.id) ?? r.capacity_slots, r.capacity_slots);
      return {
        id: r.id,
        handle: r.handle,
        cri: r.cri,
        name: r.name,
        sellerOrgId: r.owner_org_id,
        state: r.state,
        live,
        lastHeartbeatAt: hb ? hb.last_at.toISOString() : null,
        utilization: {
          slotsLeased,
          slotsOffered,
          ratio: round4(ratio(slotsLeased, slotsOffered)),
          measured: hb?.measured ? round4(Number(hb.measured)) : null,
        },
        sla: {
          windowHours,
          attainment,
          target,
          met: attainment === null ? null : attainment * 100 >= Number(target),
          downtimeMinutes: Math.round(downtimeMs / 60_000),
        },
        incidents: incidents.filter((i) => i.end === null || new Date(i.end) > from),
      };
    });
  }

  async sellers(opts: { windowHours?: number } = {}): Promise<SellerMonitoringView[]> {
    const list = await this.resources(opts);
    const names = new Map(
      (
        await this.db.query<{ id: string; name: string }[]>(
          'SELECT id, name FROM organizations WHERE id = ANY($1::uuid[])',
          [[...new Set(list.map((r) => r.sellerOrgId))]],
        )
      ).map((o) => [o.id, o.name]),
    );
    const bySeller = new Map<string, ResourceMonitoringView[]>();
    for (const r of list) bySeller.set(r.sellerOrgId, [...(bySeller.get(r.sellerOrgId) ?? []), r]);
    return [...bySeller.entries()].map(([sellerOrgId, rs]) => {
      const live: Record<LiveStatus, number> = { up: 0, degraded: 0, down: 0, unknown: 0 };
      for (const r of rs) live[r.live]++;
      const leased = rs.reduce((a, r) => a + r.utilization.slotsLeased, 0);
      const offered = rs.reduce((a, r) => a + r.utilization.slotsOffered, 0);
      const att = rs.map((r) => r.sla.attainment).filter((x): x is number => x !== null);
      return {
        sellerOrgId,
        sellerName: names.get(sellerOrgId) ?? sellerOrgId,
        resources: rs.length,
        live,
        utilization: {
          slotsLeased: leased,
          slotsOffered: offered,
          ratio: round4(ratio(leased, offered)),
        },
        sla: {
          min: att.length ? Math.min(...att) : null,
          mean: att.length ? round4(att.reduce((a, b) => a + b, 0) / att.length) : null,
          breaches: rs.filter((r) => r.sla.met === false).length,
        },
        openIncidents: rs.reduce((a, r) => a + r.incidents.filter((i) => i.end === null).length, 0),
        incidents: rs.reduce((a, r) => a + r.incidents.length, 0),
      };
    });
  }

  /** Prometheus gauges computed at scrape time (the same on every instance: use max()). */
  private register(metrics: Metrics): void {
    let cached: { at: number; list: Promise<ResourceMonitoringView[]> } | null = null;
    // One computation serves the three gauges of a scrape.
    const current = () => {
      if (!cached || Date.now() - cached.at > 5_000) {
        cached = { at: Date.now(), list: this.resources().catch(() => []) };
      }
      return cached.list;
    };
    new Gauge({
      name: 'suanli_resources',
      help: 'Listed resources by live status (heartbeats).',
      labelNames: ['live'] as const,
      registers: [metrics.registry],
      async collect() {
        const list = await current();
        this.reset();
        for (const s of ['up', 'degraded', 'down', 'unknown'] as const) {
          this.set({ live: s }, list.filter((r) => r.live === s).length);
        }
      },
    });
    new Gauge({
      name: 'suanli_sla_attainment_ratio',
      help: 'Availability of each resource over the last 24 h (0..1).',
      labelNames: ['resource', 'seller'] as const,
      registers: [metrics.registry],
      async collect() {
        const list = await current();
        this.reset();
        for (const r of list) {
          if (r.sla.attainment !== null) {
            this.set({ resource: r.handle, seller: r.sellerOrgId }, r.sla.attainment);
          }
        }
      },
    });
    new Gauge({
      name: 'suanli_slot_utilization_ratio',
      help: 'Slots leased now ÷ slots offered, over all listed resources.',
      registers: [metrics.registry],
      async collect() {
        const list = await current();
        const leased = list.reduce((a, r) => a + r.utilization.slotsLeased, 0);
        const offered = list.reduce((a, r) => a + r.utilization.slotsOffered, 0);
        this.set(ratio(leased, offered));
      },
    });
  }
}
