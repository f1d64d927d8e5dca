// Linux control groups for the JOB form (docs/delivery.md, "Jobs"): CPU, memory and process
// limits, freezing and killing a whole tree. Both layouts: cgroup v2 (one unified hierarchy) and
// v1 (one hierarchy per controller, as on hosts in "hybrid" mode, where cpu/memory/pids/freezer
// are v1 and the unified hierarchy holds no controllers).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './host.js';
import { DeliveryError } from './provisioner.js';

export interface CgroupLimits {
  /** CPU time per second, in cores (e.g. 0.5, 4). */
  cpuCores?: number;
  memoryBytes?: number;
  /** Most processes (and threads) at once. */
  maxPids?: number;
}

export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** Creates the group (and parents) with these limits; repeating it only re-applies them. */
  create(path: string, limits?: CgroupLimits): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** The `cgroup.procs` files a process writes its pid into to join the group. */
  procsFiles(path: string): string[];
  /** Pids in the group and its descendants. */
  pids(path: string): Promise<number[]>;
  freeze(path: string): Promise<void>;
  thaw(path: string): Promise<void>;
  frozen(path: string): Promise<boolean>;
  /** Kills every process of the group and its descendants, and waits until none is left. */
  killAll(path: string): Promise<void>;
  /** Removes the group and its descendants (killing what runs there first). */
  remove(path: string): Promise<void>;
  /** Names of the group's child groups. */
  children(path: string): Promise<string[]>;
  /** Facts for the probe (which controllers, where). */
  describe(): Record<string, string>;
}

const FS = '/sys/fs/cgroup';
// freezer first: a process joins it before the others (the wrapper writes in this order), so
// freezing and killing through it never misses a process that joined any group
const V1_CONTROLLERS = ['freezer', 'cpu', 'memory', 'pids'] as const;

