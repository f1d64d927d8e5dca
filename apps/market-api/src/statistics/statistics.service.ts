import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { MarketStatisticsCell, MarketStatisticsView } from '@suanli/contracts';
import { Decimal, Money } from '@suanli/money';
import { aggregateSnapshots, type MarketAggregate, type MarketSnapshot } from '@suanli/federation';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';
import { TOLERANCE_SECONDS } from '../monitoring/monitoring.service.js';

/** Cells with fewer distinct buyers or sellers than this are suppressed. */
export const K_ANONYMITY = 5;

type Bucket = MarketStatisticsView['bucket'];

const SPAN_DAYS: Record<Bucket, number> = { hour: 2, day: 30, week: 182, month: 730 };

type Row = {
  bucket: Date;
  class: string;
  region: string;
  currency: string;
  buyers: string;
  sellers: string;
  volume: string;
  slot_hours: string;
  slot_amount: string;
};

/**
 * Market statistics from settled debit notes: per time bucket, compute class, region
 * (country-subdivision of the resource) and currency, the gross volume, the slot-hours and the
 * volume-weighted price per slot-hour. A cell where fewer than k = 5 distinct buyers or
 * sellers traded is returned suppressed (no figures), so that no party's trades can be read
 * off an aggregate.
 */
@Injectable()
export class StatisticsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async market(q: {
    from?: string;
    to?: string;
    bucket?: Bucket;
    currency?: string;
    class?: string;
    region?: string;
  }): Promise<MarketStatisticsView> {
    const bucket = q.bucket ?? 'day';
    const to = q.to ? new Date(q.to) : this.clock.now();
    const from = q.from
      ? new Date(q.from)
      : new Date(to.getTime() - SPAN_DAYS[bucket] * 86_400_000);
    if (!(from < to)) {
      throw new DomainError('validation_failed', 'from must be before to', 400, { from, to });
    }
    if (to.getTime() - from.getTime() > 4 * 366 * 86_400_000) {
      throw new DomainError('validation_failed', 'at most four years at once', 400, {});
    }
    const rows: Row[] = await this.db.query(
      `SELECT date_trunc($3, d.period_start) AS bucket, r.class, r.country || '-' || r.subdivision AS region,
              d.currency, count(DISTINCT l.buyer_org_id)::text AS buyers,
              count(DISTINCT l.seller_org_id)::text AS sellers, sum(d.gross)::text AS volume,
              sum(x.q)::text AS slot_hours, sum(x.a)::text AS slot_amount
       FROM debit_notes d
       JOIN leases l ON l.id = d.lease_id
       JOIN resources r ON r.id = l.resource_id
       CROSS JOIN LATERAL (
         SELECT coalesce(sum((line->>'quantity')::numeric), 0) AS q,
                coalesce(sum((line->>'amount')::numeric), 0) AS a
         FROM jsonb_array_elements(d.lines) AS line WHERE line->>'unit' = 'slot_h'
       ) x
       WHERE d.period_start >= $1 AND d.period_start < $2
         AND ($4::text IS NULL OR d.currency = $4)
         AND ($5::text IS NULL OR r.class = $5)
         AND ($6::text IS NULL OR r.country || '-' || r.subdivision = $6)
       GROUP BY 1, 2, 3, 4
       ORDER BY 1, 2, 3, 4`,
      [from, to, bucket, q.currency ?? null, q.class ?? null, q.region ?? null],
    );
    return {
      k: K_ANONYMITY,
      bucket,
      from: from.toISOString(),
      to: to.toISOString(),
      cells: rows.map((r) => cellOf(r)),
    };
  }

  /**
   * This platform's market figures now (docs/federation.md, "5. National monitoring"): resources
   * by class and state; supply by class and region (resources, online now by heartbeat, slots
   * listed by active offers and leased now); traded volume per currency and the price index per
   * standard unit over the last `windowHours`, the traded figures k-anonymous. What the market
   * statistics publish for one platform and what its status report to the national platform says.
   */
  async snapshot(windowHours = 24): Promise<MarketSnapshot> {
    const now = this.clock.now();
    const from = new Date(now.getTime() - windowHours * 3_600_000);
    const onlineSince = new Date(now.getTime() - TOLERANCE_SECONDS * 1000);
    const [resources, supply, volume, listed, traded] = await Promise.all([
      this.db.query<{ class: string; state: string; n: string }[]>(
        `SELECT class, state, count(*)::text AS n FROM resources GROUP BY 1, 2 ORDER BY 1, 2`,
      ),
      this.db.query<
        {
          class: string;
          region: string;
          n: string;
          online: string;
          listed: string;
          leased: string;
        }[]
      >(
        `SELECT r.class, r.country || '-' || r.subdivision AS region, count(*)::text AS n,
                count(*) FILTER (WHERE r.last_heartbeat_at > $1
                                   AND coalesce(r.reported_status, 'online') <> 'offline')::text AS online,
                coalesce(sum(o.slots), 0)::text AS listed, coalesce(sum(l.slots), 0)::text AS leased
           FROM resources r
           LEFT JOIN (SELECT resource_id, sum(capacity) AS slots FROM offers
                       WHERE status = 'active' GROUP BY 1) o ON o.resource_id = r.id
           LEFT JOIN (SELECT resource_id, sum(slots) AS slots FROM leases
                       WHERE state IN ('pending', 'active') AND starts_at <= $2 AND ends_at > $2
                       GROUP BY 1) l ON l.resource_id = r.id
          WHERE r.state <> 'retired'
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [onlineSince, now],
      ),
      this.db.query<{ currency: string; buyers: string; sellers: string; volume: string }[]>(
        `SELECT d.currency, count(DISTINCT l.buyer_org_id)::text AS buyers,
                count(DISTINCT l.seller_org_id)::text AS sellers, sum(d.gross)::text AS volume
           FROM debit_notes d JOIN leases l ON l.id = d.lease_id
          WHERE d.period_start >= $1 AND d.period_start < $2
          GROUP BY 1 ORDER BY 1`,
        [from, now],
      ),
      this.db.query<
        {
          unit: string;
          currency: string;
          n: string;
          cap: string;
          mean: string | null;
          min: string;
          max: string;
        }[]
      >(
        `SELECT normalized_unit AS unit, currency, count(*)::text AS n, sum(capacity)::text AS cap,
                (sum(normalized_price * capacity) / nullif(sum(capacity), 0))::text AS mean,
                min(normalized_price)::text AS min, max(normalized_price)::text AS max
           FROM offers WHERE status = 'active' AND normalized_unit IS NOT NULL
          GROUP BY 1, 2 ORDER BY 1, 2`,
      ),
      this.db.query<
        { unit: string; currency: string; buyers: string; sellers: string; q: string; a: string }[]
      >(
        `SELECT line->>'unit' AS unit, d.currency, count(DISTINCT l.buyer_org_id)::text AS buyers,
                count(DISTINCT l.seller_org_id)::text AS sellers,
                sum((line->>'quantity')::numeric)::text AS q, sum((line->>'amount')::numeric)::text AS a
           FROM debit_notes d JOIN leases l ON l.id = d.lease_id
          CROSS JOIN LATERAL jsonb_array_elements(d.lines) AS line
          WHERE d.period_start >= $1 AND d.period_start < $2 AND line->>'unit' LIKE 'scu.%'
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [from, now],
      ),
    ]);
    const anonymous = (r: { buyers: string; sellers: string }) =>
      Number(r.buyers) >= K_ANONYMITY && Number(r.sellers) >= K_ANONYMITY;
    const index = new Map<string, MarketSnapshot['priceIndex'][number]>();
    const cellOfIndex = (unit: string, currency: string) => {
      const k = `${unit}|${currency.trim()}`;
      const row = index.get(k) ?? {
        unit,
        currency: currency.trim(),
        offers: 0,
        capacity: 0,
        mean: null,
        min: null,
        max: null,
        traded: { suppressed: false, quantity: null, amount: null },
      };
      index.set(k, row);
      return row;
    };
    for (const r of listed) {
      const row = cellOfIndex(r.unit, r.currency);
      row.offers = Number(r.n);
      row.capacity = Number(r.cap);
      // a mean without capacity (all offers at 0 slots) is the plain mean of their prices
      row.mean = trimZeros(new Decimal(r.mean ?? r.min).toDecimalPlaces(12).toFixed());
      row.min = trimZeros(r.min);
      row.max = trimZeros(r.max);
    }
    for (const r of traded) {
      const row = cellOfIndex(r.unit, r.currency);
      row.traded = anonymous(r)
        ? { suppressed: false, quantity: trimZeros(r.q), amount: trimZeros(r.a) }
        : { suppressed: true, quantity: null, amount: null };
    }
    return {
      windowHours,
      resources: resources.map((r) => ({ class: r.class, state: r.state, count: Number(r.n) })),
      supply: supply.map((r) => ({
        class: r.class,
        region: r.region,
        resources: Number(r.n),
        online: Number(r.online),
        listedSlots: Number(r.listed),
        leasedSlots: Number(r.leased),
      })),
      volume: volume.map((r) => ({
        currency: r.currency.trim(),
        suppressed: !anonymous(r),
        amount: anonymous(r) ? Money.of(r.volume, r.currency.trim()).toString() : null,
      })),
      priceIndex: [...index.values()],
    };
  }

  /** One platform's market overview (the figures of its status report, with totals and shares). */
  async overview(windowHours = 24): Promise<MarketOverview> {
    const snapshot = await this.snapshot(windowHours);
    return {
      generatedAt: this.clock.now().toISOString(),
      k: K_ANONYMITY,
      snapshot,
      aggregate: aggregateSnapshots([snapshot]),
    };
  }
}

/** The market overview of one platform: its snapshot and its totals and shares. */
export type MarketOverview = {
  generatedAt: string;
  k: number;
  snapshot: MarketSnapshot;
  aggregate: MarketAggregate;
};

/** A cell, suppressed unless at least k distinct buyers and k distinct sellers traded in it. */
export function cellOf(r: Row): MarketStatisticsCell {
  const base = {
    bucket: new Date(r.bucket).toISOString(),
    class: r.class,
    region: r.region,
    currency: r.currency.trim(),
  };
  if (Number(r.buyers) < K_ANONYMITY || Number(r.sellers) < K_ANONYMITY) {
    return { ...base, suppressed: true, slotHours: null, volume: null, pricePerSlotHour: null };
  }
  const cur = base.currency;
  const slotHours = Money.of(r.slot_hours, cur);
  return {
    ...base,
    suppressed: false,
    slotHours: trimZeros(r.slot_hours),
    volume: Money.of(r.volume, cur).toString(),
    pricePerSlotHour: slotHours.isZero()
      ? null
      : Money.of(new Decimal(r.slot_amount).div(r.slot_hours), cur).roundHalfEven().toString(),
  };
}

function trimZeros(v: string): string {
  return v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v;
}
