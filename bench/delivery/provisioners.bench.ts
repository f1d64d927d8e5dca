// Grant and revoke latency of each provisioner on the real host (docs/delivery.md): for N
// leases, the time from `grant()` to access that works (SSH: the real `ssh` client logs in and
// runs `true`; API: a call through the gateway answers 200; JOB: the job API answers the
// lease's token; CTR: the container's published port serves), and from `revoke()` (and
// `suspend()`) to access refused. Baseline in the same run: the check alone on access that
// already works (an SSH login, one call, one request to the container), so the provisioner's
// own share is the difference. Goals: grant p99 < 10 s, revoke p99 < 5 s.
//
//   node --import @swc-node/register/esm-register bench/delivery/provisioners.bench.ts
//   # BENCH_LEASES=100  BENCH_ONLY=ssh,api,job,ctr
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiGateway } from '../../apps/metering/src/agent/delivery/api-gateway.js';
import { detectCgroups } from '../../apps/metering/src/agent/delivery/cgroups.js';
import { CtrProvisioner } from '../../apps/metering/src/agent/delivery/ctr-provisioner.js';
import { JobProvisioner } from '../../apps/metering/src/agent/delivery/job-provisioner.js';
import type {
  Access,
  LeaseGrant,
  Provisioner,
} from '../../apps/metering/src/agent/delivery/provisioner.js';
import {
  buyerKey,
  busyboxImage,
  ROOT,
  runId,
  sshFixture,
  sshRun,
} from '../../test/support/delivery.js';

const N = Number(process.env.BENCH_LEASES ?? 100);
const ONLY = (process.env.BENCH_ONLY ?? 'ssh,api,job,ctr').split(',');
const RUN = runId();

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

