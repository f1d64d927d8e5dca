// Reconciliation (docs/delivery.md, "Reconcile"): what the agent should serve against what
// exists on the host, as a plan of provisioner steps. Pure: the same inputs give the same plan;
// `applyPlan` (reconciler.ts) carries it out.
import type { DeliveryForm, HostLease, HostState, LeaseGrant } from './provisioner.js';

/** The states of a lease as far as delivery is concerned. */
export type DesiredState = 'active' | 'suspended' | 'ended';

/** A lease the agent should serve (or has ended), with what granting it needs. */
export interface DesiredLease extends LeaseGrant {
  state: DesiredState;
}

export type StepOp = 'revoke' | 'suspend' | 'resume' | 'grant';

export interface Step {
  op: StepOp;
  leaseId: string;
  /** The provisioner (by name) that carries the step out. */
  provisioner: string;
}

export interface Plan {
  /** Steps in order: every revoke and suspend before any resume or grant (access is cut first). */
  steps: Step[];
  /** Active leases whose form no provisioner delivers: reported, never granted. */
  unserved: string[];
}

const OP_ORDER: Record<StepOp, number> = { revoke: 0, suspend: 1, resume: 2, grant: 3 };
const RESTRICTION: Record<DesiredState, number> = { active: 0, suspended: 1, ended: 2 };

/**
 * Plans the steps that make the host match `desired`:
 *
 * - something of a lease exists on a provisioner, and the lease is ended, unknown (not in
 *   `desired`: a lost revoke message, a lease ended while the agent was down) or of a form that
 *   provisioner does not deliver → `revoke`;
 * - the lease is suspended and its access is not completely suspended → `suspend` (also from
 *   `partial`: suspend converges from any state);
 * - the lease is active and its access is suspended → `resume`; partial → `grant` (grant
 *   converges from any state); absent → `grant`;
 * - a suspended lease with nothing on the host gets nothing (no access is what suspension wants;
 *   resuming it grants).
 *
 * Only provisioners present in `observed` get steps (one whose `list` failed waits for the next
 * round). A lease listed twice in `desired` counts with its most restrictive state (ended > suspended >
 * active), so a conflict never opens access.
 */
export function planReconcile(
  desired: readonly DesiredLease[],
  observed: ReadonlyMap<string, readonly HostLease[]>,
  route: (form: DeliveryForm) => string | undefined,
): Plan {
  const want = new Map<string, DesiredLease>();
  for (const d of desired) {
    const seen = want.get(d.leaseId);
    if (seen === undefined || RESTRICTION[d.state] > RESTRICTION[seen.state])
      want.set(d.leaseId, d);
  }
  const steps: Step[] = [];
  const present = new Set<string>();
  for (const [provisioner, leases] of observed) {
    const states = new Map<string, HostState>();
    for (const h of leases) {
      // listed twice (should not happen): the less finished state decides
      const prev = states.get(h.leaseId);
      states.set(h.leaseId, prev === undefined || prev === h.state ? h.state : 'partial');
    }
    for (const [leaseId, state] of states) {
      const d = want.get(leaseId);
      if (d === undefined || d.state === 'ended' || route(d.form) !== provisioner) {
        steps.push({ op: 'revoke', leaseId, provisioner });
        continue;
      }
      present.add(leaseId);
      if (d.state === 'suspended') {
        if (state !== 'suspended') steps.push({ op: 'suspend', leaseId, provisioner });
      } else if (state === 'suspended') {
        steps.push({ op: 'resume', leaseId, provisioner });
      } else if (state === 'partial') {
        steps.push({ op: 'grant', leaseId, provisioner });
      }
    }
  }
  const unserved: string[] = [];
  for (const d of want.values()) {
    if (d.state !== 'active' || present.has(d.leaseId)) continue;
    const provisioner = route(d.form);
    if (provisioner === undefined) unserved.push(d.leaseId);
    // a provisioner that could not list its leases this round is left alone until the next
    else if (observed.has(provisioner))
      steps.push({ op: 'grant', leaseId: d.leaseId, provisioner });
  }
  steps.sort(
    (a, b) =>
      OP_ORDER[a.op] - OP_ORDER[b.op] ||
      (a.leaseId < b.leaseId ? -1 : a.leaseId > b.leaseId ? 1 : 0) ||
      (a.provisioner < b.provisioner ? -1 : a.provisioner > b.provisioner ? 1 : 0),
  );
  return { steps, unserved: unserved.sort() };
}
