// The agent-side delivery API (docs/delivery.md, "Agent API"): routes each lease to the
// provisioner of its form, never runs two steps of one lease at once, and reconciles.
import {
  DeliveryError,
  type Access,
  type DeliveryErrorCode,
  type DeliveryForm,
  type HostLease,
  type LeaseGrant,
  type ProbeResult,
  type Provisioner,
} from './provisioner.js';
import { planReconcile, type DesiredLease, type Plan, type Step } from './reconcile.js';

export interface StepResult {
  step: Step;
  ok: boolean;
  /** For a successful grant: how the buyer reaches it (may carry a secret: never log it). */
  access?: Access;
  code?: DeliveryErrorCode;
  error?: string;
}

export interface ReconcileResult {
  plan: Plan;
  results: StepResult[];
  /** Provisioners whose `list` failed this round (their leases wait for the next round). */
  unlisted: { provisioner: string; error: string }[];
}

export interface DeliveryOptions {
  provisioners: Provisioner[];
  /** Form → provisioner name; default: the first provisioner that lists the form. */
  routes?: Partial<Record<DeliveryForm, string>>;
  /** Steps of different leases run at once during a reconcile (default 4). */
  concurrency?: number;
}

type LeaseRef = Pick<LeaseGrant, 'leaseId' | 'form'>;

export class Delivery {
  private readonly byName = new Map<string, Provisioner>();
  private readonly routes = new Map<DeliveryForm, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly concurrency: number;

  constructor(options: DeliveryOptions) {
    for (const p of options.provisioners) {
      if (this.byName.has(p.name)) throw new Error(`two provisioners named ${p.name}`);
      this.byName.set(p.name, p);
      for (const f of p.forms) if (!this.routes.has(f)) this.routes.set(f, p.name);
    }
    for (const [form, name] of Object.entries(options.routes ?? {})) {
      if (!this.byName.has(name)) throw new Error(`route ${form} → unknown provisioner ${name}`);
      this.routes.set(form as DeliveryForm, name);
    }
    this.concurrency = options.concurrency ?? 4;
  }

  /** The provisioner that delivers `form`, if any. */
  route(form: DeliveryForm): Provisioner | undefined {
    const name = this.routes.get(form);
    return name === undefined ? undefined : this.byName.get(name);
  }

  /**
   * Every provisioner's probe, by name (at enrolment and at start): a provisioner that cannot
   * work here says so, and the forms it would deliver are not offered.
   */
  async probe(): Promise<Record<string, ProbeResult>> {
    const out: Record<string, ProbeResult> = {};
    await Promise.all(
      [...this.byName.values()].map(async (p) => {
        try {
          out[p.name] = await p.probe();
        } catch (err) {
          out[p.name] = {
            ok: false,
            forms: [...p.forms],
            checks: [{ name: 'probe', ok: false, detail: (err as Error).message }],
            capabilities: {},
          };
        }
      }),
    );
    return out;
  }

  grant(lease: LeaseGrant): Promise<Access> {
    return this.serial(lease.leaseId, () => this.provisionerOf(lease).grant(lease));
  }

  suspend(lease: LeaseRef): Promise<void> {
    return this.serial(lease.leaseId, () => this.provisionerOf(lease).suspend(lease.leaseId));
  }

  resume(lease: LeaseRef): Promise<void> {
    return this.serial(lease.leaseId, () => this.provisionerOf(lease).resume(lease.leaseId));
  }

  revoke(lease: LeaseRef): Promise<void> {
    return this.serial(lease.leaseId, () => this.provisionerOf(lease).revoke(lease.leaseId));
  }

  /** What exists on the host, per provisioner (those whose `list` failed are left out). */
  async observe(): Promise<{
    observed: Map<string, HostLease[]>;
    unlisted: ReconcileResult['unlisted'];
  }> {
    const observed = new Map<string, HostLease[]>();
    const unlisted: ReconcileResult['unlisted'] = [];
    await Promise.all(
      [...this.byName.values()].map(async (p) => {
        try {
          observed.set(p.name, await p.list());
        } catch (err) {
          unlisted.push({ provisioner: p.name, error: (err as Error).message });
        }
      }),
    );
    return { observed, unlisted };
  }

  /**
   * Converges the host to `desired` (the leases the agent should serve, with their states):
   * plans with `planReconcile` and carries the steps out, cuts first. A failed step is reported
   * and does not stop the others; the next reconcile retries it.
   */
  async reconcile(desired: readonly DesiredLease[]): Promise<ReconcileResult> {
    const { observed, unlisted } = await this.observe();
    const plan = planReconcile(desired, observed, (f) => this.routes.get(f));
    const byId = new Map(desired.map((d) => [d.leaseId, d]));
    const results: StepResult[] = [];
    // Cuts (revoke, suspend) all finish before any grant or resume starts.
    const cuts = plan.steps.filter((s) => s.op === 'revoke' || s.op === 'suspend');
    const opens = plan.steps.filter((s) => s.op === 'resume' || s.op === 'grant');
    for (const group of [cuts, opens]) {
      results.push(...(await this.runAll(group, (s) => this.runStep(s, byId.get(s.leaseId)))));
    }
    return { plan, results, unlisted };
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((p) => p.close?.()));
  }

  private async runStep(step: Step, lease: DesiredLease | undefined): Promise<StepResult> {
    const p = this.byName.get(step.provisioner);
    try {
      if (p === undefined) throw new Error(`unknown provisioner ${step.provisioner}`);
      return await this.serial(step.leaseId, async () => {
        switch (step.op) {
          case 'grant':
            if (lease === undefined) throw new Error('grant without a lease');
            return { step, ok: true, access: await p.grant(lease) };
          case 'suspend':
            await p.suspend(step.leaseId);
            return { step, ok: true };
          case 'resume':
            await p.resume(step.leaseId);
            return { step, ok: true };
          case 'revoke':
            await p.revoke(step.leaseId);
            return { step, ok: true };
        }
      });
    } catch (err) {
      return {
        step,
        ok: false,
        code: err instanceof DeliveryError ? err.code : 'host_failure',
        error: (err as Error).message,
      };
    }
  }

  private async runAll<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
    return out;
  }

  private provisionerOf(lease: LeaseRef): Provisioner {
    const p = this.route(lease.form);
    if (p === undefined) {
      throw new DeliveryError('unavailable', `no provisioner delivers form ${lease.form} here`);
    }
    return p;
  }

  /** Runs `fn` after every earlier step of the same lease has finished. */
  private serial<T>(leaseId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(leaseId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(leaseId, tail);
    void tail.then(() => {
      if (this.locks.get(leaseId) === tail) this.locks.delete(leaseId);
    });
    return run;
  }
}
