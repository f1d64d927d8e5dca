import { signJws, type JWK } from '@suanli/crypto';
import { Decimal } from '@suanli/money';
import { z } from 'zod';
import { CLOCK_SKEW_SECONDS, entryOf, PLATFORM_CODE, type Directory } from './directory.js';
import { FederationError } from './errors.js';
import { unverifiedPayload, verifiedPayload } from './jws-payload.js';

export const STATUS_REPORT_TYPE = 'suanli.status/v1';
/** A report older than this (by its `iat`) is refused: it cannot say how a platform is now. */
export const STATUS_REPORT_MAX_AGE_SECONDS = 600;

const decimal = z.string().regex(/^\d{1,24}(\.\d{1,12})?$/, 'a non-negative decimal string');
const count = z.number().int().nonnegative().max(1e12);
const currency = z.string().regex(/^[A-Z]{3}$/);

/**
 * One platform's market figures (docs/federation.md, "5. National monitoring"): what its market
 * statistics publish and what its status report carries. Traded figures are k-anonymous: a cell
 * with fewer than k distinct buyers or sellers carries `suppressed: true` and no figures.
 */
export const marketSnapshotSchema = z.object({
  /** Hours back from `iat` that the traded figures cover. */
  windowHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90),
  /** Registered resources by compute class and lifecycle state. */
  resources: z
    .array(z.object({ class: z.string().max(10), state: z.string().max(20), count }))
    .max(500),
  /** Supply by class and region (country-subdivision): resources, online now, slots. */
  supply: z
    .array(
      z.object({
        class: z.string().max(10),
        region: z.string().max(40),
        resources: count,
        online: count,
        listedSlots: count,
        leasedSlots: count,
      }),
    )
    .max(5000),
  /** Traded (gross) volume per currency over the window. */
  volume: z
    .array(z.object({ currency, suppressed: z.boolean(), amount: decimal.nullable() }))
    .max(100),
  /**
   * The price index per standard unit and currency: listed (active offers' normalized prices,
   * public anyway: count, capacity, capacity-weighted mean, min, max) and traded over the window
   * (metered quantity and amount of the unit's debit-note lines, k-anonymous).
   */
  priceIndex: z
    .array(
      z.object({
        unit: z.string().max(20),
        currency,
        offers: count,
        capacity: count,
        mean: decimal.nullable(),
        min: decimal.nullable(),
        max: decimal.nullable(),
        traded: z.object({
          suppressed: z.boolean(),
          quantity: decimal.nullable(),
          amount: decimal.nullable(),
        }),
      }),
    )
    .max(200),
});
export type MarketSnapshot = z.infer<typeof marketSnapshotSchema>;

const reportSchema = marketSnapshotSchema.extend({
  typ: z.literal(STATUS_REPORT_TYPE),
  platform: z.string().regex(PLATFORM_CODE),
  iat: z.number().int().nonnegative(),
  /** The platform's own health as it sees it. */
  health: z.object({
    status: z.enum(['ok', 'degraded']),
    /** The serial of the directory it acts on (0: none). */
    directorySerial: count,
  }),
});
export type StatusReport = z.infer<typeof reportSchema>;

/** A platform's signed status report (JWS, `typ` `suanli.status/v1`). */
export async function signStatusReport(
  r: Omit<StatusReport, 'typ'>,
  privateJwk: JWK,
): Promise<string> {
  return signJws({ ...r, typ: STATUS_REPORT_TYPE }, privateJwk);
}

/**
 * Verifies a status report sent by `issuer` (the caller its client assertion proved): about
 * `issuer` itself, signed by a key the directory lists for it while it is active, current
 * (not issued in the future, at most {@link STATUS_REPORT_MAX_AGE_SECONDS} old).
 */
export async function verifyStatusReport(
  jws: string,
  opts: { directory: Directory; issuer: string; nowSeconds: number },
): Promise<StatusReport> {
  const claimed = unverifiedPayload(jws, reportSchema, 'the status report');
  if (claimed.platform !== opts.issuer) {
    throw new FederationError(
      'untrusted_key',
      `${opts.issuer} cannot report on ${claimed.platform}`,
    );
  }
  const entry = entryOf(opts.directory, claimed.platform);
  if (!entry) {
    throw new FederationError('unknown_platform', `${claimed.platform} is not in the directory`);
  }
  if (entry.state !== 'active') {
    throw new FederationError('suspended_platform', `${claimed.platform} is ${entry.state}`);
  }
  const { payload } = await verifiedPayload(jws, entry.keys, reportSchema, 'the status report');
  if (payload.iat > opts.nowSeconds + CLOCK_SKEW_SECONDS) {
    throw new FederationError('not_yet_valid', 'the status report is issued in the future');
  }
  if (payload.iat < opts.nowSeconds - STATUS_REPORT_MAX_AGE_SECONDS) {
    throw new FederationError('expired', `the status report of ${payload.iat} is too old`);
  }
  return payload;
}

/** A platform whose last report is older than `staleAfterMs` (or that never reported) is stale. */
export function reportIsStale(
  lastReportMs: number | undefined,
  nowMs: number,
  staleAfterMs: number,
): boolean {
  return lastReportMs === undefined || nowMs - lastReportMs > staleAfterMs;
}

/** `a ÷ b` to 4 decimal places (half-even), "0" when b is 0. */
export function share(a: number | string, b: number | string): string {
  const d = new Decimal(b);
  return d.isZero()
    ? '0'
    : new Decimal(a).div(d).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN).toString();
}

