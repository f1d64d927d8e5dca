// SSH delivery for BM and VM leases (docs/delivery.md, "SSH"): one Unix account per lease, the
// buyer's public keys in a root-owned file that sshd reads (`AuthorizedKeysFile <keysDir>/%u`),
// key-only login; suspension locks the account and kills its sessions; revoke removes it.
import { connect } from 'node:net';
import { lstat, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseSshPublicKey } from '@suanli/crypto';
import { hasCommand, processesByUid, run, writeFileAtomic } from './host.js';
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
import { UnixAccounts, type Account, type UnixAccountsOptions } from './unix-accounts.js';

export interface SshProvisionerOptions extends UnixAccountsOptions {
  /** The address the buyer connects to (told in the access details). */
  host: string;
  port: number;
  /**
   * Root-owned directory of the lease accounts' authorized keys, one file per user; sshd must
   * read it: `AuthorizedKeysFile <keysDir>/%u` (default /etc/ssh/suanli-keys).
   */
  keysDir?: string;
  /** sshd's configuration, checked by the probe with `sshd -T` (default /etc/ssh/sshd_config). */
  sshdConfig?: string;
  /** Public host key files (`*.pub`): their fingerprints go into the access details. */
  hostKeyFiles?: string[];
  /** Where to reach sshd from the agent for the probe (default host:port). */
  probeAddress?: { host: string; port: number };
}

/** sshd's identification line on host:port, or an error. */
function sshBanner(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (err?: Error) => {
      socket.destroy();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(data.split('\r\n')[0]);
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-') ? undefined : new Error('not SSH'));
    });
    socket.on('error', (e) => done(e));
  });
}

export class SshProvisioner implements Provisioner {
  readonly name = 'ssh';
  readonly forms = ['BM', 'VM'] as const;
  readonly accounts: UnixAccounts;
  readonly keysDir: string;

  constructor(private readonly options: SshProvisionerOptions) {
    this.accounts = new UnixAccounts(options);
    this.keysDir = options.keysDir ?? '/etc/ssh/suanli-keys';
  }

  keyFileOf(user: string): string {
    return join(this.keysDir, user);
  }

  async probe(): Promise<ProbeResult> {
    const checks: ProbeCheck[] = [];
    const isRoot = process.getuid?.() === 0;
    checks.push({
      name: 'root',
      ok: isRoot,
      detail: isRoot ? 'running as root' : 'creating accounts needs root',
    });
    const cmds = ['useradd', 'usermod', 'userdel', 'pkill', 'find', 'sshd'];
    const missing = (
      await Promise.all(cmds.map(async (c) => ((await hasCommand(c)) ? null : c)))
    ).filter((c) => c !== null);
    checks.push({
      name: 'commands',
      ok: missing.length === 0,
      detail: missing.length === 0 ? cmds.join(', ') : `missing: ${missing.join(', ')}`,
    });
    const capabilities: ProbeResult['capabilities'] = { port: this.options.port };
    const at = this.options.probeAddress ?? { host: this.options.host, port: this.options.port };
    try {
      const banner = await sshBanner(at.host, at.port);
      capabilities.sshd = banner;
      checks.push({ name: 'sshd', ok: true, detail: `${at.host}:${at.port} answers ${banner}` });
    } catch (err) {
      checks.push({
        name: 'sshd',
        ok: false,
        detail: `${at.host}:${at.port}: ${(err as Error).message}`,
      });
    }
    checks.push(await this.checkKeysDir());
    checks.push(await this.checkSshdReadsKeys());
    return probeResult(this.forms, checks, capabilities);
  }

  /** sshd (StrictModes) trusts the keys only if no one but root can write the path to them. */
  private async checkKeysDir(): Promise<ProbeCheck> {
    try {
      await mkdir(this.keysDir, { recursive: true, mode: 0o755 });
      for (let d = this.keysDir; ; d = dirname(d)) {
        const s = await stat(d);
        if (s.uid !== 0 || (s.mode & 0o022) !== 0) {
          return {
            name: 'keys-dir',
            ok: false,
            detail: `${d} must be owned by root and not group/world-writable (sshd StrictModes)`,
          };
        }
        if (dirname(d) === d) break;
      }
      return { name: 'keys-dir', ok: true, detail: this.keysDir };
    } catch (err) {
      return { name: 'keys-dir', ok: false, detail: (err as Error).message };
    }
  }

