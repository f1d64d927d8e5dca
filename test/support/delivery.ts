// Test and benchmark support for the delivery provisioners: a real sshd, buyer key pairs and
// the real `ssh` client (no fakes: the integration tests log in for real).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SshProvisioner } from '../../apps/metering/src/agent/delivery/ssh-provisioner.js';
import { startSshd, type RunningSshd } from '../../tools/dev/sshd.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A short random name for this run (test accounts' owner tag, cgroup and container names). */
export function runId(): string {
  return randomBytes(4).toString('hex');
}

/** An Ed25519 key pair made by ssh-keygen: the private key file and the public key line. */
export function buyerKey(dir: string, name = 'buyer'): { file: string; publicKey: string } {
  const file = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
  return { file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` on sshd as `user` with the real OpenSSH client, key-only, host key pinned. */
export function sshRun(
  sshd: Pick<RunningSshd, 'host' | 'port' | 'knownHostsFile'>,
  user: string,
  keyFile: string,
  command: string,
  timeoutMs = 20_000,
): Promise<SshResult> & { kill(): void } {
  const child = spawn(
    'ssh',
    [
      '-i',
      keyFile,
      '-p',
      String(sshd.port),
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'PasswordAuthentication=no',
      '-o',
      `UserKnownHostsFile=${sshd.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
      `${user}@${sshd.host}`,
      command,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<SshResult>((r) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      r({ code, stdout, stderr });
    });
  });
  return Object.assign(done, { kill: () => child.kill('SIGKILL') });
}

/** A real sshd in `.local/sshd/<name>` and an SSH provisioner wired to it. */
export async function sshFixture(name: string, owner: string) {
  const sshd = await startSshd({ dir: join(ROOT, '.local', 'sshd', name) });
  const provisioner = new SshProvisioner({
    host: sshd.host,
    port: sshd.port,
    owner,
    keysDir: sshd.keysDir,
    sshdConfig: sshd.configFile,
    hostKeyFiles: [sshd.hostKeyPub],
  });
  const clientDir = mkdtempSync(join(tmpdir(), 'sl-ssh-client-'));
  return {
    sshd,
    provisioner,
    clientDir,
    /** Revokes every lease this run left, stops sshd, removes its files. */
    async cleanup(): Promise<void> {
      for (const l of await provisioner.list()) await provisioner.revoke(l.leaseId);
      await sshd.stop();
      rmSync(join(ROOT, '.local', 'sshd', name), { recursive: true, force: true });
      rmSync(clientDir, { recursive: true, force: true });
    },
  };
}

/**
 * A container image built here, without a registry: Debian's static busybox and its applets as
 * the root filesystem, imported into podman's storage as `tag`.
 */
export function busyboxImage(podmanArgs: string[], tag: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'sl-rootfs-'));
  try {
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'www']) mkdirSync(join(dir, d));
    copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
    chmodSync(join(dir, 'bin', 'busybox'), 0o755);
    const applets = spawnSync('/bin/busybox', ['--list']).stdout.toString().split('\n');
    for (const a of applets)
      if (a !== '' && a !== 'busybox') symlinkSync('busybox', join(dir, 'bin', a));
    writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
    const tar = spawnSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    const r = spawnSync('podman', [...podmanArgs, 'import', '-', tag], { input: tar.stdout });
    if (r.status !== 0) throw new Error(`podman import: ${r.stderr.toString()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
