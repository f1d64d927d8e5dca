import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { MarketStatisticsCell, MarketStatisticsView } from '@suanli/contracts';
import { Decimal, Money } from '@suanli/money';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors.js';

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
}

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
