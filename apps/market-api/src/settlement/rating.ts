import type { InvoiceLineView, PricedUnit, ResourceSpec } from '@suanli/contracts';
import { Decimal, Money, fee as platformFee, parseDecimal, roundHalfEven } from '@suanli/money';
import { UNIT_DECIMALS, isUnitCode, maxUnitsPerSlotHour, type ComputeClass } from '@suanli/units';

// Pure rating rules of settlement.md ("Rating rules, precisely"): no I/O, no clock.

export const HOUR_MS = 3_600_000;

/**
 * A pinned price row of a lease (offer price at order time). The `prices` jsonb of a lease is
 * an array of these; `{unit, price}` alone is the `fixed` model, so older rows stay valid.
 */
export interface PriceRow {
  unit: PricedUnit;
  /**
   * fixed: the unit price. tiered: the first tier's price. reserved: the on-demand price
   * beyond the block. interruptible: the buyer's bid per slot-hour.
   */
  price: string;
  model?: PricingModel;
  /** tiered: graduated tiers by cumulative quantity in the lease, ascending; last `upTo` null. */
  tiers?: PriceTier[];
  /** reserved: the prepaid block (quantity of `unit`) and its discounted unit price. */
  reserved?: { quantity: string; price: string };
}

export type PricingModel = 'fixed' | 'tiered' | 'reserved' | 'interruptible';

export interface PriceTier {
  /** Upper bound of the tier's cumulative quantity (exclusive), or null for the last tier. */
  upTo: string | null;
  price: string;
}

/** The model of a price row (`fixed` when absent). */
export const modelOf = (row: PriceRow): PricingModel => row.model ?? 'fixed';

/** Checks the model-specific fields of a pinned price row; throws RangeError. */
export function validatePriceRow(row: PriceRow): PriceRow {
  const nonNegative = (s: string, what: string): Decimal => {
    const d = parseDecimal(s);
    if (d.isNegative()) throw new RangeError(`${what} must not be negative: ${s}`);
    return d;
  };
  nonNegative(row.price, 'price');
  switch (modelOf(row)) {
    case 'fixed':
      return row;
    case 'tiered': {
      const tiers = row.tiers ?? [];
      if (tiers.length === 0) throw new RangeError('a tiered price needs tiers');
      let lo = new Decimal(0);
      tiers.forEach((t, i) => {
        nonNegative(t.price, 'tier price');
        const last = i === tiers.length - 1;
        if (last !== (t.upTo === null)) throw new RangeError('only the last tier is open-ended');
        if (t.upTo !== null) {
          const hi = nonNegative(t.upTo, 'tier bound');
          if (!hi.gt(lo)) throw new RangeError('tier bounds must ascend');
          lo = hi;
        }
      });
      return row;
    }
    case 'reserved':
      if (!row.reserved) throw new RangeError('a reserved price needs its block');
      nonNegative(row.reserved.quantity, 'reserved quantity');
      nonNegative(row.reserved.price, 'reserved price');
      return row;
    case 'interruptible':
      if (row.unit !== 'slot_h') throw new RangeError('interruptible prices are per slot-hour');
      return row;
  }
}

