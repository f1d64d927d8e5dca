// The agent's control channel (docs/delivery.md, "The agent's control loop"): long-polls the
// market for the leases its resource must serve, converges the host to them through `Delivery`
// (reconcile) and reports every step back. The reports are derived from what the market already
// recorded (`reported`) and what exists on the host, never from memory: a restart, a crash
// between a step and its report, or a lost answer repeats the report (recorded once by the
// market), never the step.
import type {
  AgentDeliveryLease,
  AgentDeliveryView,
  DeliveryCapabilities,
  DeliveryReport,
} from '@suanli/contracts';
import type { SlotSpec } from '@suanli/units';
import { agentToken } from '../lease-client.js';
import type { Jwk } from '../../shared/signing.js';
import type { Delivery } from './delivery.js';
import type {
  Access,
  DeliveryErrorCode,
  DeliveryForm,
  HostLease,
  HostState,
} from './provisioner.js';
import type { DesiredLease } from './reconcile.js';

/** What the host holds of a lease: a state, nothing (`absent`) or not known this round. */
export type HostView = HostState | 'absent' | 'unknown';

/** A failed step of this round, by lease. */
export interface StepFailure {
  code: DeliveryErrorCode;
  error: string;
}

/** What the agent does after a round's reconcile, per lease. */
export type Decision =
  | { kind: 'report'; leaseId: string; report: DeliveryReport }
  /** Grant again for the access to report (a grant whose report was lost): converges, no harm. */
  | { kind: 'grant'; leaseId: string };

/** The market's lease as the provisioners want it. */
export function toDesired(l: AgentDeliveryLease): DesiredLease {
  return {
    leaseId: l.leaseId,
    form: l.form,
    slots: l.slots,
    spec: l.spec as SlotSpec,
    state: l.desired,
    ...(l.sshPublicKeys.length > 0 ? { sshPublicKeys: l.sshPublicKeys } : {}),
  };
}

/**
 * What the host holds of each lease, by the provisioner that serves its form: `unknown` when
 * that provisioner could not list this round (or none serves the form).
 */
export function hostViews(
  leases: readonly Pick<AgentDeliveryLease, 'leaseId' | 'form'>[],
  observed: ReadonlyMap<string, readonly HostLease[]>,
  route: (form: DeliveryForm) => string | undefined,
): Map<string, HostView> {
  const out = new Map<string, HostView>();
  for (const l of leases) {
    const name = route(l.form);
    const listed = name === undefined ? undefined : observed.get(name);
    if (listed === undefined) {
      out.set(l.leaseId, 'unknown');
      continue;
    }
    const states = listed.filter((h) => h.leaseId === l.leaseId).map((h) => h.state);
    out.set(
      l.leaseId,
      states.length === 0 ? 'absent' : states.every((s) => s === states[0]) ? states[0] : 'partial',
    );
  }
  return out;
}

/** `provisioning` reports due before a round: leases the market waits for, once per version. */
export function provisioningReports(
  leases: readonly AgentDeliveryLease[],
  alreadySent: ReadonlySet<string>,
): Decision[] {
  return leases
    .filter(
      (l) =>
        l.desired === 'active' &&
        l.awaitingAccess &&
        l.reported === null &&
        !alreadySent.has(`${l.leaseId}:${l.version}`),
    )
    .map((l) => ({
      kind: 'report',
      leaseId: l.leaseId,
      report: { step: 'provisioning', version: l.version },
    }));
}

const MAX_REASON = 500;

/**
 * The reports (and re-grants) due after a round, from the market's view, the host afterwards,
 * the access of this round's grants and its failures. Pure.
 *
 * - ended: nothing left on the host → `revoked`;
 * - suspended: suspended or nothing on the host → `suspended` (once per version);
 * - active and active on the host: this round's grant → `granted` with its access; else nothing
 *   recorded for the version yet → `granted` after a re-grant when the market still waits for
 *   the access (the first grant's report was lost), `resumed` otherwise;
 * - a failed step → `failed` with its code (`invalid_grant` ends a lease awaiting access);
 * - a host that could not be listed, or a step still undone: nothing (the next round retries).
 */