interface Subject {
  name: string;
  provisioner: Provisioner;
  lease(): LeaseGrant;
  /** Resolves when the access works; rejects when it is refused. */
  works(access: Access): Promise<void>;
  /** Resolves when the access is refused. */
  refused(access: Access): Promise<void>;
  cleanup(): Promise<void>;
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function status(url: string, token?: string, timeoutMs = 2000): Promise<number> {
  try {
    const r = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0; // refused, reset or timed out
  }
}

async function sshSubject(): Promise<Subject> {
  const fx = await sshFixture(`bench-${RUN}`, `bench-${RUN}`);
  const key = buyerKey(fx.clientDir);
  const login = async (a: Access) => {
    if (a.kind !== 'ssh') throw new Error('not ssh');
    return (await sshRun(fx.sshd, a.user, key.file, 'true')).code === 0;
  };
  return {
    name: 'ssh (BM/VM)',
    provisioner: fx.provisioner,
    lease: () => ({
      leaseId: randomUUID(),
      form: 'VM',
      slots: 1,
      spec: { cpu: 1 },
      sshPublicKeys: [key.publicKey],
    }),
    works: (a) => until(() => login(a)),
    refused: (a) => until(async () => !(await login(a))),
    cleanup: () => fx.cleanup(),
  };
}

async function apiSubject(): Promise<Subject> {
  const upstream: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const a = upstream.address();
  const dir = mkdtempSync(join(tmpdir(), 'sl-bench-gw-'));
  const gw = new ApiGateway({
    upstream: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    stateDir: dir,
  });
  await gw.start();
  const code = (x: Access) => {
    if (x.kind !== 'http') throw new Error('not http');
    return status(`${x.endpoint}/`, x.token);
  };
  return {
    name: 'api-gateway (API)',
    provisioner: gw,
    lease: () => ({ leaseId: randomUUID(), form: 'API', slots: 1, spec: { cpu: 1 } }),
    works: (x) => until(async () => (await code(x)) === 200),
    refused: (x) => until(async () => (await code(x)) === 401 || (await code(x)) === 403),
    cleanup: async () => {
      await gw.close();
      await new Promise((r) => upstream.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function jobSubject(): Promise<Subject> {
  const dir = mkdtempSync(join(tmpdir(), 'sl-bench-jobs-'));
  const jobs = new JobProvisioner({
    stateDir: dir,
    owner: `bench-${RUN}`,
    cgroupRoot: `suanli-jobs/bench-${RUN}`,
  });
  await jobs.start();
  const code = (x: Access) => {
    if (x.kind !== 'http') throw new Error('not http');
    return status(`${x.endpoint}/jobs`, x.token);
  };
  return {
    name: 'job (JOB)',
    provisioner: jobs,
    lease: () => ({ leaseId: randomUUID(), form: 'JOB', slots: 1, spec: { cpu: 1, memGiB: 1 } }),
    works: (x) => until(async () => (await code(x)) === 200),
    refused: (x) => until(async () => (await code(x)) === 401 || (await code(x)) === 403),
    cleanup: async () => {
      for (const l of await jobs.list()) await jobs.revoke(l.leaseId);
      await jobs.close();
      await (await detectCgroups())?.remove(`suanli-jobs/bench-${RUN}`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ctrSubject(): Promise<Subject> {
  const store = join(ROOT, '.local', 'podman', `bench-${RUN}`);
  const podmanArgs = ['--root', join(store, 'root'), '--runroot', join(store, 'run')];
  const image = `localhost/suanli/busybox:bench-${RUN}`;
  busyboxImage(podmanArgs, image);
  const ctr = new CtrProvisioner({ owner: `bench-${RUN}`, podmanArgs });
  const url = (x: Access) => {
    if (x.kind !== 'container' || x.port === undefined) throw new Error('no port');
    return `http://127.0.0.1:${x.port}/index.html`;
  };
  return {
    name: 'ctr (CTR)',
    provisioner: ctr,
    lease: () => ({
      leaseId: randomUUID(),
      form: 'CTR',
      slots: 1,
      spec: { cpu: 1, memGiB: 1 },
      container: {
        image,
        command: ['sh', '-c', 'echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
        port: 8080,
      },
    }),
    works: (x) => until(async () => (await status(url(x))) === 200),
    // a paused container accepts the connection and never answers: 300 ms without one is refused
    refused: (x) => until(async () => (await status(url(x), undefined, 300)) !== 200),
    cleanup: async () => {
      for (const l of await ctr.list()) await ctr.revoke(l.leaseId);
      spawnSync('podman', [...podmanArgs, 'system', 'reset', '--force']);
      rmSync(store, { recursive: true, force: true });
    },
  };
}

async function measure(s: Subject): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {
    grant: [],
    grantCall: [],
    check: [],
    suspend: [],
    revoke: [],
  };
  const granted: { lease: LeaseGrant; access: Access }[] = [];
  for (let i = 0; i < N; i++) {
    const lease = s.lease();
    const t0 = performance.now();
    const access = await s.provisioner.grant(lease);
    const t1 = performance.now();
    await s.works(access);
    out.grant.push(performance.now() - t0);
    out.grantCall.push(t1 - t0);
    // baseline: the same check again, on access that already works
    const t2 = performance.now();
    await s.works(access);
    out.check.push(performance.now() - t2);
    granted.push({ lease, access });
  }
  // suspension on a tenth of them, then every lease revoked
  for (const { lease, access } of granted.slice(0, Math.max(1, Math.floor(N / 10)))) {
    const t = performance.now();
    await s.provisioner.suspend(lease.leaseId);
    await s.refused(access);
    out.suspend.push(performance.now() - t);
  }
  for (const { lease, access } of granted) {
    const t = performance.now();
    await s.provisioner.revoke(lease.leaseId);
    await s.refused(access);
    out.revoke.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const makers: Record<string, () => Promise<Subject>> = {
    ssh: sshSubject,
    api: apiSubject,
    job: jobSubject,
    ctr: ctrSubject,
  };
  console.log(
    `delivery provisioners: ${N} leases each, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows: string[] = [];
  for (const name of ONLY) {
    const s = await makers[name]();
    try {
      const started = performance.now();
      const r = await measure(s);
      const p = (k: string, q: number) => quantile(r[k], q);
      rows.push(
        `| ${s.name} | ${ms(p('grant', 0.5))} | ${ms(p('grant', 0.99))} | ${ms(p('grantCall', 0.5))} | ${ms(p('check', 0.5))} | ${ms(p('suspend', 0.5))} | ${ms(p('suspend', 0.99))} | ${ms(p('revoke', 0.5))} | ${ms(p('revoke', 0.99))} | ${((performance.now() - started) / 1000).toFixed(0)} s |`,
      );
      console.log(rows[rows.length - 1]);
    } finally {
      await s.cleanup();
    }
  }
  console.log(
    '\n| provisioner | grant→works p50 | p99 | grant() alone p50 | baseline: check alone p50 | suspend→refused p50 | p99 | revoke→refused p50 | p99 | wall |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