/** The start of the UTC clock hour containing `d`. */
export function floorHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * The next settlement period from `from` (the lease's `settled_until`): up to the next UTC clock
 * hour or `boundary` (the lease's end), whichever is first. Null when `from` ≥ `boundary`.
 */
export function nextPeriod(from: Date, boundary: Date): { start: Date; end: Date } | null {
  if (from.getTime() >= boundary.getTime()) return null;
  const hourEnd = floorHour(from).getTime() + HOUR_MS;
  return { start: from, end: new Date(Math.min(hourEnd, boundary.getTime())) };
}

/**
 * Slot-hours of `slots` running for `activeMs` milliseconds: `slots × seconds / 3600`, exact
 * (for whole seconds the result terminates or repeats one digit; decimal.js keeps 60 digits).
 */
export function slotHours(slots: number, activeMs: number): Decimal {
  checkCount('slots', slots);
  checkCount('activeMs', activeMs);
  return new Decimal(slots).times(activeMs).div(HOUR_MS);
}

export interface PeriodRatingInput {
  currency: string;
  slots: number;
  prices: readonly PriceRow[];
  /** Milliseconds the lease was active in the period (slot-hour billing). */
  activeMs: number;
  /** Metered standard units of the lease for the period's hour (`usage_hours`): unit → quantity. */
  usage: Readonly<Partial<Record<string, string>>>;
  /** The pinned take rate, a decimal fraction (`"0.05"`). */
  takeRate: string;
  /**
   * tiered / reserved: the lease's cumulative metered quantity per standard unit before this
   * period. Absent = 0.
   */
  prior?: Readonly<Partial<Record<string, string>>>;
  /**
   * tiered / reserved by slot-hours: the milliseconds of the lease's settled periods before this
   * one (its prior slot-hours are `slots × priorActiveMs / 1 h`, kept as whole slot-milliseconds
   * so that a tier bound is crossed exactly). Absent = 0.
   */
  priorActiveMs?: number;
  /** interruptible: milliseconds of the active time the lease was paused (not run). */
  pausedMs?: number;
}

export interface RatedPeriod {
  /** One line per priced unit, in the lease's price order; each amount rounded half-even. */
  lines: InvoiceLineView[];
  /** Σ of the rounded lines. */
  gross: string;
  /** round_half_even(gross × take rate). */
  fee: string;
  /** gross − fee: the seller's. */
  net: string;
}

const DESCRIPTIONS: Record<PricedUnit, string> = {
  slot_h: 'Slot-hours',
  'scu.ai': 'AI standard compute units (scu.ai)',
  'scu.hpc': 'HPC standard compute units (scu.hpc)',
  'scu.gen': 'General standard compute units (scu.gen)',
  'mem.gib_h': 'Memory GiB-hours',
  'sto.gib_h': 'Storage GiB-hours',
  'net.egress_gib': 'Network egress GiB',
  'api.call': 'API calls',
};

/** A quantity as shown on a line: at most 9 decimals (half-even), no trailing zeros. */
export function displayQuantity(q: Decimal): string {
  return roundHalfEven(q, UNIT_DECIMALS).toFixed();
}

/**
 * Rates one period: `line = quantity × price` exact, each line rounded half-even to the
 * currency's minor unit; gross = Σ rounded lines; fee = round_half_even(gross × take rate);
 * net = gross − fee.
 */
export function ratePeriod(input: PeriodRatingInput): RatedPeriod {
  const { currency } = input;
  const lines: InvoiceLineView[] = [];
  const line = (
    row: PriceRow,
    quantity: Decimal,
    unitPrice: string,
    exact: Decimal,
    note?: string,
  ): void => {
    const base = DESCRIPTIONS[row.unit] ?? row.unit;
    lines.push({
      description: note ? `${base}, ${note}` : base,
      unit: row.unit,
      quantity: displayQuantity(quantity),
      unitPrice, // as published and pinned on the lease
      amount: Money.of(exact, currency).roundHalfEven().toString(),
    });
  };
  for (const row of input.prices) {
    const price = parseDecimal(row.price);
    const model = modelOf(row);
    if (row.unit === 'slot_h') {
      checkCount('slots', input.slots);
      checkCount('activeMs', input.activeMs);
    }
    if (model === 'fixed') {
      if (row.unit === 'slot_h') {
        // Multiply before dividing so the only inexact step is the last one.
        const exact = new Decimal(input.slots).times(input.activeMs).times(price).div(HOUR_MS);
        line(row, slotHours(input.slots, input.activeMs), row.price, exact);
      } else {
        const q = periodQuantity(input, row);
        line(row, q, row.price, q.times(price));
      }
    } else if (model === 'interruptible') {
      const paused = input.pausedMs ?? 0;
      checkCount('pausedMs', paused);
      const ranMs = Math.max(0, input.activeMs - paused);
      const exact = new Decimal(input.slots).times(ranMs).times(price).div(HOUR_MS);
      line(row, slotHours(input.slots, ranMs), row.price, exact, 'interruptible, at the bid');
    } else if (model === 'tiered') {
      // In the row's exact scale (slot-milliseconds for slot_h): no division before the end.
      const scale = scaleOf(row);
      const q = scaledPeriodQuantity(input, row);
      const prior = scaledPriorQuantity(input, row);
      const to = prior.plus(q);
      let lo = new Decimal(0);
      for (const tier of row.tiers ?? []) {
        const hi = tier.upTo === null ? null : parseDecimal(tier.upTo);
        const from = Decimal.max(prior, lo.times(scale));
        const until = hi === null ? to : Decimal.min(to, hi.times(scale));
        if (until.gt(from)) {
          const label = `tier ${lo.toFixed()}${hi === null ? '+' : `-${hi.toFixed()}`}`;
          const part = until.minus(from);
          line(
            row,
            part.div(scale),
            tier.price,
            part.times(parseDecimal(tier.price)).div(scale),
            label,
          );
        }
        if (hi === null) break;
        lo = hi;
      }
      if (q.isZero()) line(row, q, row.price, new Decimal(0));
    } else {
      // reserved: the prepaid block is consumed first, the rest at the on-demand price.
      const scale = scaleOf(row);
      const q = scaledPeriodQuantity(input, row);
      const block = parseDecimal(row.reserved?.quantity ?? '0').times(scale);
      const left = Decimal.max(0, block.minus(scaledPriorQuantity(input, row)));
      const fromBlock = Decimal.min(q, left);
      const beyond = q.minus(fromBlock);
      if (fromBlock.gt(0) || beyond.isZero()) {
        line(row, fromBlock.div(scale), '0', new Decimal(0), 'from the prepaid block');
      }
      if (beyond.gt(0)) {
        line(row, beyond.div(scale), row.price, beyond.times(price).div(scale), 'beyond the block');
      }
    }
  }
  const gross = Money.sum(
    lines.map((l) => Money.of(l.amount, currency)),
    currency,
  );
  const fee = platformFee(gross, parseDecimal(input.takeRate));
  return { lines, gross: gross.toString(), fee: fee.toString(), net: gross.minus(fee).toString() };
}

/** The period's quantity of a row's unit: slot-hours, or the metered units. */
function periodQuantity(input: PeriodRatingInput, row: PriceRow): Decimal {
  if (row.unit === 'slot_h') return slotHours(input.slots, input.activeMs);
  const used = input.usage[row.unit];
  const q = used === undefined ? new Decimal(0) : parseDecimal(used);
  if (q.isNegative()) throw new RangeError(`negative usage of ${row.unit}`);
  return q;
}

/** The exact scale of a row's quantities: slot-milliseconds per slot-hour, else 1. */
const scaleOf = (row: PriceRow): number => (row.unit === 'slot_h' ? HOUR_MS : 1);

/** The period's quantity in the row's exact scale (whole slot-milliseconds for slot_h). */
function scaledPeriodQuantity(input: PeriodRatingInput, row: PriceRow): Decimal {
  if (row.unit === 'slot_h') return new Decimal(input.slots).times(input.activeMs);
  return periodQuantity(input, row);
}

/** The lease's quantity before the period, in the row's exact scale. */
function scaledPriorQuantity(input: PeriodRatingInput, row: PriceRow): Decimal {
  if (row.unit === 'slot_h') {
    const ms = input.priorActiveMs ?? 0;
    checkCount('priorActiveMs', ms);
    return new Decimal(input.slots).times(ms);
  }
  const p = input.prior?.[row.unit];
  const d = p === undefined ? new Decimal(0) : parseDecimal(p);
  if (d.isNegative()) throw new RangeError(`negative prior quantity of ${row.unit}`);
  return d;
}

/**
 * The prepaid block of a lease's `reserved` rows, as its own debit note when the order is
 * placed: one line per reserved row, `block quantity × block price`. Null when no row is
 * reserved.
 */
export function rateReservedBlock(input: {
  currency: string;
  prices: readonly PriceRow[];
  takeRate: string;
}): RatedPeriod | null {
  const { currency } = input;
  const rows = input.prices.filter((r) => modelOf(r) === 'reserved' && r.reserved);
  if (rows.length === 0) return null;
  const lines = rows.map((row) => {
    const block = row.reserved as { quantity: string; price: string };
    const q = parseDecimal(block.quantity);
    return {
      description: `${DESCRIPTIONS[row.unit] ?? row.unit}, prepaid reserved block`,
      unit: row.unit,
      quantity: displayQuantity(q),
      unitPrice: block.price,
      amount: Money.of(q.times(parseDecimal(block.price)), currency)
        .roundHalfEven()
        .toString(),
    };
  });
  const gross = Money.sum(
    lines.map((l) => Money.of(l.amount, currency)),
    currency,
  );
  const fee = platformFee(gross, parseDecimal(input.takeRate));
  return { lines, gross: gross.toString(), fee: fee.toString(), net: gross.minus(fee).toString() };
}

/** The most a unit of the row can cost in a period: the highest tier price for tiered rows. */
function maxUnitPrice(row: PriceRow): Decimal {
  let max = parseDecimal(row.price);
  if (modelOf(row) === 'tiered') {
    for (const t of row.tiers ?? []) max = Decimal.max(max, parseDecimal(t.price));
  }
  return max;
}

export interface HoldInput {
  currency: string;
  slots: number;
  prices: readonly PriceRow[];
  spec: ResourceSpec;
  computeClass: ComputeClass;
  /** The lease's pinned unit catalog version. */
  catalog: string;
}

/**
 * The escrow hold for one period: the most a clock hour can cost. Σ over the price rows of
 * `slots × 1 h × price` (slot_h) or `slots × maxUnitsPerSlotHour × price` (standard units),
 * rounded UP to the minor unit. Units without a physical bound (`api.call`, egress without
 * `netGbps`) cannot be bounded in advance and add nothing to the hold.
 */
export function escrowHold(input: HoldInput): Money {
  checkCount('slots', input.slots);
  let total = Money.zero(input.currency);
  for (const row of input.prices) {
    const price = maxUnitPrice(row);
    let perSlot: Decimal;
    if (row.unit === 'slot_h') {
      perSlot = new Decimal(1);
    } else if (isUnitCode(row.unit)) {
      const max = maxUnitsPerSlotHour(input.spec, row.unit, {
        catalog: input.catalog,
        class: input.computeClass,
      });
      perSlot = max === null ? new Decimal(0) : parseDecimal(max);
    } else {
      throw new RangeError(`unknown priced unit ${String(row.unit)}`);
    }
    total = total.plus(Money.of(perSlot.times(input.slots).times(price), input.currency));
  }
  return total.roundUp();
}

/** Invoice lines: the debit notes' lines summed by unit and unit price, in first-seen order. */
export function sumLines(
  currency: string,
  notes: readonly { lines: readonly InvoiceLineView[] }[],
): InvoiceLineView[] {
  const byKey = new Map<string, { line: InvoiceLineView; quantity: Decimal; amount: Decimal }>();
  for (const note of notes) {
    for (const line of note.lines) {
      const key = `${line.unit}\u0000${parseDecimal(line.unitPrice).toString()}`;
      const slot = byKey.get(key) ?? {
        line,
        quantity: new Decimal(0),
        amount: new Decimal(0),
      };
      slot.quantity = slot.quantity.plus(parseDecimal(line.quantity));
      slot.amount = slot.amount.plus(parseDecimal(line.amount));
      byKey.set(key, slot);
    }
  }
  return [...byKey.values()].map(({ line, quantity, amount }) => ({
    description: line.description,
    unit: line.unit,
    quantity: quantity.toString(),
    unitPrice: line.unitPrice,
    amount: Money.of(amount, currency).toString(),
  }));
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(n)}`);
  }
}
