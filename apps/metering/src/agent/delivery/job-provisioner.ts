// The JOB form's delivery (docs/delivery.md, "Jobs"): a per-lease job queue behind an HTTP API
// with the lease's bearer token. Each job runs the buyer's command as the lease's own Unix
// account inside the lease's cgroup (CPU and memory from the lease's slots), up to `slots` jobs
// at once. Suspension holds the queue and freezes what runs; revoke kills it and removes it all.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { detectCgroups, type CgroupDriver, type CgroupLimits } from './cgroups.js';
import { hasCommand, listen, writeFileAtomic } from './host.js';
import {
  checkLeaseId,
  concurrencyOf,
  DeliveryError,
  probeResult,
  type Access,
  type HostLease,
  type LeaseGrant,
  type ProbeCheck,
  type ProbeResult,
  type Provisioner,
} from './provisioner.js';
import { TokenStore } from './token-store.js';
import { UnixAccounts } from './unix-accounts.js';

export interface JobProvisionerOptions {
  /** Queues, job records and outputs (`<stateDir>/jobs/<lease id>/…`) and the tokens file. */
  stateDir: string;
  /** Tags this agent's accounts (as `<owner>/job`) and names its cgroup root. */
  owner: string;
  accountPrefix?: string;
  /** Parent cgroup of the leases' groups (default `suanli-jobs/<owner>`). */
  cgroupRoot?: string;
  /** Default: the host's layout (`detectCgroups`). */
  cgroups?: CgroupDriver;
  host?: string;
  port?: number;
  publicUrl?: string;
  /** How often running jobs are checked for their end (default 200 ms). */
  pollMs?: number;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  leaseId: string;
  command: string[];
  state: JobState;
  exitCode: number | null;
  submittedAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

interface LeaseRecord {
  leaseId: string;
  state: 'active' | 'suspended';
  concurrency: number;
  limits: CgroupLimits;
}

const MAX_ARGS = 256;
const MAX_COMMAND_BYTES = 64 * 1024;
const MAX_OUTPUT = 1024 * 1024;
const GIB = 2 ** 30;

// The job's wrapper, run as root inside nothing yet: joins the job's cgroups, runs the command as
// the lease's account (no new privileges), and records the exit code in a file the agent polls,
// so a job outlives an agent restart and its end is still seen.
const WRAPPER = `exitf=$1; n=$2; shift 2
while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done
uid=$1; gid=$2; shift 2
setpriv --reuid="$uid" --regid="$gid" --init-groups --no-new-privs -- "$@"
code=$?
echo "$code" > "$exitf.tmp" && mv "$exitf.tmp" "$exitf"`;

/** The buyer's command: 1..256 arguments, no NUL, at most 64 KiB together. */
export function checkCommand(command: unknown): string[] {
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    command.length > MAX_ARGS ||
    !command.every((a) => typeof a === 'string' && !a.includes('\0'))
  ) {
    throw new DeliveryError(
      'invalid_grant',
      `command must be an array of 1..${MAX_ARGS} strings without NUL (argv, no shell)`,
    );
  }
  if (command[0] === '') throw new DeliveryError('invalid_grant', 'command[0] is empty');
  if (Buffer.byteLength(command.join('\0')) > MAX_COMMAND_BYTES) {
    throw new DeliveryError('invalid_grant', `command longer than ${MAX_COMMAND_BYTES} bytes`);
  }
  return command as string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class JobProvisioner implements Provisioner {
  readonly name = 'job';
  readonly forms = ['JOB'] as const;
  readonly tokens: TokenStore;
  readonly accounts: UnixAccounts;
  private cgroups: CgroupDriver | null | undefined;
  private readonly cgroupRoot: string;
  private readonly dir: string;
  private readonly leases = new Map<string, { lease: LeaseRecord; jobs: Map<string, Job> }>();
  private server: Server | undefined;
  private url: string | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly options: JobProvisionerOptions) {
    this.dir = join(options.stateDir, 'jobs');
    this.tokens = new TokenStore(join(options.stateDir, 'job-tokens.json'));
    this.accounts = new UnixAccounts({
      owner: `${options.owner}/job`,
      prefix: options.accountPrefix,
      shell: '/usr/sbin/nologin',
    });
    this.cgroupRoot =
      options.cgroupRoot ?? `suanli-jobs/${options.owner.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    this.cgroups = options.cgroups;
  }

  private async driver(): Promise<CgroupDriver> {
    if (this.cgroups === undefined) this.cgroups = await detectCgroups();
    if (this.cgroups === null) {
      throw new DeliveryError('unavailable', 'no usable cgroup hierarchy on this host');
    }
    return this.cgroups;
  }

  private leaseGroup(leaseId: string): string {
    return `${this.cgroupRoot}/${leaseId}`;
  }

  /** Loads the queues, listens, and starts watching running jobs; resolves with the API's URL. */
  async start(): Promise<string> {
    await this.tokens.load();
    await this.loadAll();
    const server = createServer((req, res) => void this.handle(req, res));
    this.url = await listen(server, this.options);
    this.server = server;
    this.poller = setInterval(() => void this.poll(), this.options.pollMs ?? 200);
    return this.url;
  }

  get endpoint(): string {
    if (this.url === undefined) throw new Error('the job API is not started');
    return this.url;
  }

  async probe(): Promise<ProbeResult> {
    const checks: ProbeCheck[] = [];
    const capabilities: ProbeResult['capabilities'] = {};
    const isRoot = process.getuid?.() === 0;
    checks.push({ name: 'root', ok: isRoot, detail: isRoot ? 'running as root' : 'needs root' });
    const missing: string[] = [];
    for (const c of ['setpriv', 'useradd', 'userdel']) if (!(await hasCommand(c))) missing.push(c);
    checks.push({
      name: 'commands',
      ok: missing.length === 0,
      detail: missing.length === 0 ? 'setpriv, useradd, userdel' : `missing: ${missing.join(', ')}`,
    });
    try {
      const cg = await this.driver();
      Object.assign(capabilities, cg.describe());
      const probe = `${this.cgroupRoot}/probe-${process.pid}`;
      await cg.create(probe, { cpuCores: 0.5, memoryBytes: 64 * 1024 * 1024, maxPids: 64 });
      await cg.freeze(probe);
      await cg.thaw(probe);
      await cg.remove(probe);
      checks.push({
        name: 'cgroups',
        ok: true,
        detail: `${cg.version}: created ${probe} with CPU, memory and pids limits, froze, thawed, removed`,
      });
    } catch (err) {
      checks.push({ name: 'cgroups', ok: false, detail: (err as Error).message });
    }
    const listening = this.server?.listening === true;
    checks.push({
      name: 'listening',
      ok: listening,
      detail: listening ? this.endpoint : 'the job API is not started',
    });
    return probeResult(this.forms, checks, capabilities);
  }

  async grant(lease: LeaseGrant): Promise<Access> {
    checkLeaseId(lease.leaseId);
    const cg = await this.driver();
    const account = await this.accounts.ensure(lease.leaseId);
    const limits: CgroupLimits = {
      ...(lease.spec.cpu !== undefined ? { cpuCores: lease.spec.cpu * lease.slots } : {}),
      ...(lease.spec.memGiB !== undefined
        ? { memoryBytes: lease.spec.memGiB * lease.slots * GIB }
        : {}),
      maxPids: 1024 * Math.max(1, lease.slots),
    };
    await cg.create(this.leaseGroup(lease.leaseId), limits);
    const record: LeaseRecord = {
      leaseId: lease.leaseId,
      state: 'active',
      concurrency: concurrencyOf(lease),
      limits,
    };
    await mkdir(join(this.dir, lease.leaseId), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, lease.leaseId, 'lease.json'), JSON.stringify(record));
    await cg.thaw(this.leaseGroup(lease.leaseId));
    const entry = this.leases.get(lease.leaseId);
    if (entry) entry.lease = record;
    else this.leases.set(lease.leaseId, { lease: record, jobs: new Map() });
    void account;
    // the token last: access opens only when everything behind it exists
    const token = await this.tokens.issue(lease);
    await this.schedule(lease.leaseId);
    return { kind: 'http', endpoint: this.endpoint, token, concurrency: record.concurrency };
  }

  async suspend(leaseId: string): Promise<void> {
    checkLeaseId(leaseId);
    // refuse the token first, then hold the queue and freeze what runs (kept, resumable)
    await this.tokens.setState(leaseId, 'suspended');
    const entry = this.leases.get(leaseId);
    if (entry !== undefined) {
      entry.lease.state = 'suspended';
      await writeFileAtomic(join(this.dir, leaseId, 'lease.json'), JSON.stringify(entry.lease));
    }
    const cg = await this.driver();
    if (await cg.exists(this.leaseGroup(leaseId))) await cg.freeze(this.leaseGroup(leaseId));
  }

  async resume(leaseId: string): Promise<void> {
    checkLeaseId(leaseId);
    const entry = this.leases.get(leaseId);
    if (entry === undefined) {
      throw new DeliveryError('host_failure', `lease ${leaseId} has no job queue to resume`);
    }
    entry.lease.state = 'active';
    await writeFileAtomic(join(this.dir, leaseId, 'lease.json'), JSON.stringify(entry.lease));
    const cg = await this.driver();
    if (await cg.exists(this.leaseGroup(leaseId))) await cg.thaw(this.leaseGroup(leaseId));
    await this.tokens.setState(leaseId, 'active');
    await this.schedule(leaseId);
  }

  async revoke(leaseId: string): Promise<void> {
    checkLeaseId(leaseId);
    await this.tokens.remove(leaseId);
    const entry = this.leases.get(leaseId);
    this.leases.delete(leaseId);
    if (entry !== undefined) {
      for (const job of entry.jobs.values()) {
        if (job.state === 'queued' || job.state === 'running') {
          job.state = 'cancelled';
          job.endedAt = new Date().toISOString();
        }
      }
    }
    const cg = await this.driver();
    await cg.remove(this.leaseGroup(leaseId));
    const account = await this.accounts.get(leaseId);
    if (account !== undefined) await this.accounts.remove(account);
    // the queue last: list() finds the lease by it until everything else is gone
    await rm(join(this.dir, leaseId), { recursive: true, force: true });
  }

  async list(): Promise<HostLease[]> {
    const cg = await this.driver();
    const ids = new Set<string>();
    for (const d of await readdir(this.dir).catch(() => [])) ids.add(d);
    for (const d of await cg.children(this.cgroupRoot)) ids.add(d);
    const accounts = new Set((await this.accounts.list()).map((a) => a.leaseId));
    for (const a of accounts) ids.add(a);
    const out: HostLease[] = [];
    for (const leaseId of ids) {
      const record = await this.readLease(leaseId);
      const token = this.tokens.get(leaseId);
      const group = this.leaseGroup(leaseId);
      const complete = record !== undefined && accounts.has(leaseId) && (await cg.exists(group));
      let state: HostLease['state'] = 'partial';
      if (complete && token !== undefined) {
        const frozen = await cg.frozen(group);
        if (record.state === 'active' && token.state === 'active' && !frozen) state = 'active';
        if (record.state === 'suspended' && token.state === 'suspended' && frozen) {
          state = 'suspended';
        }
      }
      out.push({ leaseId, state });
    }
    return out;
  }

  /** The lease's jobs, oldest first (for tests and the API). */
  jobs(leaseId: string): Job[] {
    return [...(this.leases.get(leaseId)?.jobs.values() ?? [])].sort((a, b) =>
      a.submittedAt < b.submittedAt ? -1 : 1,
    );
  }

  /** Queues a job of the lease (the HTTP API's POST /jobs). */
  async submit(leaseId: string, command: unknown): Promise<Job> {
    const entry = this.leases.get(leaseId);
    if (entry === undefined) throw new HttpError(404, 'not_found', 'no such lease');
    const job: Job = {
      id: randomUUID(),
      leaseId,
      command: checkCommand(command),
      state: 'queued',
      exitCode: null,
      submittedAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
    };
    await mkdir(this.jobDir(job), { recursive: true, mode: 0o700 });
    await this.saveJob(job);
    entry.jobs.set(job.id, job);
    await this.schedule(leaseId);
    return job;
  }

  /** Cancels a queued or running job (DELETE /jobs/:id). */
  async cancel(leaseId: string, jobId: string): Promise<Job> {
    const job = this.leases.get(leaseId)?.jobs.get(jobId);
    if (job === undefined) throw new HttpError(404, 'not_found', 'no such job');
    if (job.state === 'queued' || job.state === 'running') {
      const wasRunning = job.state === 'running';
      job.state = 'cancelled';
      job.endedAt = new Date().toISOString();
      await this.saveJob(job);
      if (wasRunning) await (await this.driver()).remove(this.jobGroup(job));
      await this.schedule(leaseId);
    }
    return job;
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
  }

  private jobDir(job: Pick<Job, 'leaseId' | 'id'>): string {
    return join(this.dir, job.leaseId, job.id);
  }

  private jobGroup(job: Pick<Job, 'leaseId' | 'id'>): string {
    return `${this.leaseGroup(job.leaseId)}/${job.id}`;
  }

  private saveJob(job: Job): Promise<void> {
    return writeFileAtomic(join(this.jobDir(job), 'job.json'), JSON.stringify(job));
  }

  private async readLease(leaseId: string): Promise<LeaseRecord | undefined> {
    try {
      return JSON.parse(
        await readFile(join(this.dir, leaseId, 'lease.json'), 'utf8'),
      ) as LeaseRecord;
    } catch {
      return undefined;
    }
  }

  private async loadAll(): Promise<void> {
    for (const leaseId of await readdir(this.dir).catch(() => [])) {
      const lease = await this.readLease(leaseId);
      if (lease === undefined) continue;
      const jobs = new Map<string, Job>();
      for (const id of await readdir(join(this.dir, leaseId)).catch(() => [])) {
        try {
          const job = JSON.parse(
            await readFile(join(this.dir, leaseId, id, 'job.json'), 'utf8'),
          ) as Job;
          jobs.set(job.id, job);
        } catch {
          // lease.json, or a job cut short before its record was written
        }
      }
      this.leases.set(leaseId, { lease, jobs });
    }
  }

  /** Starts queued jobs while the lease is active and has a free slot (submission order). */
  private async schedule(leaseId: string): Promise<void> {
    const entry = this.leases.get(leaseId);
    if (entry === undefined || entry.lease.state !== 'active') return;
    const jobs = this.jobs(leaseId);
    let running = jobs.filter((j) => j.state === 'running').length;
    for (const job of jobs) {
      if (running >= entry.lease.concurrency) break;
      if (job.state !== 'queued') continue;
      running++;
      await this.run(job).catch(async (err: unknown) => {
        job.state = 'failed';
        job.endedAt = new Date().toISOString();
        await this.saveJob(job);
        await writeFileAtomic(join(this.jobDir(job), 'stderr'), `${(err as Error).message}\n`);
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const cg = await this.driver();
    const account = await this.accounts.get(job.leaseId);
    if (account === undefined) throw new Error('the lease has no account');
    const group = this.jobGroup(job);
    await cg.create(group);
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    await this.saveJob(job);
    const dir = this.jobDir(job);
    const out = await open(join(dir, 'stdout'), 'a', 0o600);
    const err = await open(join(dir, 'stderr'), 'a', 0o600);
    const procs = cg.procsFiles(group);
    try {
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          WRAPPER,
          'sh',
          join(dir, 'exit'),
          String(procs.length),
          ...procs,
          String(account.uid),
          String(account.gid),
          ...job.command,
        ],
        {
          cwd: account.home,
          detached: true,
          stdio: ['ignore', out.fd, err.fd],
          env: {
            PATH: '/usr/local/bin:/usr/bin:/bin',
            HOME: account.home,
            USER: account.user,
            LOGNAME: account.user,
            LANG: 'C.UTF-8',
            SUANLI_LEASE_ID: job.leaseId,
            SUANLI_JOB_ID: job.id,
          },
        },
      );
      child.on('error', () => undefined);
      child.unref();
    } finally {
      await out.close();
      await err.close();
    }
  }

  /** Finds running jobs that ended (exit file written, or nothing left in their cgroup). */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const cg = await this.driver();
      for (const [leaseId, entry] of this.leases) {
        let ended = false;
        for (const job of entry.jobs.values()) {
          if (job.state !== 'running') continue;
          const exitFile = join(this.jobDir(job), 'exit');
          let code: number | null = null;
          if (existsSync(exitFile)) {
            code = Number((await readFile(exitFile, 'utf8')).trim());
          } else if (
            entry.lease.state === 'active' &&
            (await cg.pids(this.jobGroup(job))).length === 0 &&
            // the wrapper may not have joined its group yet
            Date.now() - Date.parse(job.startedAt ?? '') > 2000
          ) {
            code = -1; // killed with its wrapper (out of memory, the agent's host restarted)
          } else continue;
          // what the job left running (daemons) ends with it, before the job shows as ended
          await cg.remove(this.jobGroup(job));
          if (job.state !== 'running') continue; // cancelled meanwhile
          job.exitCode = code;
          job.state = code === 0 ? 'succeeded' : 'failed';
          job.endedAt = new Date().toISOString();
          await this.saveJob(job);
          ended = true;
        }
        if (ended) await this.schedule(leaseId);
      }
    } catch {
      // a lease revoked while it was being looked at: the next poll sees the new state
    } finally {
      this.polling = false;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const record = this.tokens.authenticate(req.headers.authorization);
      if (record === undefined) {
        throw new HttpError(401, 'unauthenticated', 'a valid lease token is required');
      }
      if (record.state !== 'active')
        throw new HttpError(403, 'lease_suspended', 'the lease is suspended');
      const leaseId = record.leaseId;
      const url = new URL(req.url ?? '/', 'http://x');
      const parts = url.pathname.split('/').filter((p) => p !== '');
      if (parts[0] !== 'jobs' || parts.length > 3)
        throw new HttpError(404, 'not_found', 'no such route');
      const jobId = parts[1];
      if (jobId === undefined) {
        if (req.method === 'POST') {
          const body = await readJson(req);
          const command = (body as { command?: unknown }).command;
          try {
            return send(res, 201, await this.submit(leaseId, command));
          } catch (err) {
            if (err instanceof DeliveryError)
              throw new HttpError(400, 'validation_failed', err.message);
            throw err;
          }
        }
        if (req.method === 'GET') return send(res, 200, { items: this.jobs(leaseId) });
        throw new HttpError(405, 'method_not_allowed', 'GET or POST');
      }
      const job = this.leases.get(leaseId)?.jobs.get(jobId);
      if (job === undefined) throw new HttpError(404, 'not_found', 'no such job');
      if (parts[2] === 'output' && req.method === 'GET') {
        const which = url.searchParams.get('stream') === 'stderr' ? 'stderr' : 'stdout';
        return sendText(res, await tail(join(this.jobDir(job), which)));
      }
      if (parts.length === 2 && req.method === 'GET') return send(res, 200, job);
      if (parts.length === 2 && req.method === 'DELETE') {
        return send(res, 200, await this.cancel(leaseId, jobId));
      }
      throw new HttpError(405, 'method_not_allowed', 'not on this route');
    } catch (err) {
      req.resume();
      if (err instanceof HttpError) {
        return send(res, err.status, { error: { code: err.code, message: err.message } });
      }
      send(res, 500, { error: { code: 'internal', message: 'the job could not be handled' } });
    }
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_COMMAND_BYTES * 2) throw new HttpError(413, 'too_large', 'body over 128 KiB');
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v;
  } catch {
    throw new HttpError(400, 'validation_failed', 'body must be a JSON object {"command": [...]}');
  }
}

async function tail(file: string): Promise<string> {
  try {
    const { size } = await stat(file);
    const fh = await open(file, 'r');
    try {
      const len = Math.min(size, MAX_OUTPUT);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