async function readPids(file: string): Promise<number[]> {
  try {
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every directory under `dir`, deepest first (the order rmdir needs). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await subdirs(dir)) out.push(...(await tree(join(dir, name))));
  if (existsSync(dir)) out.push(dir);
  return out;
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * Removes the directories (deepest first) after `kill` emptied them; a process that joined
 * meanwhile (a job starting while its lease is revoked) makes rmdir EBUSY: killed again, retried.
 */
async function removeDirs(dirs: () => Promise<string[]>, kill: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    await kill();
    try {
      for (const d of await dirs()) {
        try {
          await rmdir(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || i >= 100) throw err;
      await sleep(20);
    }
  }
}

const PERIOD_US = 100_000;

/** cgroup v1: one directory per controller (`/sys/fs/cgroup/<controller>/<path>`). */
export class CgroupV1 implements CgroupDriver {
  readonly version = 'v1';
  constructor(private readonly root = FS) {}

  private dir(controller: string, path: string): string {
    return join(this.root, controller, path);
  }

  async create(path: string, limits: CgroupLimits = {}): Promise<void> {
    for (const c of V1_CONTROLLERS) await mkdir(this.dir(c, path), { recursive: true });
    if (limits.cpuCores !== undefined) {
      const quota = Math.max(1000, Math.round(limits.cpuCores * PERIOD_US));
      await writeFile(join(this.dir('cpu', path), 'cpu.cfs_period_us'), String(PERIOD_US));
      await writeFile(join(this.dir('cpu', path), 'cpu.cfs_quota_us'), String(quota));
    }
    if (limits.memoryBytes !== undefined) {
      await writeFile(
        join(this.dir('memory', path), 'memory.limit_in_bytes'),
        String(limits.memoryBytes),
      );
    }
    if (limits.maxPids !== undefined) {
      await writeFile(join(this.dir('pids', path), 'pids.max'), String(limits.maxPids));
    }
  }

  async exists(path: string): Promise<boolean> {
    return existsSync(this.dir('freezer', path));
  }

  procsFiles(path: string): string[] {
    return V1_CONTROLLERS.map((c) => join(this.dir(c, path), 'cgroup.procs'));
  }

  async pids(path: string): Promise<number[]> {
    const all = new Set<number>();
    for (const c of V1_CONTROLLERS) {
      for (const d of await tree(this.dir(c, path))) {
        for (const p of await readPids(join(d, 'cgroup.procs'))) all.add(p);
      }
    }
    return [...all];
  }

  async freeze(path: string): Promise<void> {
    await this.setFreezer(path, 'FROZEN');
  }

  async thaw(path: string): Promise<void> {
    await this.setFreezer(path, 'THAWED');
  }

  async frozen(path: string): Promise<boolean> {
    try {
      const s = await readFile(join(this.dir('freezer', path), 'freezer.state'), 'utf8');
      return s.trim() !== 'THAWED';
    } catch {
      return false;
    }
  }

  private async setFreezer(path: string, state: 'FROZEN' | 'THAWED'): Promise<void> {
    const file = join(this.dir('freezer', path), 'freezer.state');
    await writeFile(file, state);
    for (let i = 0; i < 200; i++) {
      if ((await readFile(file, 'utf8')).trim() === state) return;
      await sleep(10);
    }
    throw new DeliveryError('host_failure', `cgroup ${path} did not become ${state}`);
  }

  async killAll(path: string): Promise<void> {
    if (!(await this.exists(path))) return;
    // frozen, nothing can fork while the pids are listed and killed; SIGKILL lands on thaw
    for (let i = 0; i < 200; i++) {
      await this.freeze(path);
      const pids = await this.pids(path);
      killPids(pids);
      await this.thaw(path);
      if (pids.length === 0) return;
      await sleep(i < 10 ? 10 : 50);
    }
    throw new DeliveryError('host_failure', `processes in ${path} survive SIGKILL`);
  }

  async remove(path: string): Promise<void> {
    await removeDirs(
      async () => (await Promise.all(V1_CONTROLLERS.map((c) => tree(this.dir(c, path))))).flat(),
      () => this.killAll(path),
    );
  }

  async children(path: string): Promise<string[]> {
    return subdirs(this.dir('freezer', path));
  }

  describe(): Record<string, string> {
    return { cgroup: 'v1', controllers: V1_CONTROLLERS.join(','), mount: this.root };
  }
}

/** cgroup v2: one unified hierarchy (`/sys/fs/cgroup/<path>`). */
export class CgroupV2 implements CgroupDriver {
  readonly version = 'v2';
  constructor(private readonly root = FS) {}

  private dir(path: string): string {
    return join(this.root, path);
  }

  async create(path: string, limits: CgroupLimits = {}): Promise<void> {
    // controllers must be enabled in every ancestor's subtree_control (not in the leaf)
    const parts = path.split('/').filter((p) => p !== '');
    let at = this.root;
    for (const part of parts) {
      await writeFile(join(at, 'cgroup.subtree_control'), '+cpu +memory +pids').catch(
        () => undefined,
      );
      at = join(at, part);
      await mkdir(at, { recursive: true });
    }
    const d = this.dir(path);
    if (limits.cpuCores !== undefined) {
      const quota = Math.max(1000, Math.round(limits.cpuCores * PERIOD_US));
      await writeFile(join(d, 'cpu.max'), `${quota} ${PERIOD_US}`);
    }
    if (limits.memoryBytes !== undefined) {
      await writeFile(join(d, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(d, 'memory.swap.max'), '0').catch(() => undefined);
    }
    if (limits.maxPids !== undefined) await writeFile(join(d, 'pids.max'), String(limits.maxPids));
  }

  async exists(path: string): Promise<boolean> {
    return existsSync(this.dir(path));
  }

  procsFiles(path: string): string[] {
    return [join(this.dir(path), 'cgroup.procs')];
  }

  async pids(path: string): Promise<number[]> {
    const all: number[] = [];
    for (const d of await tree(this.dir(path)))
      all.push(...(await readPids(join(d, 'cgroup.procs'))));
    return all;
  }

  async freeze(path: string): Promise<void> {
    await this.setFrozen(path, true);
  }

  async thaw(path: string): Promise<void> {
    await this.setFrozen(path, false);
  }

  async frozen(path: string): Promise<boolean> {
    try {
      return /^frozen 1$/m.test(await readFile(join(this.dir(path), 'cgroup.events'), 'utf8'));
    } catch {
      return false;
    }
  }

  private async setFrozen(path: string, on: boolean): Promise<void> {
    await writeFile(join(this.dir(path), 'cgroup.freeze'), on ? '1' : '0');
    for (let i = 0; i < 200; i++) {
      if ((await this.frozen(path)) === on) return;
      await sleep(10);
    }
    throw new DeliveryError('host_failure', `cgroup ${path} did not ${on ? 'freeze' : 'thaw'}`);
  }

  async killAll(path: string): Promise<void> {
    if (!(await this.exists(path))) return;
    const kill = join(this.dir(path), 'cgroup.kill');
    for (let i = 0; i < 200; i++) {
      if ((await this.pids(path)).length === 0) return;
      if (existsSync(kill)) await writeFile(kill, '1');
      else killPids(await this.pids(path));
      await sleep(i < 10 ? 10 : 50);
    }
    throw new DeliveryError('host_failure', `processes in ${path} survive SIGKILL`);
  }

  async remove(path: string): Promise<void> {
    await removeDirs(
      () => tree(this.dir(path)),
      () => this.killAll(path),
    );
  }

  async children(path: string): Promise<string[]> {
    return subdirs(this.dir(path));
  }

  describe(): Record<string, string> {
    return { cgroup: 'v2', mount: this.root };
  }
}

/**
 * The layout of this host: v2 when the unified hierarchy at /sys/fs/cgroup offers cpu and
 * memory, else v1 when the cpu, memory, pids and freezer hierarchies are mounted; else null.
 */
export async function detectCgroups(root = FS): Promise<CgroupDriver | null> {
  try {
    const controllers = (await readFile(join(root, 'cgroup.controllers'), 'utf8')).split(/\s+/);
    if (controllers.includes('cpu') && controllers.includes('memory')) return new CgroupV2(root);
  } catch {
    // not a unified mount at the root
  }
  if (V1_CONTROLLERS.every((c) => existsSync(join(root, c, 'cgroup.procs')))) {
    return new CgroupV1(root);
  }
  return null;
}