export function decideReports(
  leases: readonly AgentDeliveryLease[],
  host: ReadonlyMap<string, HostView>,
  granted: ReadonlyMap<string, Access>,
  failed: ReadonlyMap<string, StepFailure>,
): Decision[] {
  const out: Decision[] = [];
  const report = (l: AgentDeliveryLease, r: Omit<DeliveryReport, 'version'>) =>
    out.push({ kind: 'report', leaseId: l.leaseId, report: { ...r, version: l.version } });
  for (const l of leases) {
    const h = host.get(l.leaseId) ?? 'unknown';
    const failure = failed.get(l.leaseId);
    if (failure !== undefined) {
      report(l, { step: 'failed', code: failure.code, reason: failure.error.slice(0, MAX_REASON) });
      continue;
    }
    if (h === 'unknown') continue;
    switch (l.desired) {
      case 'ended':
        if (h === 'absent') report(l, { step: 'revoked' });
        break;
      case 'suspended':
        if ((h === 'absent' || h === 'suspended') && l.reported !== 'suspended')
          report(l, { step: 'suspended' });
        break;
      case 'active': {
        if (h !== 'active') break;
        const access = granted.get(l.leaseId);
        if (access !== undefined) report(l, { step: 'granted', access });
        else if (l.reported === null) {
          if (l.awaitingAccess) out.push({ kind: 'grant', leaseId: l.leaseId });
          else report(l, { step: 'resumed' });
        }
        break;
      }
    }
  }
  return out;
}

/** The market side of the channel, over the agent's enrolment credentials. */
export interface ControlChannel {
  capabilities(caps: DeliveryCapabilities): Promise<{ forms: string[] }>;
  view(
    cursor: string | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<AgentDeliveryView>;
  report(leaseId: string, report: DeliveryReport): Promise<{ recorded: boolean; state: string }>;
}

export interface ControlLoopOptions {
  delivery: Delivery;
  channel: ControlChannel;
  /** The fixed reconcile interval: a long-poll waits at most this long (1..30 s, default 30). */
  intervalSeconds?: number;
  /** Structured log lines (never a secret: access is not logged). */
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** Backoff after a failed view, doubled up to the interval (default 500 ms). */
  retryMs?: number;
}

export interface RoundSummary {
  cursor: string;
  leases: number;
  steps: number;
  reports: number;
  failures: number;
}

/**
 * Runs the channel: probes and reports capabilities, then round after round takes the market's
 * view (at once at start, then long-polls up to the interval), reconciles the host to it and
 * reports. Every round reconciles the whole view, so one answer at least every interval is the
 * fixed-interval reconcile, and whatever a crash, a cut or a lost message left is converged.
 */
export class ControlLoop {
  private readonly delivery: Delivery;
  private readonly channel: ControlChannel;
  private readonly interval: number;
  private readonly log: NonNullable<ControlLoopOptions['log']>;
  private readonly retryMs: number;
  /** `leaseId:version` whose `provisioning` was reported by this process (only an optimization). */
  private readonly provisioningSent = new Set<string>();
  private cursor: string | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(options: ControlLoopOptions) {
    this.delivery = options.delivery;
    this.channel = options.channel;
    this.interval = Math.min(30, Math.max(1, Math.floor(options.intervalSeconds ?? 30)));
    this.log = options.log ?? (() => undefined);
    this.retryMs = options.retryMs ?? 500;
  }

  /** Probes every provisioner and tells the market which forms this host delivers. */
  async reportCapabilities(): Promise<{ forms: string[] }> {
    const probes = await this.delivery.probe();
    const provisioners = Object.entries(probes).map(([name, p]) => {
      const failed = p.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      return {
        name,
        ok: p.ok,
        forms: p.forms,
        ...(failed.length > 0 ? { detail: failed.join('; ').slice(0, 1000) } : {}),
      };
    });
    const r = await this.channel.capabilities({ provisioners });
    this.log('delivery capabilities reported', { forms: r.forms, provisioners });
    return r;
  }

  /** One round: the view (long-poll after the first), reconcile, reports. */
  async round(waitSeconds = this.cursor === undefined ? 0 : this.interval): Promise<RoundSummary> {
    const view = await this.channel.view(this.cursor, waitSeconds, this.abort.signal);
    const summary = await this.apply(view.leases);
    this.cursor = view.cursor;
    return { cursor: view.cursor, ...summary };
  }

