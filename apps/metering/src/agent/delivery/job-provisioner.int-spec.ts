// JOB delivery on this host's real cgroups: jobs submitted over the HTTP API with the lease's
// token run as the lease's Unix account inside the lease's cgroup (the memory limit really
// kills), one per slot at once; suspension freezes them and holds the queue; revoke kills and
// removes everything; a restarted agent still sees its jobs end; reconcile removes leftovers.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectEventually } from '../../../../../test/support/eventually.js';
import { runId } from '../../../../../test/support/delivery.js';
import { detectCgroups, type CgroupDriver } from './cgroups.js';
import { Delivery } from './delivery.js';
import { JobProvisioner, type Job } from './job-provisioner.js';
import type { LeaseGrant } from './provisioner.js';

const RUN = runId();
const OWNER = `it-${RUN}`;
const CGROUP_ROOT = `suanli-jobs/it-${RUN}`;
let stateDir: string;
let jobs: JobProvisioner;
let cg: CgroupDriver;

const jobLease = (slots = 1, spec = { cpu: 1, memGiB: 1 }): LeaseGrant => ({
  leaseId: randomUUID(),
  form: 'JOB',
  slots,
  spec,
});

async function api(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${jobs.endpoint}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // output is plain text
  }
  return {
    status: res.status,
    json: json as Job & { items: Job[]; error: { code: string } },
    text,
  };
}

async function grant(lease: LeaseGrant): Promise<string> {
  const access = await jobs.grant(lease);
  if (access.kind !== 'http') throw new Error('not http');
  return access.token;
}

async function finished(token: string, id: string): Promise<Job> {
  return expectEventually(
    async () => {
      const r = await api(token, 'GET', `/jobs/${id}`);
      expect(['succeeded', 'failed', 'cancelled']).toContain(r.json.state);
      return r.json;
    },
    { timeoutMs: 30_000 },
  );
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sl-jobs-'));
  const found = await detectCgroups();
  if (found === null) throw new Error('no cgroups on this host');
  cg = found;
  jobs = new JobProvisioner({ stateDir, owner: OWNER, cgroupRoot: CGROUP_ROOT });
  await jobs.start();
});

