// A real OpenSSH server (Debian's openssh-server) on a loopback port, with its own host key and
// configuration, for the SSH delivery tests, benchmarks and the demo (docs/delivery.md, "SSH").
// Key-only: lease accounts' keys are read from a root-owned directory (`AuthorizedKeysFile
// <keysDir>/%u`), which the SSH provisioner writes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Directory for its config, host key, pid file, log and keys (root-owned path, see below). */
  dir: string;
  /** Port on 127.0.0.1; default: a free one (retried if another process takes it first). */
  port?: number;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

export interface RunningSshd {
  host: string;
  port: number;
  /** `AuthorizedKeysFile <keysDir>/%u`. */
  keysDir: string;
  configFile: string;
  /** The host's public key file (`*.pub`) and a known_hosts line for clients. */
  hostKeyPub: string;
  knownHostsFile: string;
  logFile: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (c: Buffer) => done(c.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

/**
 * Starts `sshd -D` with its own config on 127.0.0.1 and waits until it answers. sshd's
 * StrictModes wants `dir` and its parents owned by root and not group/world-writable (not /tmp).
 */
export async function startSshd(options: SshdOptions): Promise<RunningSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: apt-get install -y openssh-server (npm test does it)`);
  }
  const dir = options.dir;
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o755 });
  // privilege separation directory Debian's sshd expects
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKey)) {
    const r = spawnSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'suanli',
      '-f',
      hostKey,
    ]);
    if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
  }
  const hostKeyPub = `${hostKey}.pub`;
  const logFile = join(dir, 'sshd.log');
  const configFile = join(dir, 'sshd_config');
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    writeFileSync(
      configFile,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${keysDir}/%u`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        'UsePAM no',
        'StrictModes yes',
        // many logins at once in the benchmark
        'MaxStartups 200:30:400',
        'LogLevel VERBOSE',
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    const fd = openSync(logFile, 'a');
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', configFile], {
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await banner(port))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited && (await banner(port))) {
      const knownHostsFile = join(dir, 'known_hosts');
      const pub = readFileSync(hostKeyPub, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${pub}\n`);
      return {
        host: '127.0.0.1',
        port,
        keysDir,
        configFile,
        hostKeyPub,
        knownHostsFile,
        logFile,
        stop: () =>
          new Promise<void>((resolve) => {
            if (exited) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    child.kill('SIGKILL');
    // a port taken between the check and the bind: another one (a fixed port fails at once)
    if (options.port !== undefined || attempt >= 4) {
      throw new Error(`sshd did not start on 127.0.0.1:${port}; see ${logFile}`);
    }
  }
}
