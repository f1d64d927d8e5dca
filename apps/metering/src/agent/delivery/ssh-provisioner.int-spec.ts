// SSH delivery on a real OpenSSH server (its own sshd on a loopback port, own host key and
// config): the buyer logs in with the real `ssh` client and runs a command; suspension ends its
// sessions and refuses new ones; resume lets it back in; revoke removes account and files.
// Crashes are reproduced by leaving the host exactly as a step cut short leaves it.
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buyerKey, runId, sshFixture, sshRun } from '../../../../../test/support/delivery.js';
import { Delivery } from './delivery.js';
import { SshProvisioner } from './ssh-provisioner.js';
import type { LeaseGrant } from './provisioner.js';
import type { DesiredLease } from './reconcile.js';

const RUN = runId();
let fx: Awaited<ReturnType<typeof sshFixture>>;
let key: { file: string; publicKey: string };

const vm = (leaseId = randomUUID(), keys = [key.publicKey]): LeaseGrant => ({
  leaseId,
  form: 'VM',
  slots: 1,
  spec: { cpu: 2, memGiB: 4 },
  sshPublicKeys: keys,
});

function refused(r: { code: number | null; stderr: string }): void {
  expect(r.code).toBe(255);
  expect(r.stderr).toMatch(/Permission denied/);
}

beforeAll(async () => {
  fx = await sshFixture(`it-${RUN}`, `it-${RUN}`);
  key = buyerKey(fx.clientDir);
}, 60_000);

afterAll(async () => {
  await fx?.cleanup();
}, 60_000);