afterAll(async () => {
  if (jobs !== undefined) {
    for (const l of await jobs.list()) await jobs.revoke(l.leaseId);
    await jobs.close();
  }
  await cg?.remove(CGROUP_ROOT);
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe('JobProvisioner on real cgroups', () => {
  it('probes the cgroup layout of this host', async () => {
    const probe = await jobs.probe();
    expect(probe.checks.filter((c) => !c.ok)).toEqual([]);
    expect(probe.capabilities.cgroup).toBe(cg.version);
  });

  it('runs a command as the lease’s account in the lease’s cgroup, with its limits', async () => {
    const lease = jobLease(2, { cpu: 1, memGiB: 1 });
    const token = await grant(lease);
    const user = jobs.accounts.userOf(lease.leaseId);
    const sub = await api(token, 'POST', '/jobs', {
      command: ['sh', '-c', 'id -un; pwd; cat /proc/self/cgroup; echo oops >&2; exit 3'],
    });
    expect(sub.status).toBe(201);
    expect(sub.json).toMatchObject({
      state: expect.stringMatching(/queued|running/),
      leaseId: lease.leaseId,
    });
    const done = await finished(token, sub.json.id);
    expect(done).toMatchObject({ state: 'failed', exitCode: 3 });
    const out = await api(token, 'GET', `/jobs/${done.id}/output`);
    const [who, cwd] = out.text.split('\n');
    expect(who).toBe(user);
    expect(cwd).toBe(`/home/${user}`);
    expect(out.text).toContain(`${CGROUP_ROOT}/${lease.leaseId}/${done.id}`);
    expect((await api(token, 'GET', `/jobs/${done.id}/output?stream=stderr`)).text).toBe('oops\n');
    if (cg.version === 'v1') {
      const cpu = `/sys/fs/cgroup/cpu/${CGROUP_ROOT}/${lease.leaseId}`;
      expect((await readFile(`${cpu}/cpu.cfs_quota_us`, 'utf8')).trim()).toBe('200000'); // 1 × 2 slots
      const mem = `/sys/fs/cgroup/memory/${CGROUP_ROOT}/${lease.leaseId}/memory.limit_in_bytes`;
      expect((await readFile(mem, 'utf8')).trim()).toBe(String(2 * 2 ** 30));
    }
    // the job's cgroup went with it
    expect(await cg.exists(`${CGROUP_ROOT}/${lease.leaseId}/${done.id}`)).toBe(false);
    await jobs.revoke(lease.leaseId);
  }, 60_000);

  it('kills a job that goes over the lease’s memory', async () => {
    const lease = jobLease(1, { cpu: 1, memGiB: 1 });
    const token = await grant(lease);
    // tail keeps a line without newline in memory: 1.2 GiB of zeros, over the 1 GiB limit
    const sub = await api(token, 'POST', '/jobs', {
      command: ['sh', '-c', 'head -c 1200m /dev/zero | tail > /dev/null'],
    });
    const done = await finished(token, sub.json.id);
    expect(done.state).toBe('failed');
    expect(done.exitCode).not.toBe(0);
    await jobs.revoke(lease.leaseId);
  }, 60_000);

  it('runs one job per slot, queues the rest; refuses bad input and other tokens', async () => {
    const lease = jobLease(1);
    const token = await grant(lease);
    const a = await api(token, 'POST', '/jobs', { command: ['sleep', '1'] });
    const b = await api(token, 'POST', '/jobs', { command: ['true'] });
    await expectEventually(async () => {
      const list = (await api(token, 'GET', '/jobs')).json.items;
      expect(list.map((j) => j.state)).toEqual(['running', 'queued']);
    });
    expect((await finished(token, b.json.id)).state).toBe('succeeded');
    expect((await api(token, 'GET', `/jobs/${a.json.id}`)).json.state).toBe('succeeded');

    const bad = await api(token, 'POST', '/jobs', { command: 'rm -rf /' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('validation_failed');
    expect((await api('sl_nope', 'GET', '/jobs')).status).toBe(401);
    const other = await grant(jobLease(1));
    expect((await api(other, 'GET', `/jobs/${a.json.id}`)).status).toBe(404);
    await jobs.revoke(lease.leaseId);
  }, 60_000);

  it('suspension freezes running jobs and holds the queue; resume continues; revoke kills and removes', async () => {
    const lease = jobLease(1);
    const token = await grant(lease);
    const counter = await api(token, 'POST', '/jobs', {
      command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > count; sleep 0.05; done'],
    });
    const queued = await api(token, 'POST', '/jobs', { command: ['echo', 'later'] });
    const user = jobs.accounts.userOf(lease.leaseId);
    const countFile = `/home/${user}/count`;
    const read = async () =>
      Number((await readFile(countFile, 'utf8').catch(() => '0')).trim() || '0');
    await expectEventually(async () => expect(await read()).toBeGreaterThan(3));

    await jobs.suspend(lease.leaseId);
    expect((await api(token, 'GET', '/jobs')).status).toBe(403);
    expect(await jobs.list()).toContainEqual({ leaseId: lease.leaseId, state: 'suspended' });
    const frozenAt = await read();
    await new Promise((r) => setTimeout(r, 600));
    expect(await read()).toBe(frozenAt);
    expect(jobs.jobs(lease.leaseId).map((j) => j.state)).toEqual(['running', 'queued']);
    await jobs.suspend(lease.leaseId);

    await jobs.resume(lease.leaseId);
    await expectEventually(async () => expect(await read()).toBeGreaterThan(frozenAt + 2));
    const del = await api(token, 'DELETE', `/jobs/${counter.json.id}`);
    expect(del.json.state).toBe('cancelled');
    expect((await finished(token, queued.json.id)).state).toBe('succeeded');
    expect((await api(token, 'GET', `/jobs/${queued.json.id}/output`)).text).toBe('later\n');

    const again = await api(token, 'POST', '/jobs', { command: ['sleep', '60'] });
    await expectEventually(async () =>
      expect((await api(token, 'GET', `/jobs/${again.json.id}`)).json.state).toBe('running'),
    );
    await jobs.revoke(lease.leaseId);
    expect((await api(token, 'GET', '/jobs')).status).toBe(401);
    expect(await cg.exists(`${CGROUP_ROOT}/${lease.leaseId}`)).toBe(false);
    expect(await jobs.accounts.get(lease.leaseId)).toBeUndefined();
    expect(existsSync(`/home/${user}`)).toBe(false);
    expect(existsSync(join(stateDir, 'jobs', lease.leaseId))).toBe(false);
    await jobs.revoke(lease.leaseId);
  }, 90_000);

  it('revoke while a job is starting leaves nothing behind', async () => {
    for (let i = 0; i < 5; i++) {
      const lease = jobLease(1);
      const token = await grant(lease);
      const sub = api(token, 'POST', '/jobs', { command: ['sleep', '60'] });
      if (i % 2 === 1) await sub;
      await jobs.revoke(lease.leaseId);
      await sub.catch(() => undefined);
      expect(await cg.exists(`${CGROUP_ROOT}/${lease.leaseId}`)).toBe(false);
      expect(await jobs.accounts.get(lease.leaseId)).toBeUndefined();
    }
  }, 90_000);

  it('sees a job end that started before an agent restart', async () => {
    const lease = jobLease(1);
    const token = await grant(lease);
    const sub = await api(token, 'POST', '/jobs', { command: ['sh', '-c', 'sleep 1; echo done'] });
    await expectEventually(async () =>
      expect((await api(token, 'GET', `/jobs/${sub.json.id}`)).json.state).toBe('running'),
    );
    await jobs.close();
    jobs = new JobProvisioner({ stateDir, owner: OWNER, cgroupRoot: CGROUP_ROOT });
    await jobs.start();
    const done = await finished(token, sub.json.id);
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 });
    await jobs.revoke(lease.leaseId);
  }, 60_000);

  it('reconcile removes what a crash left of an ended lease and completes a wanted one', async () => {
    const delivery = new Delivery({ provisioners: [jobs] });
    // crash inside grant after the account and the cgroup, before the queue and the token
    const ended = jobLease(1);
    await jobs.accounts.ensure(ended.leaseId);
    await cg.create(`${CGROUP_ROOT}/${ended.leaseId}`);
    const wanted = jobLease(1);
    await jobs.accounts.ensure(wanted.leaseId);
    const states = new Map((await jobs.list()).map((l) => [l.leaseId, l.state]));
    expect(states.get(ended.leaseId)).toBe('partial');
    expect(states.get(wanted.leaseId)).toBe('partial');

    const result = await delivery.reconcile([
      { ...ended, state: 'ended' },
      { ...wanted, state: 'active' },
    ]);
    expect(result.results.filter((r) => !r.ok)).toEqual([]);
    const granted = result.results.find((r) => r.step.op === 'grant');
    expect(granted?.access).toMatchObject({ kind: 'http', endpoint: jobs.endpoint });
    const left = new Map((await jobs.list()).map((l) => [l.leaseId, l.state]));
    expect(left.has(ended.leaseId)).toBe(false);
    expect(left.get(wanted.leaseId)).toBe('active');
    expect(await jobs.accounts.get(ended.leaseId)).toBeUndefined();
    expect((await delivery.reconcile([{ ...wanted, state: 'active' }])).plan.steps).toEqual([]);
    await jobs.revoke(wanted.leaseId);
  }, 60_000);
});
