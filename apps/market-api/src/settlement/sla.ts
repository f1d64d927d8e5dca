import { Decimal, Money, parseDecimal, roundHalfEven } from '@suanli/money';
import type { InvoiceSla, SlaTerms } from '../database/settlement.entities.js';

// Pure SLA credit rules of settlement.md: no I/O, no clock.

/**
 * The SLA when an offer states none (settlement.md): target 99.5 %; below the target 10 %,
 * below 99 % 25 %, below 95 % 100 % of the lease's charge.
 */
export const DEFAULT_SLA: SlaTerms = {
  target: '99.5',
  schedule: [
    { below: '99.5', credit: '10' },
    { below: '99', credit: '25' },
    { below: '95', credit: '100' },
  ],
};

/**
 * Checks pinned SLA terms: percentages in [0, 100], each step's credit in [0, 100], and a
 * schedule whose credit rises as its threshold falls (distinct thresholds; the lower the
 * availability, the larger the credit), whatever order the steps are listed in.
 */
export function validateSla(terms: SlaTerms): SlaTerms {
  const pct = (s: string, what: string): Decimal => {
    const d = parseDecimal(s);
    if (d.isNegative() || d.gt(100)) throw new RangeError(`${what} must be within 0..100: ${s}`);
    return d;
  };
  pct(terms.target, 'SLA target');
  const steps = terms.schedule
    .map((step) => ({
      below: pct(step.below, 'SLA step threshold'),
      credit: pct(step.credit, 'SLA step credit'),
    }))
    .sort((a, b) => b.below.comparedTo(a.below));
  for (let i = 1; i < steps.length; i += 1) {
    const [higher, lower] = [steps[i - 1], steps[i]];
    if (!lower.below.lt(higher.below)) {
      throw new RangeError(`SLA step thresholds must differ: ${lower.below.toFixed()} twice`);
    }
    if (!lower.credit.gt(higher.credit)) {
      throw new RangeError(
        `SLA credits must rise as thresholds fall: below ${lower.below.toFixed()} % credits ` +
          `${lower.credit.toFixed()} %, not more than ${higher.credit.toFixed()} % below ` +
          `${higher.below.toFixed()} %`,
      );
    }
  }
  return terms;
}

/**
 * The credited percentage for `available` of `active` minutes: the largest credit among the
 * steps whose threshold the availability is strictly below (exact comparison, no rounding).
 * A lease with no active minute gets no credit.
 */
export function creditPercent(terms: SlaTerms, available: number, active: number): Decimal {
  if (!Number.isSafeInteger(available) || !Number.isSafeInteger(active) || available < 0) {
    throw new RangeError('minutes must be non-negative integers');
  }
  if (available > active) throw new RangeError('more available than active minutes');
  if (active === 0) return new Decimal(0);
  // available / active < below / 100  ⇔  available × 100 < below × active
  const lhs = new Decimal(available).times(100);
  let best = new Decimal(0);
  for (const step of terms.schedule) {
    if (lhs.lt(parseDecimal(step.below).times(active))) {
      const c = parseDecimal(step.credit);
      if (c.gt(best)) best = c;
    }
  }
  return best;
}

export interface SlaCreditInput {
  currency: string;
  terms: SlaTerms;
  activeMinutes: number;
  availableMinutes: number;
  /** Σ seller net and Σ fee of the lease's debit notes. */
  net: string;
  fee: string;
}

/**
 * The SLA credit at the final invoice: p = the credited percentage; seller share
 * round_half_even(Σ net × p), platform share round_half_even(Σ fee × p); the buyer gets the sum.
 */
export function slaCredit(input: SlaCreditInput): InvoiceSla & { credit: string } {
  const { currency, terms, activeMinutes, availableMinutes } = input;
  const percent = creditPercent(terms, availableMinutes, activeMinutes);
  const p = percent.div(100);
  const seller = Money.of(parseDecimal(input.net).times(p), currency).roundHalfEven();
  const platform = Money.of(parseDecimal(input.fee).times(p), currency).roundHalfEven();
  const availability =
    activeMinutes === 0
      ? new Decimal(100)
      : roundHalfEven(new Decimal(availableMinutes).times(100).div(activeMinutes), 4);
  return {
    availability: availability.toFixed(),
    activeMinutes,
    availableMinutes,
    target: terms.target,
    creditPercent: percent.toFixed(),
    sellerShare: seller.toString(),
    platformShare: platform.toString(),
    credit: seller.plus(platform).toString(),
  };
}

/**
 * When an active lease breaches its SLA by its resource being offline, or null while it does
 * not (docs/decisions.md, "Live status in the market"). The resource is offline by the live
 * status rule (`liveStatus`, registry/lifecycle.ts): from its last beat when that beat reported
 * it offline, else from `degradedWindowMs` after it, and from the lease's start when it never
 * beat. It is counted from the lease's start at the earliest; the lease breaches once that
 * stretch reaches `limitMs`. Pure: no I/O, no clock.
 */
export function offlineBreachAt(input: {
  lastHeartbeatAt: Date | null;
  reported: 'online' | 'degraded' | 'offline' | null;
  leaseStart: Date;
  now: Date;
  degradedWindowMs: number;
  limitMs: number;
}): Date | null {
  const { lastHeartbeatAt: last, leaseStart, now } = input;
  const offlineFrom = !last
    ? leaseStart.getTime()
    : input.reported === 'offline'
      ? last.getTime()
      : last.getTime() + input.degradedWindowMs;
  const breach = Math.max(offlineFrom, leaseStart.getTime()) + input.limitMs;
  return breach <= now.getTime() ? new Date(breach) : null;
}