  private async checkSshdReadsKeys(): Promise<ProbeCheck> {
    const config = this.options.sshdConfig ?? '/etc/ssh/sshd_config';
    try {
      const { stdout } = await run('sshd', [
        '-T',
        '-f',
        config,
        '-C',
        `user=${this.accounts.prefix}probe,host=localhost,addr=127.0.0.1`,
      ]);
      const line = /^authorizedkeysfile (.*)$/m.exec(stdout)?.[1] ?? '';
      const wanted = join(this.keysDir, '%u');
      const pubkey = /^pubkeyauthentication yes$/m.test(stdout);
      const ok = line.split(/\s+/).includes(wanted) && pubkey;
      return {
        name: 'sshd-config',
        ok,
        detail: ok
          ? `${config}: AuthorizedKeysFile ${line}`
          : `${config} must say "AuthorizedKeysFile ${wanted}" and "PubkeyAuthentication yes" (has: ${line || 'none'})`,
      };
    } catch (err) {
      return { name: 'sshd-config', ok: false, detail: (err as Error).message };
    }
  }

  async grant(lease: LeaseGrant): Promise<Access> {
    checkLeaseId(lease.leaseId);
    const keys = (lease.sshPublicKeys ?? []).map((k, i) => {
      try {
        return parseSshPublicKey(k);
      } catch (err) {
        throw new DeliveryError('invalid_grant', `SSH key ${i + 1}: ${(err as Error).message}`);
      }
    });
    if (keys.length === 0) {
      throw new DeliveryError('invalid_grant', 'an SSH lease needs at least one SSH public key');
    }
    // keys, account, unlock, in that order: an account never exists without its keys, and a
    // crash before the unlock leaves a locked account with keys (suspended: no access; resume or
    // a repeated grant opens it, revoke removes it)
    await this.writeKeys(
      this.accounts.userOf(lease.leaseId),
      keys.map((k) => k.line).join('\n') + '\n',
    );
    const account = await this.accounts.ensure(lease.leaseId);
    await this.accounts.unlock(account.user);
    return {
      kind: 'ssh',
      host: this.options.host,
      port: this.options.port,
      user: account.user,
      hostKeyFingerprints: await this.hostKeyFingerprints(),
    };
  }

  async suspend(leaseId: string): Promise<void> {
    const account = await this.accounts.get(checkLeaseId(leaseId));
    if (account === undefined) return;
    // lock before killing: no new session can start once the kill loop begins
    await this.accounts.lock(account.user);
    await this.accounts.killAll(account.user, account.uid);
  }

  async resume(leaseId: string): Promise<void> {
    const account = await this.accounts.get(checkLeaseId(leaseId));
    if (account === undefined) {
      throw new DeliveryError('host_failure', `lease ${leaseId} has no account to resume`);
    }
    await this.accounts.unlock(account.user);
  }

  async revoke(leaseId: string): Promise<void> {
    const account = await this.accounts.get(checkLeaseId(leaseId));
    if (account === undefined) {
      // the account went in an earlier try; a key file may be left (harmless, no account)
      await rm(this.keyFileOf(this.accounts.userOf(leaseId)), { force: true });
      return;
    }
    await this.accounts.remove(account);
    await rm(this.keyFileOf(account.user), { force: true });
  }

  async list(): Promise<HostLease[]> {
    const accounts = await this.accounts.list();
    const procs = await processesByUid(new Set(accounts.map((a) => a.uid)));
    return Promise.all(
      accounts.map(async (a) => ({ leaseId: a.leaseId, state: await this.stateOf(a, procs) })),
    );
  }

  private async stateOf(a: Account, procs: Map<number, number[]>): Promise<HostLease['state']> {
    const cut = a.locked || a.expired;
    if (cut) return (procs.get(a.uid)?.length ?? 0) === 0 ? 'suspended' : 'partial';
    const hasKeys = await stat(this.keyFileOf(a.user)).then(
      (s) => s.isFile() && s.size > 0,
      () => false,
    );
    return hasKeys ? 'active' : 'partial';
  }

  /** Writes the key file atomically (temporary file + rename), root-owned, mode 0644. */
  private async writeKeys(user: string, content: string): Promise<void> {
    await mkdir(this.keysDir, { recursive: true, mode: 0o755 });
    const file = this.keyFileOf(user);
    const existing = await lstat(file).catch(() => undefined);
    if (existing !== undefined && !existing.isFile()) await rm(file, { recursive: true });
    await writeFileAtomic(file, content, 0o644);
  }

  private async hostKeyFingerprints(): Promise<string[]> {
    const out: string[] = [];
    for (const f of this.options.hostKeyFiles ?? []) {
      const line = (await readFile(f, 'utf8')).trim();
      out.push(parseSshPublicKey(line).fingerprint);
    }
    return out;
  }
}
