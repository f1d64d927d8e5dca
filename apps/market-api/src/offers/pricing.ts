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
 * The offer's price per standard unit of its class (跨架构比价): the unit's own price when it
 * has one, else the slot-hour price spread over what one slot can deliver in an hour.
 */
export function normalizedPrice(
  prices: PriceRow[],
  ctx: { class: 'GEN' | 'AI' | 'HPC'; spec: ResourceSpec; catalog: string },
): { unit: string; price: string } | null {
  const unit = CLASS_UNIT[ctx.class];
  const direct = prices.find((p) => p.unit === unit);
  if (direct) return { unit, price: new Decimal(direct.price).toDecimalPlaces(6).toString() };
  const slot = prices.find((p) => p.unit === 'slot_h');
  if (!slot) return null;
  const max = maxUnitsPerSlotHour(ctx.spec, unit, { catalog: ctx.catalog, class: ctx.class });
  if (max === null || new Decimal(max).isZero()) return null;
  const perSlot = new Decimal(max);
  return { unit, price: new Decimal(slot.price).div(perSlot).toDecimalPlaces(6).toString() };
}
