// The CTR form's delivery (docs/delivery.md, "Containers"): one container per lease from the
// image the buyer named, run by podman with an OCI runtime (runc here: crun cannot run on this
// kind of host, docs/decisions.md), CPU, memory and pids limits from the lease's slots, its port
// published on the host. Suspension pauses it (frozen, state kept); revoke removes it.
import { checkCommand } from './job-provisioner.js';
import { hasCommand, run } from './host.js';
import {
  checkLeaseId,
  DeliveryError,
  probeResult,
  type Access,
  type HostLease,
  type LeaseGrant,
  type ProbeCheck,
  type ProbeResult,
  type Provisioner,
} from './provisioner.js';

export interface CtrProvisionerOptions {
  /** Labels this agent's containers (`suanli.owner`), so that list() sees only its own. */
  owner: string;
  /** OCI runtime podman uses (default `runc`). */
  runtime?: string;
  /** Extra global podman flags, e.g. `--root DIR --runroot DIR` for a storage of its own. */
  podmanArgs?: string[];
  /** Address the containers' ports are published on, and told to buyers (default 127.0.0.1). */
  host?: string;
  /** Images the probe runs (`true` in it) to prove the runtime works; none: no run in the probe. */
  probeImage?: string;
  /** Images buyers may name; none: any image present on the host (never pulled). */
  allowedImages?: string[];
}

