// Child processes of the drills: each in its own process group, output to a log file under
// .local/drills/logs/, killed (SIGKILL, a crash) or stopped (SIGTERM, a graceful restart) by the
// drill, and all stopped when the drill run ends, whatever happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DrillProcess {
  name: string;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number | string>;
  alive(): boolean;
  /** SIGKILL to the process group: a crash. */
  kill(): Promise<void>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`: a clean stop. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<DrillProcess>();

process.once('exit', () => {
  for (const p of live) {
    if (p.alive() && p.proc.pid) {
      try {
        process.kill(-p.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  uid?: number;
  gid?: number;
}

export function spawnLogged(
  name: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions,
): DrillProcess {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', fd, fd],
    uid: opts.uid,
    gid: opts.gid,
  });
  closeSync(fd);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true;
      live.delete(p);
      resolve(code ?? signal ?? 'unknown');
    });
    proc.once('error', (e) => {
      done = true;
      live.delete(p);
      resolve(`spawn error: ${e.message}`);
    });
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    if (done || !proc.pid) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      // already gone
    }
  };
  const p: DrillProcess = {
    name,
    proc,
    logFile,
    exited,
    alive: () => !done,
    async kill() {
      signalGroup('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM') {
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(p);
  return p;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; died?: DrillProcess } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    if (opts.died && !opts.died.alive()) {
      throw new Error(`${what}: ${opts.died.name} exited\n${tail(opts.died.logFile)}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: timed out${last ? ` (${String(last)})` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** GET `url` and resolve true on 2xx (false on anything else, including no answer). */
export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
