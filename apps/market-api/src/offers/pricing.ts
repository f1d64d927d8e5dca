import { Decimal } from '@suanli/money';
import { maxUnitsPerSlotHour, type UnitCode } from '@suanli/units';
import type { OfferPriceInput, PricingModel, ResourceSpec } from '@suanli/contracts';
import type { PriceRow } from '../database/market.entities.js';

export const CLASS_UNIT: Record<'GEN' | 'AI' | 'HPC', UnitCode> = {
  GEN: 'scu.gen',
  AI: 'scu.ai',
  HPC: 'scu.hpc',
};

/**
 * The offer's price per standard unit of its class (跨架构比价): what one unit costs when a slot
 * runs at full load for an hour, all of the offer's prices included. Slot-hour prices and the
 * prices of other metered units (memory, storage, ...) are spread over the class units one slot
 * delivers in that hour. Null when a price cannot be bounded (e.g. per API call).
 */
export function normalizedPrice(
  prices: PriceRow[],
  ctx: { class: 'GEN' | 'AI' | 'HPC'; spec: ResourceSpec; catalog: string },
): { unit: string; price: string } | null {
  const unit = CLASS_UNIT[ctx.class];
  const units = { catalog: ctx.catalog, class: ctx.class };
  const max = maxUnitsPerSlotHour(ctx.spec, unit, units);
  if (max === null || new Decimal(max).isZero()) return null;
  const perSlot = new Decimal(max);
  let slotHourCost = new Decimal(0);
  for (const p of prices) {
    if (p.unit === 'slot_h') {
      slotHourCost = slotHourCost.plus(p.price);
    } else {
      const most = maxUnitsPerSlotHour(ctx.spec, p.unit, units);
      if (most === null) return null;
      slotHourCost = slotHourCost.plus(new Decimal(p.price).times(most));
    }
  }
  return { unit, price: slotHourCost.div(perSlot).toDecimalPlaces(6).toString() };
}

/**
 * The stored (and, at order time, pinned) price rows of an offer's request rows: `price` is the
 * headline unit price every model has — fixed: the price; tiered: the first tier's; reserved:
 * the on-demand price; interruptible: the floor — so the normalized price compares them all.
 */
export function toPriceRows(model: PricingModel, prices: readonly OfferPriceInput[]): PriceRow[] {
  return prices.map((p): PriceRow => {
    switch (model) {
      case 'fixed':
        return { unit: p.unit, price: p.price as string };
      case 'tiered': {
        const tiers = (p.tiers ?? []).map((t) => ({ upTo: t.upTo, price: t.price }));
        return { unit: p.unit, price: tiers[0].price, model, tiers };
      }
      case 'reserved':
        return {
          unit: p.unit,
          price: p.price as string,
          model,
          reserved: { quantity: p.reserved!.quantity, price: p.reserved!.price },
        };
      case 'interruptible':
        return { unit: p.unit, price: p.price as string, model };
    }
  });
}

/** The rows as pinned on an interruptible lease: the floor row carries the buyer's bid. */
export function withBid(prices: readonly PriceRow[], bid: string): PriceRow[] {
  return prices.map((p) => ({ ...p, price: bid }));
}