// docker/distribution reference grammar: [host[:port]/]path[:tag][@sha256:hex]
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)';
const IMAGE = new RegExp(
  `^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** An OCI image reference (`registry/name:tag@sha256:…`); anything else is `invalid_grant`. */
export function checkImage(image: unknown): string {
  if (typeof image !== 'string' || image.length > 255 || !IMAGE.test(image)) {
    throw new DeliveryError(
      'invalid_grant',
      `image must be an OCI image reference such as registry.example/team/app:1.2 (got ${JSON.stringify(String(image).slice(0, 80))})`,
    );
  }
  return image;
}

/**
 * Running serves; paused, created, exited or stopped serves nothing (a suspended lease's
 * resources, which resume starts again: a container whose command ended is restarted while its
 * lease is active); anything in between (removing, stopping) is partial.
 */
const STATES: Record<string, HostLease['state']> = {
  running: 'active',
  paused: 'suspended',
  created: 'suspended',
  configured: 'suspended',
  exited: 'suspended',
  stopped: 'suspended',
};

interface PsEntry {
  Names: string[];
  State: string;
  Labels: Record<string, string> | null;
}

export class CtrProvisioner implements Provisioner {
  readonly name = 'ctr';
  readonly forms = ['CTR'] as const;
  private readonly runtime: string;
  private readonly host: string;

  constructor(private readonly options: CtrProvisionerOptions) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(options.owner))
      throw new Error('owner: [A-Za-z0-9._-]{1,64}');
    this.runtime = options.runtime ?? 'runc';
    this.host = options.host ?? '127.0.0.1';
  }

  /** The container of a lease. */
  containerOf(leaseId: string): string {
    return `sl-${checkLeaseId(leaseId)}`;
  }

  private podman(args: string[], ok?: number[]) {
    return run('podman', [...(this.options.podmanArgs ?? []), '--runtime', this.runtime, ...args], {
      ok,
      timeoutMs: 120_000,
    });
  }

  async probe(): Promise<ProbeResult> {
    const checks: ProbeCheck[] = [];
    const capabilities: ProbeResult['capabilities'] = { runtime: this.runtime };
    for (const cmd of ['podman', this.runtime]) {
      const ok = await hasCommand(cmd);
      checks.push({ name: cmd, ok, detail: ok ? `${cmd} found` : `${cmd} is not installed` });
    }
    try {
      const { stdout } = await this.podman([
        'info',
        '--format',
        '{{.Version.Version}} {{.Host.CgroupsVersion}} {{.Host.CgroupManager}} {{.Store.GraphDriverName}}',
      ]);
      const [version, cgroups, manager, driver] = stdout.trim().split(' ');
      Object.assign(capabilities, {
        podman: version,
        cgroups,
        cgroupManager: manager,
        storage: driver,
      });
      checks.push({ name: 'podman-info', ok: true, detail: stdout.trim() });
    } catch (err) {
      checks.push({ name: 'podman-info', ok: false, detail: (err as Error).message });
    }
    if (this.options.probeImage !== undefined) {
      try {
        await this.podman([
          'run',
          '--rm',
          '--pull',
          'never',
          ...this.limits(0.5, 64 * 2 ** 20),
          '--network',
          'none',
          this.options.probeImage,
          'true',
        ]);
        checks.push({
          name: 'run',
          ok: true,
          detail: `ran ${this.options.probeImage} with ${this.runtime}`,
        });
      } catch (err) {
        checks.push({ name: 'run', ok: false, detail: (err as Error).message });
      }
    }
    return probeResult(this.forms, checks, capabilities);
  }

  /** Runtime limits; explicit ulimits, because the runtime cannot raise them past the host's. */
  private limits(cpus: number | undefined, memoryBytes: number | undefined): string[] {
    return [
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=4096:4096',
      '--pids-limit',
      '4096',
      ...(cpus !== undefined ? ['--cpus', String(cpus)] : []),
      ...(memoryBytes !== undefined
        ? ['--memory', `${memoryBytes}b`, '--memory-swap', `${memoryBytes}b`]
        : []),
    ];
  }

  async grant(lease: LeaseGrant): Promise<Access> {
    checkLeaseId(lease.leaseId);
    const c = lease.container;
    if (c === undefined) throw new DeliveryError('invalid_grant', 'a CTR lease needs an image');
    const image = checkImage(c.image);
    if (this.options.allowedImages !== undefined && !this.options.allowedImages.includes(image)) {
      throw new DeliveryError('invalid_grant', `image ${image} is not offered on this resource`);
    }
    const command = c.command === undefined ? [] : checkCommand(c.command);
    if (c.port !== undefined && !(Number.isInteger(c.port) && c.port > 0 && c.port < 65536)) {
      throw new DeliveryError('invalid_grant', 'port must be 1..65535');
    }
    const name = this.containerOf(lease.leaseId);
    const state = await this.stateOf(name);
    if (state === undefined) {
      const cpus = lease.spec.cpu !== undefined ? lease.spec.cpu * lease.slots : undefined;
      const mem =
        lease.spec.memGiB !== undefined ? lease.spec.memGiB * lease.slots * 2 ** 30 : undefined;
      try {
        await this.podman([
          'run',
          '--detach',
          '--name',
          name,
          '--label',
          `suanli.owner=${this.options.owner}`,
          '--label',
          `suanli.lease=${lease.leaseId}`,
          '--pull',
          'never',
          ...this.limits(cpus, mem),
          ...(c.port !== undefined
            ? ['--publish', `${this.host}::${c.port}`]
            : ['--network', 'none']),
          image,
          ...command,
        ]);
      } catch (err) {
        if (/image not known|no such image|unable to find/i.test((err as Error).message)) {
          throw new DeliveryError('invalid_grant', `image ${image} is not available on this host`);
        }
        throw err;
      }
    } else if (state === 'paused') {
      await this.podman(['unpause', name]);
    } else if (state !== 'running') {
      await this.podman(['start', name]);
    }
    let port: number | undefined;
    if (c.port !== undefined) {
      const { stdout } = await this.podman(['port', name, `${c.port}/tcp`]);
      port = Number(/:(\d+)\s*$/m.exec(stdout)?.[1]);
    }
    return { kind: 'container', name, host: this.host, image, ...(port ? { port } : {}) };
  }

  async suspend(leaseId: string): Promise<void> {
    const name = this.containerOf(leaseId);
    const state = await this.stateOf(name);
    // paused: every process frozen, memory kept; a stopped container serves nothing either
    if (state === 'running') await this.podman(['pause', name]);
  }

  async resume(leaseId: string): Promise<void> {
    const name = this.containerOf(leaseId);
    const state = await this.stateOf(name);
    if (state === undefined)
      throw new DeliveryError('host_failure', `no container for lease ${leaseId}`);
    if (state === 'paused') await this.podman(['unpause', name]);
    else if (state !== 'running') await this.podman(['start', name]);
  }

  async revoke(leaseId: string): Promise<void> {
    await this.podman([
      'rm',
      '--force',
      '--ignore',
      '--time',
      '0',
      '--volumes',
      this.containerOf(leaseId),
    ]);
  }

  async list(): Promise<HostLease[]> {
    const { stdout } = await this.podman([
      'ps',
      '--all',
      '--filter',
      `label=suanli.owner=${this.options.owner}`,
      '--format',
      'json',
    ]);
    const entries = JSON.parse(stdout || '[]') as PsEntry[];
    return entries
      .filter((e) => e.Labels?.['suanli.lease'] !== undefined)
      .map((e) => ({
        leaseId: e.Labels?.['suanli.lease'] as string,
        state: STATES[e.State] ?? 'partial',
      }));
  }

  private async stateOf(name: string): Promise<string | undefined> {
    const r = await this.podman(
      ['inspect', '--type', 'container', '--format', '{{.State.Status}}', name],
      [0, 125],
    );
    return r.code === 0 ? r.stdout.trim() : undefined;
  }
}
