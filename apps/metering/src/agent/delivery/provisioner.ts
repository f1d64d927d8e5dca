// The provisioner interface: how the metering agent hands a lease's compute to the buyer and
// takes it back (docs/delivery.md). One implementation per way of delivering; a seller can plug
// in its own (a module whose default export is a `ProvisionerFactory`).
import type { SlotSpec } from '@suanli/units';

/** The resource forms of a CRI, and so of a lease (docs/delivery.md, "Forms"). */
export const DELIVERY_FORMS = ['BM', 'VM', 'CTR', 'API', 'JOB'] as const;
export type DeliveryForm = (typeof DELIVERY_FORMS)[number];

/** What the agent asks a provisioner to deliver for one lease. */
export interface LeaseGrant {
  /** The lease's UUID: the only name a provisioner uses for it on the host. */
  leaseId: string;
  form: DeliveryForm;
  /** Slots bought: limits (CPU, memory, concurrency) scale with them. */
  slots: number;
  /** The resource's per-slot spec. */
  spec: SlotSpec;
  /** OpenSSH public key lines of the buyer (SSH, CTR with SSH); validated by the provisioner. */
  sshPublicKeys?: string[];
  /** For CTR: the image the buyer named, its command and the port it serves. */
  container?: { image: string; command?: string[]; port?: number };
}

/**
 * How the buyer reaches what was granted. Fields marked secret must travel and rest encrypted
 * under the buyer's data key and never be logged (docs/delivery.md, "Secrets").
 */
export type Access =
  | { kind: 'ssh'; host: string; port: number; user: string; hostKeyFingerprints: string[] }
  | {
      kind: 'http';
      /** Base URL the buyer calls (the gateway, or the job API). */
      endpoint: string;
      /** Bearer token: secret. */
      token: string;
      /** How many requests (API) or jobs (JOB) may run at once. */
      concurrency: number;
    }
  | { kind: 'container'; name: string; host: string; port?: number; image: string };

/** The state of one lease's access as found on the host. */
export type HostState =
  /** Granted completely: the buyer can use it. */
  | 'active'
  /** Suspended completely: nothing of it is usable, its resources are kept. */
  | 'suspended'
  /** Anything in between (a step cut short by a crash): must be converged. */
  | 'partial';

/** One lease's access on the host, as `Provisioner.list` finds it. */
export interface HostLease {
  leaseId: string;
  state: HostState;
}

/** One check of a probe: what was tried and what came of it. */
export interface ProbeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a provisioner can do on this host, found at enrolment (and at agent start). */
export interface ProbeResult {
  /** False: this provisioner cannot deliver on this host; `checks` say why. */
  ok: boolean;
  forms: DeliveryForm[];
  checks: ProbeCheck[];
  /** Facts for the seller and the market (cgroup version, runtime, sshd port, …). */
  capabilities: Record<string, string | number | boolean>;
}

/**
 * A way of delivering leases. Every operation is idempotent and safe to repeat after a crash at
 * any point: repeating it converges to the state it names (docs/delivery.md, "Contract").
 */
export interface Provisioner {
  /** Stable name (`ssh`, `api-gateway`, `job`, `ctr`, or a seller's own). */
  readonly name: string;
  /** The forms it delivers. */
  readonly forms: readonly DeliveryForm[];
  /** Checks that it can work on this host; never throws (a failure is `ok: false`). */
  probe(): Promise<ProbeResult>;
  /**
   * Makes the lease's access exist and work (from nothing, partial, or suspended), and returns
   * how to reach it. Repeating it returns access that works; where the access carries a secret
   * (a token), a repeat issues a new one and the previous one stops working.
   * Throws `DeliveryError` (`invalid_grant`) for a request it can never fulfil.
   */
  grant(lease: LeaseGrant): Promise<Access>;
  /** Cuts access at once, keeps the lease's resources and files. A lease it does not hold: no-op. */
  suspend(leaseId: string): Promise<void>;
  /** Restores access cut by `suspend` (the same credentials work again). */
  resume(leaseId: string): Promise<void>;
  /** Cuts access and removes everything of the lease. A lease it does not hold: no-op. */
  revoke(leaseId: string): Promise<void>;
  /** Every lease of which something exists on the host, whatever its state. */
  list(): Promise<HostLease[]>;
  /** Releases listeners and timers (not the leases: they stay on the host). */
  close?(): Promise<void>;
}

/** A plug-in module's default export: builds a provisioner from its JSON settings. */
export type ProvisionerFactory = (settings: Record<string, unknown>) => Provisioner;

export type DeliveryErrorCode =
  /** The request can never be fulfilled as asked (no SSH key, malformed key or image name). */
  | 'invalid_grant'
  /** The host refused a step (a command failed); repeating may succeed. */
  | 'host_failure'
  /** The provisioner cannot work on this host (its probe failed). */
  | 'unavailable';

/** A provisioner's failure; `code` is stable, `message` names what was wrong and never a secret. */
export class DeliveryError extends Error {
  readonly code: DeliveryErrorCode;
  constructor(code: DeliveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
    this.code = code;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lease ids become account, cgroup and container names: only canonical lower-case UUIDs. */
export function checkLeaseId(leaseId: string): string {
  if (typeof leaseId !== 'string' || !UUID.test(leaseId)) {
    throw new DeliveryError('invalid_grant', `lease id must be a lower-case UUID`);
  }
  return leaseId;
}

/** How many units of work (requests, jobs) a lease may run at once: one per slot, at least 1. */
export function concurrencyOf(lease: Pick<LeaseGrant, 'slots'>): number {
  return Math.max(1, Math.floor(lease.slots));
}

/** A probe result from its checks: ok when every check is. */
export function probeResult(
  forms: readonly DeliveryForm[],
  checks: ProbeCheck[],
  capabilities: ProbeResult['capabilities'] = {},
): ProbeResult {
  return { ok: checks.every((c) => c.ok), forms: [...forms], checks, capabilities };
}
