import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Delivery } from './delivery.js';
import type { DeliveryForm, HostLease, HostState } from './provisioner.js';
import { planReconcile, type DesiredLease, type Step } from './reconcile.js';
import { MemoryProvisioner } from '../../../../../test/support/memory-provisioner.js';

// Two provisioners, as on a host that serves SSH (BM, VM) and the gateway (API); JOB is not
// served here (its leases are `unserved`).
const ROUTES: Partial<Record<DeliveryForm, string>> = { BM: 'ssh', VM: 'ssh', API: 'gw' };
const route = (f: DeliveryForm) => ROUTES[f];
const PROVISIONERS = ['ssh', 'gw'];

type Host = Map<string, Map<string, HostState>>;

const leaseIds = ['a', 'b', 'c', 'd', 'e', 'f'].map(
  (c) => `${c.repeat(8)}-0000-4000-8000-000000000000`,
);
const desiredArb = fc.uniqueArray(
  fc.record({
    leaseId: fc.constantFrom(...leaseIds),
    form: fc.constantFrom<DeliveryForm>('BM', 'VM', 'API', 'JOB'),
    state: fc.constantFrom<DesiredLease['state']>('active', 'suspended', 'ended'),
  }),
  { selector: (d) => d.leaseId, maxLength: 6 },
);
const hostArb = fc
  .tuple(
    ...PROVISIONERS.map(() =>
      fc.uniqueArray(
        fc.record({
          leaseId: fc.constantFrom(...leaseIds),
          state: fc.constantFrom<HostState>('active', 'suspended', 'partial'),
        }),
        { selector: (h) => h.leaseId, maxLength: 6 },
      ),
    ),
  )
  .map(
    (lists): Host =>
      new Map(PROVISIONERS.map((p, i) => [p, new Map(lists[i].map((h) => [h.leaseId, h.state]))])),
  );

function desiredOf(d: { leaseId: string; form: DeliveryForm; state: DesiredLease['state'] }) {
  return { ...d, slots: 1, spec: { cpu: 1 } } satisfies DesiredLease;
}

function observed(host: Host): Map<string, HostLease[]> {
  return new Map(
    [...host].map(([p, m]) => [p, [...m].map(([leaseId, state]) => ({ leaseId, state }))]),
  );
}

/** What each step does to a model host when it runs to its end, or is cut short (`partial`). */
function apply(host: Host, step: Step, cutShort = false): void {
  const m = host.get(step.provisioner);
  if (m === undefined) throw new Error(`no provisioner ${step.provisioner}`);
  if (cutShort) {
    // a crash part-way through any step leaves something half-done behind
    m.set(step.leaseId, 'partial');
    return;
  }
  if (step.op === 'revoke') m.delete(step.leaseId);
  else if (step.op === 'suspend') m.set(step.leaseId, 'suspended');
  else m.set(step.leaseId, 'active');
}

/** The host serves exactly what `desired` says. */
function expectConverged(host: Host, desired: DesiredLease[]): void {
  const want = new Map(desired.map((d) => [d.leaseId, d]));
  for (const [p, m] of host) {
    for (const [leaseId, state] of m) {
      const d = want.get(leaseId);
      // nothing of an ended or unknown lease survives, nor on the wrong provisioner
      expect(d).toBeDefined();
      expect(d?.state).not.toBe('ended');
      expect(route(d!.form)).toBe(p);
      expect(state).toBe(d?.state);
    }
  }
  for (const d of desired) {
    const p = route(d.form);
    if (d.state === 'active' && p !== undefined) expect(host.get(p)?.get(d.leaseId)).toBe('active');
  }
}

