import type { InvoiceLineView, PricedUnit, ResourceSpec } from '@suanli/contracts';
import { Decimal, Money, fee as platformFee, parseDecimal, roundHalfEven } from '@suanli/money';
import { UNIT_DECIMALS, isUnitCode, maxUnitsPerSlotHour, type ComputeClass } from '@suanli/units';

// Pure rating rules of settlement.md ("Rating rules, precisely"): no I/O, no clock.

export const HOUR_MS = 3_600_000;

/** A pinned price row of a lease (offer price at order time). */
export interface PriceRow {
  unit: PricedUnit;
  price: string;
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
  let gross = Money.zero(currency);
  const lines: InvoiceLineView[] = input.prices.map((row) => {
    const price = parseDecimal(row.price);
    let quantity: Decimal;
    let exact: Money;
    if (row.unit === 'slot_h') {
      // Multiply before dividing so the only inexact step is the last one.
      checkCount('slots', input.slots);
      checkCount('activeMs', input.activeMs);
      quantity = slotHours(input.slots, input.activeMs);
      exact = Money.of(
        new Decimal(input.slots).times(input.activeMs).times(price).div(HOUR_MS),
        currency,
      );
    } else {
      const used = input.usage[row.unit];
      quantity = used === undefined ? new Decimal(0) : parseDecimal(used);
      if (quantity.isNegative()) throw new RangeError(`negative usage of ${row.unit}`);
      exact = Money.of(quantity.times(price), currency);
    }
    const amount = exact.roundHalfEven();
    gross = gross.plus(amount);
    return {
      description: DESCRIPTIONS[row.unit] ?? row.unit,
      unit: row.unit,
      quantity: displayQuantity(quantity),
      unitPrice: row.price, // as published and pinned on the lease
      amount: amount.toString(),
    };
  });
  const fee = platformFee(gross, parseDecimal(input.takeRate));
  return { lines, gross: gross.toString(), fee: fee.toString(), net: gross.minus(fee).toString() };
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
    const price = parseDecimal(row.price);
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
