// One Unix account per lease (SSH and JOB leases), found again by a tag in its GECOS field so
// that reconcile lists only this agent's accounts (docs/delivery.md, "Unix accounts").
import { readFile, rm } from 'node:fs/promises';
import { processesByUid, run, sleep } from './host.js';
import { checkLeaseId, DeliveryError } from './provisioner.js';

export interface UnixAccountsOptions {
  /** Account names are `prefix` + 16 hex digits of the lease id (default `sl-`; ≤ 15 chars). */
  prefix?: string;
  /**
   * Names this agent in each account's tag (`suanli-lease <owner> <lease id>`), so that two
   * agents (or two test runs) on one host never list or remove each other's accounts.
   */
  owner: string;
  /** Login shell (default /bin/bash; a JOB account gets /usr/sbin/nologin). */
  shell?: string;
  /** Where homes go (default /home). */
  homeBase?: string;
}

export interface Account {
  leaseId: string;
  user: string;
  uid: number;
  gid: number;
  home: string;
  /** Password field starts with `!` (usermod -L). */
  locked: boolean;
  /** Account expiry in the past (usermod -e 1). */
  expired: boolean;
}

const TAG = 'suanli-lease';
const NAME = /^[a-z_][a-z0-9_-]*$/;

/** Serializes this process's changes to /etc/passwd (useradd and friends lock it themselves). */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** Retries a passwd-changing command that lost the race for /etc/passwd's lock to another process. */
async function passwdCommand(cmd: string, args: string[], ok?: number[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run(cmd, args, { ok });
      return;
    } catch (err) {
      if (attempt < 20 && /lock|try again/i.test((err as Error).message)) {
        await sleep(50 + Math.random() * 100);
        continue;
      }
      throw err;
    }
  }
}

export class UnixAccounts {
  readonly prefix: string;
  readonly owner: string;
  private readonly shell: string;
  private readonly homeBase: string;

  constructor(options: UnixAccountsOptions) {
    this.prefix = options.prefix ?? 'sl-';
    if (!NAME.test(this.prefix) || this.prefix.length > 15) {
      throw new Error(`account prefix ${JSON.stringify(this.prefix)}: [a-z_][a-z0-9_-]*, ≤ 15`);
    }
    if (!/^[A-Za-z0-9._#/-]{1,64}$/.test(options.owner)) {
      throw new Error('owner: 1..64 of [A-Za-z0-9._#/-] (it goes into the GECOS field)');
    }
    this.owner = options.owner;
    this.shell = options.shell ?? '/bin/bash';
    this.homeBase = options.homeBase ?? '/home';
  }

  userOf(leaseId: string): string {
    return this.prefix + checkLeaseId(leaseId).replace(/-/g, '').slice(0, 16);
  }

  private tagOf(leaseId: string): string {
    return `${TAG} ${this.owner} ${leaseId}`;
  }

  /** This agent's lease accounts, from /etc/passwd and /etc/shadow. */
  async list(): Promise<Account[]> {
    const [passwd, shadow] = await Promise.all([
      readFile('/etc/passwd', 'utf8'),
      readFile('/etc/shadow', 'utf8'),
    ]);
    const sh = new Map<string, string[]>();
    for (const line of shadow.split('\n')) {
      const f = line.split(':');
      if (f.length >= 8) sh.set(f[0], f);
    }
    const today = Math.floor(Date.now() / 86_400_000);
    const out: Account[] = [];
    const prefix = `${TAG} ${this.owner} `;
    for (const line of passwd.split('\n')) {
      const f = line.split(':');
      if (f.length < 7 || !f[4].startsWith(prefix)) continue;
      const leaseId = f[4].slice(prefix.length);
      const s = sh.get(f[0]);
      const expire = s?.[7] ?? '';
      out.push({
        leaseId,
        user: f[0],
        uid: Number(f[2]),
        gid: Number(f[3]),
        home: f[5],
        locked: s === undefined || s[1].startsWith('!'),
        expired: expire !== '' && Number(expire) <= today,
      });
    }
    return out;
  }

  async get(leaseId: string): Promise<Account | undefined> {
    return (await this.list()).find((a) => a.leaseId === leaseId);
  }

  /**
   * The lease's account, created when missing (locked: a new account has password `!`, so it
   * cannot log in until `unlock`). A same-named account of someone else is a `host_failure`.
   */
  ensure(leaseId: string, shell = this.shell): Promise<Account> {
    return serialized(async () => {
      const existing = await this.get(leaseId);
      if (existing !== undefined) return existing;
      const user = this.userOf(leaseId);
      try {
        await passwdCommand('useradd', [
          '--create-home',
          '--home-dir',
          `${this.homeBase}/${user}`,
          '--comment',
          this.tagOf(leaseId),
          '--shell',
          shell,
          '--user-group',
          user,
        ]);
      } catch (err) {
        throw new DeliveryError(
          'host_failure',
          `cannot create account ${user} for lease ${leaseId}: ${(err as Error).message}`,
        );
      }
      const made = await this.get(leaseId);
      if (made === undefined) throw new DeliveryError('host_failure', `account ${user} vanished`);
      return made;
    });
  }

  /** Key-only login: password `*` (no password can match), no expiry. */
  unlock(user: string): Promise<void> {
    return serialized(() =>
      passwdCommand('usermod', ['--password', '*', '--expiredate', '', user]),
    );
  }

  /**
   * Locked (`!` before the password: sshd without PAM refuses) and expired in 1970 (PAM's
   * account check refuses): no new login either way.
   */
  lock(user: string): Promise<void> {
    return serialized(() => passwdCommand('usermod', ['--lock', '--expiredate', '1', user]));
  }

  /** Kills every process of `uid` until none is left (a session forking while being killed). */
  async killAll(user: string, uid: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const procs = (await processesByUid(new Set([uid]))).get(uid) ?? [];
      if (procs.length === 0) return;
      await run('pkill', ['-KILL', '-u', user], { ok: [0, 1] });
      await sleep(i < 10 ? 10 : 50);
    }
    throw new DeliveryError('host_failure', `processes of ${user} survive SIGKILL`);
  }

  /**
   * Removes the account, its home, mail and its files in /tmp, /var/tmp and /dev/shm. Locks and
   * kills first, so that nothing of it runs or logs in while it is being removed.
   */
  async remove(account: Account): Promise<void> {
    await this.lock(account.user);
    await this.killAll(account.user, account.uid);
    await run(
      'find',
      ['/tmp', '/var/tmp', '/dev/shm', '-xdev', '-uid', String(account.uid), '-delete'],
      // a busy host's /tmp can hold many files: more time than a single command gets
      { ok: [0, 1], timeoutMs: 120_000 },
    );
    await serialized(() =>
      // 6: no such user (removed by an earlier try); 12: home could not be removed (below)
      passwdCommand('userdel', ['--remove', account.user], [0, 6, 12]),
    );
    if (account.home.startsWith(`${this.homeBase}/${this.prefix}`)) {
      await rm(account.home, { recursive: true, force: true });
    }
  }
}
