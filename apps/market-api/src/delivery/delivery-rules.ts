// The pure rules of the market side of delivery (docs/delivery.md, "The market side").
import type { LeaseState } from '@suanli/contracts';

/** How long access may take before the lease ends as `provisioning_failed` (docs/delivery.md). */
export const DEFAULT_PROVISIONING_SECONDS = 300;

/** Forms delivered over SSH: ordering them needs a buyer SSH key. */
export const SSH_FORMS: readonly string[] = ['BM', 'VM'];

/** States in which the market still waits for the lease's access. */
export const AWAITING_ACCESS: readonly LeaseState[] = ['pending', 'provisioning'];

export const awaitsAccess = (state: LeaseState): boolean => AWAITING_ACCESS.includes(state);

/**
 * The billed window once access works: billing starts at the grant and the lease keeps the
 * length it was ordered for (the time spent provisioning is neither billed nor lost).
 */
export function windowFromGrant(
  lease: { startsAt: Date; endsAt: Date },
  grantedAt: Date,
): { startsAt: Date; endsAt: Date } {
  const length = lease.endsAt.getTime() - lease.startsAt.getTime();
  return { startsAt: grantedAt, endsAt: new Date(grantedAt.getTime() + length) };
}