describe('planReconcile', () => {
  it('converges any host to any set of leases in one plan, and then plans nothing', () => {
    fc.assert(
      fc.property(desiredArb, hostArb, (ds, host) => {
        const desired = ds.map(desiredOf);
        const plan = planReconcile(desired, observed(host), route);
        for (const s of plan.steps) apply(host, s);
        expectConverged(host, desired);
        expect(planReconcile(desired, observed(host), route).steps).toEqual([]);
        expect(plan.unserved).toEqual(
          desired
            .filter((d) => d.state === 'active' && route(d.form) === undefined)
            .map((d) => d.leaseId)
            .sort(),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('cuts access before it opens any', () => {
    fc.assert(
      fc.property(desiredArb, hostArb, (ds, host) => {
        const ops = planReconcile(ds.map(desiredOf), observed(host), route).steps.map((s) => s.op);
        const firstOpen = ops.findIndex((o) => o === 'grant' || o === 'resume');
        if (firstOpen >= 0) {
          expect(ops.slice(firstOpen).every((o) => o === 'grant' || o === 'resume')).toBe(true);
        }
      }),
    );
  });

  it('converges after crashes at any step of any round: an ended lease never keeps access', () => {
    fc.assert(
      fc.property(
        desiredArb,
        hostArb,
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 4 }),
        (ds, host, crashes) => {
          const desired = ds.map(desiredOf);
          // each round: the agent runs `at` steps, then dies inside the next one (or before it)
          for (const [at, inside] of crashes) {
            const { steps } = planReconcile(desired, observed(host), route);
            if (steps.length === 0) break;
            const cut = at % steps.length;
            for (const s of steps.slice(0, cut)) apply(host, s);
            if (inside) apply(host, steps[cut], true);
          }
          // the restarted agent reconciles once, uninterrupted
          for (const s of planReconcile(desired, observed(host), route).steps) apply(host, s);
          expectConverged(host, desired);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes the most restrictive of a lease listed twice', () => {
    const id = leaseIds[0];
    const host: Host = new Map([
      ['ssh', new Map([[id, 'active' as HostState]])],
      ['gw', new Map()],
    ]);
    const twice = [
      desiredOf({ leaseId: id, form: 'VM', state: 'active' }),
      desiredOf({ leaseId: id, form: 'VM', state: 'ended' }),
    ];
    expect(planReconcile(twice, observed(host), route).steps).toEqual([
      { op: 'revoke', leaseId: id, provisioner: 'ssh' },
    ]);
  });

  it('leaves a provisioner that could not list alone, and revokes what is on the wrong one', () => {
    const [a, b] = leaseIds;
    const only = new Map([['gw', [{ leaseId: a, state: 'active' as HostState }]]]);
    const desired = [
      desiredOf({ leaseId: a, form: 'VM', state: 'active' }),
      desiredOf({ leaseId: b, form: 'BM', state: 'active' }),
    ];
    expect(planReconcile(desired, only, route)).toEqual({
      steps: [{ op: 'revoke', leaseId: a, provisioner: 'gw' }],
      unserved: [],
    });
  });
});

describe('Delivery', () => {
  it('routes by form, runs one lease’s steps in order, reports failed steps and goes on', async () => {
    const ssh = new MemoryProvisioner('ssh', ['BM', 'VM']);
    const gw = new MemoryProvisioner('gw', ['API']);
    const delivery = new Delivery({ provisioners: [ssh, gw] });
    const [a, b, c] = leaseIds;
    // grant then revoke of one lease, issued together: the revoke waits for the grant
    await Promise.all([
      delivery.grant(desiredOf({ leaseId: a, form: 'VM', state: 'active' })),
      delivery.revoke({ leaseId: a, form: 'VM' }),
    ]);
    expect(ssh.calls).toEqual([`grant ${a}`, `revoke ${a}`]);
    expect(ssh.leases.has(a)).toBe(false);
    await expect(
      delivery.grant(desiredOf({ leaseId: a, form: 'JOB', state: 'active' })),
    ).rejects.toMatchObject({
      code: 'unavailable',
    });

    gw.leases.set(c, 'active'); // left over from a lease that ended while the agent was down
    gw.failGrant = true;
    const result = await delivery.reconcile([
      desiredOf({ leaseId: a, form: 'VM', state: 'active' }),
      desiredOf({ leaseId: b, form: 'API', state: 'active' }),
    ]);
    expect(result.results.map((r) => [r.step.op, r.step.leaseId, r.ok])).toEqual([
      ['revoke', c, true],
      ['grant', a, true],
      ['grant', b, false],
    ]);
    expect(result.results[2].error).toBe('host said no');
    expect(gw.leases.size).toBe(0);
    expect(ssh.leases.get(a)).toBe('active');
  });

  it('reports a probe that throws as a failed probe', async () => {
    const p = new MemoryProvisioner('x', ['JOB']);
    p.probe = () => Promise.reject(new Error('no cgroups'));
    const probes = await new Delivery({ provisioners: [p] }).probe();
    expect(probes.x).toMatchObject({ ok: false, checks: [{ ok: false, detail: 'no cgroups' }] });
  });
});
