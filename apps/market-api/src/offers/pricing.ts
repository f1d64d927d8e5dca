import { Decimal } from '@suanli/money';
import { maxUnitsPerSlotHour, type UnitCode } from '@suanli/units';
import type { ResourceSpec } from '@suanli/contracts';
import type { PriceRow } from '../database/entities.js';

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