const plain = (d: Decimal, dp: number): string =>
  d.toDecimalPlaces(dp, Decimal.ROUND_HALF_EVEN).toString();

/** Totals and shares of a set of snapshots (one platform's, or the federation's fresh ones). */
export function aggregateSnapshots(snapshots: MarketSnapshot[]) {
  const resources = new Map<string, { class: string; state: string; count: number }>();
  const supply = new Map<string, MarketSnapshot['supply'][number]>();
  const volume = new Map<string, { currency: string; amount: Decimal; suppressed: number }>();
  const index = new Map<
    string,
    {
      unit: string;
      currency: string;
      offers: number;
      capacity: number;
      weighted: Decimal;
      unweighted: Decimal;
      priced: number;
      min: Decimal | null;
      max: Decimal | null;
      quantity: Decimal;
      amount: Decimal;
      suppressed: number;
    }
  >();
  for (const s of snapshots) {
    for (const r of s.resources) {
      const k = `${r.class}|${r.state}`;
      const row = resources.get(k) ?? { class: r.class, state: r.state, count: 0 };
      row.count += r.count;
      resources.set(k, row);
    }
    for (const c of s.supply) {
      const k = `${c.class}|${c.region}`;
      const row = supply.get(k) ?? {
        class: c.class,
        region: c.region,
        resources: 0,
        online: 0,
        listedSlots: 0,
        leasedSlots: 0,
      };
      row.resources += c.resources;
      row.online += c.online;
      row.listedSlots += c.listedSlots;
      row.leasedSlots += c.leasedSlots;
      supply.set(k, row);
    }
    for (const v of s.volume) {
      const row = volume.get(v.currency) ?? {
        currency: v.currency,
        amount: new Decimal(0),
        suppressed: 0,
      };
      if (v.suppressed || v.amount === null) row.suppressed++;
      else row.amount = row.amount.plus(v.amount);
      volume.set(v.currency, row);
    }
    for (const p of s.priceIndex) {
      const k = `${p.unit}|${p.currency}`;
      const row = index.get(k) ?? {
        unit: p.unit,
        currency: p.currency,
        offers: 0,
        capacity: 0,
        weighted: new Decimal(0),
        unweighted: new Decimal(0),
        priced: 0,
        min: null,
        max: null,
        quantity: new Decimal(0),
        amount: new Decimal(0),
        suppressed: 0,
      };
      row.offers += p.offers;
      row.capacity += p.capacity;
      if (p.mean !== null) {
        row.weighted = row.weighted.plus(new Decimal(p.mean).times(p.capacity));
        row.unweighted = row.unweighted.plus(p.mean);
        row.priced++;
      }
      if (p.min !== null && (row.min === null || row.min.gt(p.min))) row.min = new Decimal(p.min);
      if (p.max !== null && (row.max === null || row.max.lt(p.max))) row.max = new Decimal(p.max);
      if (p.traded.suppressed) {
        row.suppressed++;
      } else if (p.traded.quantity !== null && p.traded.amount !== null) {
        row.quantity = row.quantity.plus(p.traded.quantity);
        row.amount = row.amount.plus(p.traded.amount);
      }
      index.set(k, row);
    }
  }
  const bySupply = [...supply.values()].sort(
    (a, b) => a.class.localeCompare(b.class) || a.region.localeCompare(b.region),
  );
  const total = bySupply.reduce(
    (t, c) => ({
      resources: t.resources + c.resources,
      online: t.online + c.online,
      listedSlots: t.listedSlots + c.listedSlots,
      leasedSlots: t.leasedSlots + c.leasedSlots,
    }),
    { resources: 0, online: 0, listedSlots: 0, leasedSlots: 0 },
  );
  const withShares = <
    T extends { resources: number; online: number; listedSlots: number; leasedSlots: number },
  >(
    c: T,
  ) => ({
    ...c,
    onlineShare: share(c.online, c.resources),
    utilization: share(c.leasedSlots, c.listedSlots),
  });
  return {
    resources: [...resources.values()].sort(
      (a, b) => a.class.localeCompare(b.class) || a.state.localeCompare(b.state),
    ),
    supply: bySupply.map(withShares),
    totals: withShares(total),
    volume: [...volume.values()]
      .sort((a, b) => a.currency.localeCompare(b.currency))
      .map((v) => ({
        currency: v.currency,
        amount: plain(v.amount, 12),
        /** Snapshots whose figure for this currency was suppressed (k-anonymity). */
        suppressedIn: v.suppressed,
      })),
    priceIndex: [...index.values()]
      .sort((a, b) => a.unit.localeCompare(b.unit) || a.currency.localeCompare(b.currency))
      .map((p) => ({
        unit: p.unit,
        currency: p.currency,
        offers: p.offers,
        capacity: p.capacity,
        /** Listed: capacity-weighted mean of the normalized prices (plain mean without capacity). */
        listed:
          p.priced === 0
            ? null
            : plain(p.capacity > 0 ? p.weighted.div(p.capacity) : p.unweighted.div(p.priced), 6),
        min: p.min === null ? null : p.min.toString(),
        max: p.max === null ? null : p.max.toString(),
        /** Traded: Σ amount ÷ Σ quantity of the unit's metered lines (unsuppressed cells only). */
        traded: p.quantity.isZero() ? null : plain(p.amount.div(p.quantity), 6),
        tradedQuantity: plain(p.quantity, 9),
        suppressedIn: p.suppressed,
      })),
  };
}
export type MarketAggregate = ReturnType<typeof aggregateSnapshots>;
