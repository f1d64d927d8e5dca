import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type {
  AgentDeliveryLease,
  AgentDeliveryView,
  DeliveryReport,
  DeliveryStep,
} from '@suanli/contracts';
import { MemoryProvisioner } from '../../../../../test/support/memory-provisioner.js';
import {
  ControlLoop,
  decideReports,
  hostViews,
  provisioningReports,
  type ControlChannel,
  type HostView,
} from './control.js';
import { Delivery } from './delivery.js';
import { DeliveryError, type Access, type DeliveryForm } from './provisioner.js';

const ids = ['a', 'b', 'c', 'd'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
const [A, B, C] = ids;
const ACCESS: Access = { kind: 'ssh', host: 'h', port: 22, user: 'u', hostKeyFingerprints: [] };

function lease(over: Partial<AgentDeliveryLease> & { leaseId: string }): AgentDeliveryLease {
  return {
    form: 'VM',
    slots: 1,
    spec: { cpu: 1 },
    desired: 'active',
    version: '1',
    reported: null,
    awaitingAccess: false,
    sshPublicKeys: ['ssh-ed25519 AAAA'],
    ...over,
  };
}

const steps = (ds: ReturnType<typeof decideReports>) =>
  ds.map((d) => (d.kind === 'grant' ? `grant ${d.leaseId}` : `${d.report.step} ${d.leaseId}`));

describe('decideReports (pure)', () => {
  const none = new Map();
  it('reports what the host shows for the version, once, and nothing while unknown', () => {
    const leases = [
      lease({ leaseId: A, desired: 'ended' }),
      lease({ leaseId: B, desired: 'suspended' }),
      lease({ leaseId: C, desired: 'active', reported: null }),
    ];
    const host = (a: HostView, b: HostView, c: HostView) =>
      new Map([
        [A, a],
        [B, b],
        [C, c],
      ]);
    expect(steps(decideReports(leases, host('absent', 'suspended', 'active'), none, none))).toEqual(
      [`revoked ${A}`, `suspended ${B}`, `resumed ${C}`],
    );
    // steps not done yet (or the host not listed): nothing reported
    expect(steps(decideReports(leases, host('partial', 'active', 'partial'), none, none))).toEqual(
      [],
    );
    expect(steps(decideReports(leases, host('unknown', 'unknown', 'unknown'), none, none))).toEqual(
      [],
    );
    // already recorded for this version: nothing again
    const recorded = [
      lease({ leaseId: B, desired: 'suspended', reported: 'suspended' }),
      lease({ leaseId: C, reported: 'granted' }),
    ];
    expect(steps(decideReports(recorded, host('absent', 'absent', 'active'), none, none))).toEqual(
      [],
    );
  });

  it('reports a grant with its access; re-grants a lease awaiting access whose report was lost', () => {
    const awaiting = lease({ leaseId: A, awaitingAccess: true });
    const host = new Map<string, HostView>([[A, 'active']]);
    const d = decideReports([awaiting], host, new Map([[A, ACCESS]]), none);
    expect(d).toEqual([
      { kind: 'report', leaseId: A, report: { step: 'granted', version: '1', access: ACCESS } },
    ]);
    expect(steps(decideReports([awaiting], host, none, none))).toEqual([`grant ${A}`]);
  });

  it('reports a failed step with its code, cut to 500 characters', () => {
    const d = decideReports(
      [lease({ leaseId: A, awaitingAccess: true })],
      new Map([[A, 'absent']]),
      none,
      new Map([[A, { code: 'invalid_grant' as const, error: 'x'.repeat(600) }]]),
    );
    expect(d).toEqual([
      {
        kind: 'report',
        leaseId: A,
        report: { step: 'failed', version: '1', code: 'invalid_grant', reason: 'x'.repeat(500) },
      },
    ]);
  });

  it('hostViews: by the provisioner of the form; unknown when it could not list', () => {
    const route = (f: DeliveryForm) => ({ VM: 'ssh', API: 'gw' })[f as 'VM' | 'API'];
    const observed = new Map([
      ['ssh', [{ leaseId: A, state: 'active' as const }]],
      ['gw', [{ leaseId: A, state: 'active' as const }]],
    ]);
    const v = hostViews(
      [
        { leaseId: A, form: 'VM' },
        { leaseId: B, form: 'VM' },
        { leaseId: C, form: 'JOB' },
      ],
      new Map([['ssh', observed.get('ssh')!]]),
      route,
    );
    expect([...v]).toEqual([
      [A, 'active'],
      [B, 'absent'],
      [C, 'unknown'],
    ]);
  });

  it('provisioningReports: leases awaiting access, once per version', () => {
    const l = lease({ leaseId: A, awaitingAccess: true, version: '7' });
    expect(provisioningReports([l], new Set())).toHaveLength(1);
    expect(provisioningReports([l], new Set([`${A}:7`]))).toEqual([]);
    expect(provisioningReports([{ ...l, reported: 'granted' }], new Set())).toEqual([]);
  });
});

/**
 * The market's side of the channel as a model: versions move when the desired state does, a
 * step is recorded once per (lease, step, version), a grant ends the wait for access, an
 * `invalid_grant` failure ends the lease. Faults: reports that fail (a cut after the step).
 */
class MemoryMarket implements ControlChannel {
  private seq = 0;
  readonly leases = new Map<
    string,
    {
      form: DeliveryForm;
      desired: AgentDeliveryLease['desired'];
      version: string;
      awaiting: boolean;
    }
  >();
  readonly recorded: { leaseId: string; step: DeliveryStep; version: string }[] = [];
  readonly access = new Map<string, Access>();
  failReports = 0;
  forms: string[] = [];

  set(leaseId: string, desired: AgentDeliveryLease['desired'], form: DeliveryForm = 'VM'): void {
    const l = this.leases.get(leaseId);
    this.leases.set(leaseId, {
      form,
      desired,
      version: String(++this.seq),
      awaiting: l === undefined ? true : l.awaiting,
    });
  }

  async capabilities(caps: { provisioners: { ok: boolean; forms: string[] }[] }) {
    this.forms = caps.provisioners.filter((p) => p.ok).flatMap((p) => p.forms);
    return { forms: this.forms };
  }

  private stepOf(leaseId: string, version: string): DeliveryStep | null {
    const r = this.recorded.filter(
      (e) =>
        e.leaseId === leaseId &&
        e.version === version &&
        e.step !== 'failed' &&
        e.step !== 'provisioning',
    );
    return r.length === 0 ? null : r[r.length - 1].step;
  }

  async view(): Promise<AgentDeliveryView> {
    const leases = [...this.leases]
      .filter(([id, l]) => l.desired !== 'ended' || this.stepOf(id, l.version) !== 'revoked')
      .map(([leaseId, l]) =>
        lease({
          leaseId,
          form: l.form,
          desired: l.desired,
          version: l.version,
          awaitingAccess: l.awaiting,
          reported: this.stepOf(leaseId, l.version),
        }),
      );
    return { cursor: String(this.seq), leases };
  }

  async report(leaseId: string, r: DeliveryReport) {
    if (this.failReports > 0) {
      this.failReports -= 1;
      throw new Error('network cut');
    }
    const l = this.leases.get(leaseId)!;
    if (r.step === 'granted') {
      l.awaiting = false;
      this.access.set(leaseId, r.access!);
    }
    if (r.step === 'failed' && r.code === 'invalid_grant' && l.awaiting) this.set(leaseId, 'ended');
    const dup = this.recorded.some(
      (e) => e.leaseId === leaseId && e.step === r.step && e.version === r.version,
    );
    if (!dup) this.recorded.push({ leaseId, step: r.step, version: r.version });
    return { recorded: !dup, state: l.desired };
  }

  stepsOf(leaseId: string): string[] {
    return this.recorded.filter((e) => e.leaseId === leaseId).map((e) => e.step);
  }
}

function agent(market: MemoryMarket, ssh: MemoryProvisioner) {
  return new ControlLoop({ delivery: new Delivery({ provisioners: [ssh] }), channel: market });
}

describe('ControlLoop (in-memory provisioner and market)', () => {
  it('walks grant → suspend → resume → end, each step done and reported once', async () => {
    const market = new MemoryMarket();
    const ssh = new MemoryProvisioner('ssh', ['BM', 'VM']);
    const loop = agent(market, ssh);
    expect(await loop.reportCapabilities()).toEqual({ forms: ['BM', 'VM'] });

    market.set(A, 'active');
    await loop.apply((await market.view()).leases);
    expect(market.stepsOf(A)).toEqual(['provisioning', 'granted']);
    expect(market.access.get(A)).toMatchObject({ kind: 'http' });
    // nothing changed: nothing done, nothing reported
    const calls = ssh.calls.length;
    expect(await loop.apply((await market.view()).leases)).toMatchObject({ steps: 0, reports: 0 });
    expect(ssh.calls.length).toBe(calls);

    market.set(A, 'suspended');
    await loop.apply((await market.view()).leases);
    expect(ssh.leases.get(A)).toBe('suspended');
    market.set(A, 'active');
    await loop.apply((await market.view()).leases);
    expect(ssh.leases.get(A)).toBe('active');
    market.set(A, 'ended');
    await loop.apply((await market.view()).leases);
    expect(ssh.leases.has(A)).toBe(false);
    expect(market.stepsOf(A)).toEqual([
      'provisioning',
      'granted',
      'suspended',
      'resumed',
      'revoked',
    ]);
    expect((await market.view()).leases).toEqual([]);
  });

  it('a lost report is derived again, the step is not repeated; a restart repeats nothing', async () => {
    const market = new MemoryMarket();
    const ssh = new MemoryProvisioner('ssh', ['BM', 'VM']);
    market.set(A, 'active');
    market.set(B, 'active');
    await agent(market, ssh).apply((await market.view()).leases);
    market.set(A, 'suspended');
    market.failReports = 1; // the suspension is done, its report is lost
    await agent(market, ssh).apply((await market.view()).leases);
    expect(market.stepsOf(A)).toEqual(['provisioning', 'granted']);

    ssh.calls.length = 0;
    // a new process: reports the suspension without suspending again, repeats nothing else
    await agent(market, ssh).apply((await market.view()).leases);
    expect(market.stepsOf(A)).toEqual(['provisioning', 'granted', 'suspended']);
    expect(ssh.calls).toEqual([]);

    // a grant whose report was lost: the market still waits; the next round grants again
    market.set(C, 'active');
    market.failReports = 2; // provisioning and granted lost
    await agent(market, ssh).apply((await market.view()).leases);
    expect(market.stepsOf(C)).toEqual([]);
    await agent(market, ssh).apply((await market.view()).leases);
    expect(market.stepsOf(C)).toEqual(['provisioning', 'granted']);
  });

  it('revokes a lease the market no longer lists (a lost revoke); refused grants end the lease', async () => {
    const market = new MemoryMarket();
    const ssh = new MemoryProvisioner('ssh', ['BM', 'VM']);
    ssh.leases.set(B, 'active'); // left by a lease that ended while the agent was down
    market.set(A, 'active');
    ssh.grant = () => Promise.reject(new DeliveryError('invalid_grant', 'no usable SSH key'));
    const loop = agent(market, ssh);
    await loop.apply((await market.view()).leases);
    expect(ssh.leases.has(B)).toBe(false);
    expect(market.stepsOf(A)).toEqual(['provisioning', 'failed']);
    expect(market.leases.get(A)!.desired).toBe('ended');
    await loop.apply((await market.view()).leases);
    expect(market.stepsOf(A)).toEqual(['provisioning', 'failed', 'revoked']);
  });

  it('after any faults and restarts, one clean round leaves the host as the market wants (property)', async () => {
    const op = fc.record({
      lease: fc.constantFrom(...ids),
      desired: fc.constantFrom<AgentDeliveryLease['desired']>('active', 'suspended', 'ended'),
      lostReports: fc.integer({ min: 0, max: 3 }),
      restart: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        const market = new MemoryMarket();
        const ssh = new MemoryProvisioner('ssh', ['BM', 'VM']);
        let loop = agent(market, ssh);
        for (const o of ops) {
          const prev = market.leases.get(o.lease)?.desired;
          if (prev === 'ended') continue; // an ended lease stays ended
          if (prev === undefined && o.desired !== 'active') continue; // leases start active
          market.set(o.lease, o.desired);
          market.failReports = o.lostReports;
          if (o.restart) loop = agent(market, ssh);
          await loop.apply((await market.view()).leases);
        }
        market.failReports = 0;
        await loop.apply((await market.view()).leases);
        await loop.apply((await market.view()).leases);
        for (const [id, l] of market.leases) {
          const h = ssh.leases.get(id);
          if (l.desired === 'ended') expect(h).toBeUndefined();
          else if (l.desired === 'suspended')
            expect(h === undefined || h === 'suspended').toBe(true);
          else expect(h).toBe('active');
        }
        // every step recorded at most once per version, and a clean round does nothing more
        const keys = market.recorded.map((e) => `${e.leaseId}:${e.step}:${e.version}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(await loop.apply((await market.view()).leases)).toMatchObject({
          steps: 0,
          reports: 0,
        });
      }),
      { numRuns: 150 },
    );
  });
});