  /** Converges the host to `leases` and reports; the steps and reports of one round. */
  async apply(leases: readonly AgentDeliveryLease[]): Promise<Omit<RoundSummary, 'cursor'>> {
    let reports = 0;
    let failures = 0;
    const send = async (leaseId: string, report: DeliveryReport): Promise<void> => {
      try {
        await this.channel.report(leaseId, report);
        reports += 1;
        if (report.step === 'provisioning')
          this.provisioningSent.add(`${leaseId}:${report.version}`);
        this.log('delivery step reported', { leaseId, step: report.step, version: report.version });
      } catch (err) {
        // The step stays on the host: the next round derives the same report again.
        failures += 1;
        this.log('delivery report failed', {
          leaseId,
          step: report.step,
          error: (err as Error).message,
        });
      }
    };
    for (const d of provisioningReports(leases, this.provisioningSent))
      if (d.kind === 'report') await send(d.leaseId, d.report);

    const desired = leases.map(toDesired);
    const result = await this.delivery.reconcile(desired);
    const granted = new Map<string, Access>();
    const failed = new Map<string, StepFailure>();
    for (const r of result.results) {
      if (r.ok && r.step.op === 'grant' && r.access !== undefined)
        granted.set(r.step.leaseId, r.access);
      if (!r.ok)
        failed.set(r.step.leaseId, { code: r.code ?? 'host_failure', error: r.error ?? 'failed' });
    }
    for (const leaseId of result.plan.unserved)
      failed.set(leaseId, { code: 'unavailable', error: 'no provisioner here delivers its form' });
    for (const u of result.unlisted)
      this.log('delivery provisioner could not list', {
        provisioner: u.provisioner,
        error: u.error,
      });

    const { observed } = await this.delivery.observe();
    const host = hostViews(leases, observed, (f) => this.delivery.route(f)?.name);
    const byId = new Map(desired.map((d) => [d.leaseId, d]));
    for (const d of decideReports(leases, host, granted, failed)) {
      if (d.kind === 'report') {
        await send(d.leaseId, d.report);
        continue;
      }
      const lease = byId.get(d.leaseId)!;
      const version = leases.find((l) => l.leaseId === d.leaseId)!.version;
      try {
        const access = await this.delivery.grant(lease);
        await send(d.leaseId, { step: 'granted', version, access });
      } catch (err) {
        const code = (err as { code?: DeliveryErrorCode }).code ?? 'host_failure';
        await send(d.leaseId, {
          step: 'failed',
          version,
          code,
          reason: (err as Error).message.slice(0, MAX_REASON),
        });
      }
    }
    for (const r of result.results.filter((x) => !x.ok))
      this.log('delivery step failed', {
        leaseId: r.step.leaseId,
        op: r.step.op,
        code: r.code,
        error: r.error,
      });
    return { leases: leases.length, steps: result.results.length, reports, failures };
  }

  /** Reports capabilities (retried until the market answers), then runs rounds until `stop`. */
  start(): void {
    if (this.running !== undefined) return;
    this.running = this.run();
  }

  private async run(): Promise<void> {
    let backoff = this.retryMs;
    let capsReported = false;
    while (!this.stopped) {
      try {
        if (!capsReported) {
          await this.reportCapabilities();
          capsReported = true;
        }
        const s = await this.round();
        if (s.steps > 0 || s.reports > 0) this.log('delivery round', { ...s });
        backoff = this.retryMs;
      } catch (err) {
        this.log('delivery round failed', { error: (err as Error).message, retryInMs: backoff });
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.interval * 1000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Stops after the round in progress (a long-poll answers within the interval). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.running;
  }
}

/** The channel over HTTP, each request signed with the agent's enrolment key. */
export function httpControlChannel(
  marketApiUrl: string,
  agentId: string,
  privateJwk: Jwk,
  fetchImpl: typeof fetch = fetch,
): ControlChannel {
  const call = async <T>(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T> => {
    const token = await agentToken(agentId, privateJwk);
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetchImpl(new URL(path, marketApiUrl), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    if (!res.ok) throw new Error(`${method} ${path.split('?')[0]}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    capabilities: (caps) => call('PUT', '/v1/agents/me/delivery/capabilities', caps, 10_000),
    view: (cursor, waitSeconds, signal) => {
      const q = new URLSearchParams({ waitSeconds: String(waitSeconds) });
      if (cursor !== undefined) q.set('cursor', cursor);
      // the long-poll answers within waitSeconds; beyond that plus a margin the market is gone
      return call(
        'GET',
        `/v1/agents/me/delivery?${q}`,
        undefined,
        (waitSeconds + 15) * 1000,
        signal,
      );
    },
    report: (leaseId, report) =>
      call('POST', `/v1/agents/me/leases/${encodeURIComponent(leaseId)}/delivery`, report, 10_000),
  };
}