describe('SshProvisioner on a real sshd', () => {
  it('probes: sshd answers, reads keys from the keys dir; a closed port says so', async () => {
    const probe = await fx.provisioner.probe();
    expect(probe.checks.filter((c) => !c.ok)).toEqual([]);
    expect(probe).toMatchObject({ ok: true, forms: ['BM', 'VM'] });
    expect(String(probe.capabilities.sshd)).toMatch(/^SSH-2\.0-OpenSSH/);

    const closed = await new SshProvisioner({
      host: '127.0.0.1',
      port: 1,
      owner: `it-${RUN}`,
      keysDir: fx.sshd.keysDir,
      sshdConfig: fx.sshd.configFile,
    }).probe();
    expect(closed.ok).toBe(false);
    expect(closed.checks.find((c) => c.name === 'sshd')).toMatchObject({ ok: false });
  }, 30_000);

  it('grants a login that runs a command; suspend cuts the session and refuses; resume; revoke', async () => {
    const lease = vm();
    const access = await fx.provisioner.grant(lease);
    expect(access).toMatchObject({ kind: 'ssh', host: '127.0.0.1', port: fx.sshd.port });
    if (access.kind !== 'ssh') throw new Error('not ssh');
    expect(access.user).toMatch(/^sl-[0-9a-f]{16}$/);
    expect(access.hostKeyFingerprints).toEqual([expect.stringMatching(/^SHA256:/)]);

    const ok = await sshRun(
      fx.sshd,
      access.user,
      key.file,
      'id -un; echo delivered > ~/file; cat ~/file',
    );
    expect(ok).toMatchObject({ code: 0, stdout: `${access.user}\ndelivered\n` });
    // another key does not get in
    const other = buyerKey(fx.clientDir, `other-${RUN}`);
    refused(await sshRun(fx.sshd, access.user, other.file, 'true'));
    expect(await fx.provisioner.list()).toContainEqual({ leaseId: lease.leaseId, state: 'active' });

    // a session in progress when the lease is suspended ends
    const session = sshRun(fx.sshd, access.user, key.file, 'echo started; sleep 60; echo finished');
    await expectSoon(async () => expect((await fx.provisioner.list()).length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 1000));
    await fx.provisioner.suspend(lease.leaseId);
    const cut = await session;
    expect(cut.stdout).not.toMatch(/finished/);
    expect(cut.code).not.toBe(0);
    refused(await sshRun(fx.sshd, access.user, key.file, 'true'));
    expect(await fx.provisioner.list()).toContainEqual({
      leaseId: lease.leaseId,
      state: 'suspended',
    });
    await fx.provisioner.suspend(lease.leaseId); // repeat: no-op

    await fx.provisioner.resume(lease.leaseId);
    // resources kept: the file written before the suspension is there
    expect(await sshRun(fx.sshd, access.user, key.file, 'cat ~/file')).toMatchObject({
      code: 0,
      stdout: 'delivered\n',
    });
    await fx.provisioner.resume(lease.leaseId); // repeat: no-op

    await fx.provisioner.revoke(lease.leaseId);
    refused(await sshRun(fx.sshd, access.user, key.file, 'true'));
    expect(existsSync(`/home/${access.user}`)).toBe(false);
    expect(existsSync(fx.provisioner.keyFileOf(access.user))).toBe(false);
    expect(await fx.provisioner.accounts.get(lease.leaseId)).toBeUndefined();
    await fx.provisioner.revoke(lease.leaseId); // repeat: no-op
    expect((await fx.provisioner.list()).map((l) => l.leaseId)).not.toContain(lease.leaseId);
  }, 90_000);

  it('refuses a lease without a key or with a malformed one, before creating anything', async () => {
    const noKey = vm(randomUUID(), []);
    await expect(fx.provisioner.grant(noKey)).rejects.toMatchObject({
      code: 'invalid_grant',
      message: 'an SSH lease needs at least one SSH public key',
    });
    const bad = vm(randomUUID(), [key.publicKey, `command="sh" ${key.publicKey}`]);
    await expect(fx.provisioner.grant(bad)).rejects.toMatchObject({
      code: 'invalid_grant',
      message: expect.stringMatching(/^SSH key 2: SSH public key: unsupported key type/),
    });
    const ids = (await fx.provisioner.list()).map((l) => l.leaseId);
    expect(ids).not.toContain(noKey.leaseId);
    expect(ids).not.toContain(bad.leaseId);
  });

  it('repeats every step safely; a repeated grant replaces the keys', async () => {
    const lease = vm();
    const first = await fx.provisioner.grant(lease);
    const again = await fx.provisioner.grant(lease);
    expect(again).toEqual(first);
    const newKey = buyerKey(fx.clientDir, `new-${RUN}`);
    await fx.provisioner.grant({ ...lease, sshPublicKeys: [newKey.publicKey] });
    if (first.kind !== 'ssh') throw new Error('not ssh');
    refused(await sshRun(fx.sshd, first.user, key.file, 'true'));
    expect(await sshRun(fx.sshd, first.user, newKey.file, 'echo ok')).toMatchObject({ code: 0 });
    await fx.provisioner.revoke(lease.leaseId);
    await fx.provisioner.revoke(lease.leaseId);
  }, 60_000);

  it('reconciles what crashes leave: a half-granted or half-revoked account of an ended lease goes', async () => {
    const delivery = new Delivery({ provisioners: [fx.provisioner] });
    const p = fx.provisioner;
    // crash inside grant after the keys and useradd, before the unlock, of an ended lease …
    const halfGranted = vm();
    writeFileSync(p.keyFileOf(p.accounts.userOf(halfGranted.leaseId)), `${key.publicKey}\n`);
    await p.accounts.ensure(halfGranted.leaseId);
    // … and of a lease that must be active
    const stillWanted = vm();
    writeFileSync(p.keyFileOf(p.accounts.userOf(stillWanted.leaseId)), `${key.publicKey}\n`);
    const acct = await p.accounts.ensure(stillWanted.leaseId);
    // crash inside revoke after lock and kill, before userdel (looks suspended)
    const halfRevoked = vm();
    await p.grant(halfRevoked);
    const hr = await p.accounts.get(halfRevoked.leaseId);
    await p.accounts.lock(hr!.user);
    // a lease the agent never heard had ended (lost revoke message): fully active
    const lostRevoke = vm();
    const lost = await p.grant(lostRevoke);
    // a suspended lease whose suspension crashed after the lock, with a session still running
    const halfSuspended = vm();
    const hs = await p.grant(halfSuspended);
    if (hs.kind !== 'ssh' || lost.kind !== 'ssh') throw new Error('not ssh');
    const running = sshRun(fx.sshd, hs.user, key.file, 'sleep 60');
    await expectSoon(async () =>
      expect(await p.list()).toContainEqual({ leaseId: halfSuspended.leaseId, state: 'active' }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await p.accounts.lock(hs.user);

    const states = new Map((await p.list()).map((l) => [l.leaseId, l.state]));
    expect(states.get(halfGranted.leaseId)).toBe('suspended'); // locked, no processes
    expect(states.get(stillWanted.leaseId)).toBe('suspended');
    expect(states.get(halfSuspended.leaseId)).toBe('partial'); // locked, session alive

    const desired: DesiredLease[] = [
      { ...halfGranted, state: 'ended' },
      { ...stillWanted, state: 'active' },
      { ...halfRevoked, state: 'ended' },
      { ...halfSuspended, state: 'suspended' },
      // lostRevoke: not in the set at all
    ];
    const result = await delivery.reconcile(desired);
    expect(result.results.filter((r) => !r.ok)).toEqual([]);
    expect(result.plan.steps.map((s) => [s.op, s.leaseId])).toEqual(
      expect.arrayContaining([
        ['revoke', halfGranted.leaseId],
        ['revoke', halfRevoked.leaseId],
        ['revoke', lostRevoke.leaseId],
        ['suspend', halfSuspended.leaseId],
        ['resume', stillWanted.leaseId],
      ]),
    );
    expect(await sshRun(fx.sshd, acct.user, key.file, 'echo in')).toMatchObject({ code: 0 });
    expect((await running).code).not.toBe(0);
    refused(await sshRun(fx.sshd, lost.user, key.file, 'true'));
    refused(await sshRun(fx.sshd, hs.user, key.file, 'true'));
    const left = new Map((await p.list()).map((l) => [l.leaseId, l.state]));
    expect(left.get(stillWanted.leaseId)).toBe('active');
    expect(left.get(halfSuspended.leaseId)).toBe('suspended');
    for (const gone of [halfGranted, halfRevoked, lostRevoke])
      expect(left.has(gone.leaseId)).toBe(false);
    expect((await delivery.reconcile(desired)).plan.steps).toEqual([]);
  }, 120_000);
});

async function expectSoon(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
