// CTR delivery with a real OCI runtime: podman + runc from Debian, a storage of the test's own,
// an image built here from busybox (no registry is reachable). The buyer's container serves on
// a published loopback port; suspension pauses it, revoke removes it; reconcile removes what an
// ended lease left.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { busyboxImage, ROOT, runId } from '../../../../../test/support/delivery.js';
import { checkImage, CtrProvisioner } from './ctr-provisioner.js';
import { Delivery } from './delivery.js';
import type { LeaseGrant } from './provisioner.js';

const RUN = runId();
const STORE = join(ROOT, '.local', 'podman', RUN);
const PODMAN_ARGS = ['--root', join(STORE, 'root'), '--runroot', join(STORE, 'run')];
const IMAGE = `localhost/suanli/busybox:${RUN}`;
let ctr: CtrProvisioner;

const SERVE = ['sh', '-c', 'echo hello-ctr > /www/index.html && exec httpd -f -p 8080 -h /www'];
const ctrLease = (over: Partial<LeaseGrant['container']> = {}): LeaseGrant => ({
  leaseId: randomUUID(),
  form: 'CTR',
  slots: 2,
  spec: { cpu: 1, memGiB: 1 },
  container: { image: IMAGE, command: SERVE, port: 8080, ...over },
});

async function get(port: number, timeoutMs = 3000): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/index.html`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  return res.text();
}

async function serves(port: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await get(port);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function podman(args: string[]): string {
  return spawnSync('podman', [...PODMAN_ARGS, '--runtime', 'runc', ...args]).stdout.toString();
}

beforeAll(() => {
  busyboxImage(PODMAN_ARGS, IMAGE);
  ctr = new CtrProvisioner({ owner: `it-${RUN}`, podmanArgs: PODMAN_ARGS, probeImage: IMAGE });
}, 60_000);

afterAll(async () => {
  if (ctr !== undefined) for (const l of await ctr.list()) await ctr.revoke(l.leaseId);
  spawnSync('podman', [...PODMAN_ARGS, 'system', 'reset', '--force']);
  rmSync(STORE, { recursive: true, force: true });
}, 120_000);

describe('CtrProvisioner (podman + runc)', () => {
  it('probes podman and runs the probe image with runc', async () => {
    const probe = await ctr.probe();
    expect(probe.checks.filter((c) => !c.ok)).toEqual([]);
    expect(probe.capabilities).toMatchObject({ runtime: 'runc' });
  }, 60_000);

  it('runs the buyer’s image with the lease’s limits, pauses, resumes and removes it', async () => {
    const lease = ctrLease();
    const access = await ctr.grant(lease);
    expect(access).toMatchObject({ kind: 'container', host: '127.0.0.1', image: IMAGE });
    if (access.kind !== 'container' || access.port === undefined) throw new Error('no port');
    expect(await serves(access.port)).toBe('hello-ctr\n');
    const limits = podman([
      'inspect',
      '--format',
      '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}',
      access.name,
    ]);
    expect(limits.trim()).toBe(`${2 * 1e9} ${2 * 2 ** 30}`);
    expect(await ctr.grant(lease)).toEqual(access);

    await ctr.suspend(lease.leaseId);
    expect(await ctr.list()).toContainEqual({ leaseId: lease.leaseId, state: 'suspended' });
    await expect(get(access.port, 1500)).rejects.toThrow();
    await ctr.suspend(lease.leaseId);

    await ctr.resume(lease.leaseId);
    expect(await serves(access.port)).toBe('hello-ctr\n');
    await ctr.resume(lease.leaseId);

    await ctr.revoke(lease.leaseId);
    await expect(get(access.port, 1500)).rejects.toThrow();
    expect((await ctr.list()).map((l) => l.leaseId)).not.toContain(lease.leaseId);
    expect(podman(['ps', '-a', '--format', '{{.Names}}'])).not.toContain(access.name);
    await ctr.revoke(lease.leaseId);
  }, 120_000);

  it('refuses malformed and unknown images', async () => {
    for (const bad of ['Bad Image!', 'team/UPPER', 'x:', '-lead', 'a//b', '']) {
      expect(() => checkImage(bad)).toThrow(/OCI image reference/);
    }
    for (const good of [
      'busybox',
      'registry.example:5000/team/app:1.2',
      `a/b@sha256:${'0'.repeat(64)}`,
    ]) {
      expect(checkImage(good)).toBe(good);
    }
    await expect(ctr.grant(ctrLease({ image: 'not an image' }))).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    await expect(
      ctr.grant(ctrLease({ image: `localhost/suanli/none:${RUN}` })),
    ).rejects.toMatchObject({
      code: 'invalid_grant',
      message: expect.stringMatching(/not available on this host/),
    });
  }, 60_000);

  it('reconcile removes the container of an ended lease and starts a wanted one', async () => {
    const delivery = new Delivery({ provisioners: [ctr] });
    const ended = ctrLease({ command: ['sleep', '600'], port: undefined });
    await ctr.grant(ended);
    const wanted = ctrLease({ command: ['sleep', '600'], port: undefined });
    // a container whose grant crashed after `podman create`: exists, never started
    podman([
      'create',
      '--name',
      ctr.containerOf(wanted.leaseId),
      '--label',
      `suanli.owner=it-${RUN}`,
      '--label',
      `suanli.lease=${wanted.leaseId}`,
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=4096:4096',
      '--network',
      'none',
      IMAGE,
      'sleep',
      '600',
    ]);
    const result = await delivery.reconcile([
      { ...ended, state: 'ended' },
      { ...wanted, state: 'active' },
    ]);
    expect(result.results.filter((r) => !r.ok)).toEqual([]);
    expect(result.plan.steps.map((s) => s.op).sort()).toEqual(['resume', 'revoke']);
    expect(await ctr.list()).toEqual([{ leaseId: wanted.leaseId, state: 'active' }]);
    await ctr.revoke(wanted.leaseId);
  }, 120_000);
});
