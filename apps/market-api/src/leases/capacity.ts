import { type EntityManager, In, IsNull } from 'typeorm';
import { LeaseEntity } from '../database/market.entities.js';

/**
 * Capacity is a property of the resource (docs/decisions.md, "Capacity belongs to the
 * resource"): every offer of a resource draws from its `capacity_slots`, and an offer's own
 * `capacity` only caps what that offer may have leased at once. A lease holds its slots while it
 * is open (pending, active, suspended) and not paused; a paused interruptible lease holds none.
 */
export const OPEN_LEASE_STATES = ['pending', 'provisioning', 'active', 'suspended'] as const;

/** SQL: the slots held on a resource `r` by its leases of every offer (for catalog queries). */
export const RESOURCE_SLOTS_HELD_SQL = `(SELECT COALESCE(SUM(hl.slots), 0)::int FROM leases hl
  WHERE hl.resource_id = r.id AND hl.state IN ('pending', 'provisioning', 'active', 'suspended')
    AND hl.paused_at IS NULL)`;

/** SQL: the slots held on an offer `o` by its own leases (for catalog queries). */
export const OFFER_SLOTS_HELD_SQL = `(SELECT COALESCE(SUM(ol.slots), 0)::int FROM leases ol
  WHERE ol.offer_id = o.id AND ol.state IN ('pending', 'provisioning', 'active', 'suspended')
    AND ol.paused_at IS NULL)`;

/** What an offer can still lease: its own cap and the resource's, whichever is tighter. */
export function freeSlots(c: {
  offerCapacity: number;
  offerHeld: number;
  resourceCapacity: number;
  resourceHeld: number;
}): number {
  return Math.max(0, Math.min(c.offerCapacity - c.offerHeld, c.resourceCapacity - c.resourceHeld));
}

async function held(
  m: EntityManager,
  column: 'offer_id' | 'resource_id',
  ids: string[],
  includePaused: boolean,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (ids.length === 0) return out;
  const key = column === 'offer_id' ? 'offerId' : 'resourceId';
  const rows = await m
    .getRepository(LeaseEntity)
    .createQueryBuilder('l')
    .select(`l.${column}`, 'id')
    .addSelect('COALESCE(SUM(l.slots), 0)::int', 'slots')
    .where({
      [key]: In(ids),
      state: In([...OPEN_LEASE_STATES]),
      ...(includePaused ? {} : { pausedAt: IsNull() }),
    })
    .groupBy(`l.${column}`)
    .getRawMany<{ id: string; slots: number }>();
  for (const r of rows) out.set(r.id, Number(r.slots));
  return out;
}

/** Slots held by each offer's leases (paused ones too with `includePaused`). */
export function offerSlotsHeld(
  m: EntityManager,
  offerIds: string[],
  includePaused = false,
): Promise<Map<string, number>> {
  return held(m, 'offer_id', offerIds, includePaused);
}

/** Slots held on each resource by the leases of all its offers. */
export function resourceSlotsHeld(
  m: EntityManager,
  resourceIds: string[],
): Promise<Map<string, number>> {
  return held(m, 'resource_id', resourceIds, false);
}

/**
 * Slots held on the resource by leases of its other offers: what an interruptible offer's bids
 * cannot have.
 */
export async function heldByOtherOffers(
  m: EntityManager,
  resourceId: string,
  offerId: string,
): Promise<number> {
  const [row] = (await m.query(
    `SELECT COALESCE(SUM(slots), 0)::int AS slots FROM leases
      WHERE resource_id = $1 AND offer_id <> $2
        AND state IN ('pending', 'provisioning', 'active', 'suspended') AND paused_at IS NULL`,
    [resourceId, offerId],
  )) as { slots: number }[];
  return Number(row?.slots ?? 0);
}
