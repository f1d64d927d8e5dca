// Child processes for the dev tools: output prefixed by name, each in its own process group
// (so Ctrl-C reaches only us and we stop them in order), stopped group-wide and waited for.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];
let nextColor = 0;

function prefixer(name: string): string {
  const color = COLORS[nextColor++ % COLORS.length];
  return process.stdout.isTTY ? `\x1b[${color}m[${name}]\x1b[0m ` : `[${name}] `;
}

function pipeLines(stream: Readable | null, out: NodeJS.WriteStream, prefix: string): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    out.write(`${prefix}${line}\n`);
  });
}

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** 'prefix' (default): prefix each output line with the name; 'inherit': pass through as is. */
  output?: 'prefix' | 'inherit';
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const live = new Set<Child>();

// Last resort if we exit without stopping them (an exception, process.exit): no orphans left behind.
process.once('exit', () => {
  for (const c of live) {
    if (!c.hasExited() && c.proc.pid) {
      try {
        process.kill(-c.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

export function run(name: string, cmd: string, args: string[], opts: RunOptions = {}): Child {
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio:
      opts.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  };
  const proc = spawn(cmd, args, spawnOpts);
  if (opts.output !== 'inherit') {
    const prefix = prefixer(name);
    pipeLines(proc.stdout, process.stdout, prefix);
    pipeLines(proc.stderr, process.stderr, prefix);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, sig) => {
      done = true;
      resolve(code ?? sig ?? -1);
    });
    proc.once('error', (e) => {
      done = true;
      process.stderr.write(`[${name}] could not start ${cmd}: ${e.message}\n`);
      resolve(-1);
    });
  });
  const child: Child = {
    name,
    proc,
    exited,
    hasExited: () => done,
    async stop(graceMs = 10_000) {
      const pgid = proc.pid;
      if (pgid === undefined) return;
      if (!done || groupAlive(pgid)) {
        try {
          process.kill(-pgid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      const deadline = Date.now() + graceMs;
      while ((!done || groupAlive(pgid)) && Date.now() < deadline) await sleep(50);
      if (!done || groupAlive(pgid)) {
        process.stderr.write(`[${name}] did not stop within ${graceMs / 1000} s; killing it\n`);
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone
        }
        while (!done) await sleep(50);
      }
      live.delete(child);
    },
  };
  live.add(child);
  void exited.then(() => {
    if (proc.pid === undefined || !groupAlive(proc.pid)) live.delete(child);
  });
  return child;
}

/** Runs a command to completion; resolves with its exit code. */
export async function runToEnd(
  name: string,
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<number | string> {
  const c = run(name, cmd, args, opts);
  const code = await c.exited;
  await c.stop(2000);
  return code;
}

/** Runs a command, collecting its output (stdout and stderr interleaved). */
export function capture(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.once('error', (e) => resolve({ code: -1, output: `${output}${e.message}\n` }));
    proc.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** GETs `url` until it answers with a status below 400 (or `accept`). */
export async function waitForHttp(
  url: string,
  opts: {
    timeoutMs: number;
    accept?: (status: number) => boolean;
    /** give up early if this child exits */
    child?: Child;
    signal?: AbortSignal;
  },
): Promise<void> {
  const accept = opts.accept ?? ((s: number): boolean => s < 400);
  const deadline = Date.now() + opts.timeoutMs;
  let last: string;
  for (;;) {
    if (opts.signal?.aborted) throw new Error('interrupted');
    if (opts.child?.hasExited()) {
      throw new Error(`${opts.child.name} exited before ${url} answered`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer within ${opts.timeoutMs / 1000} s (last: ${last})`);
    }
    await sleep(250);
  }
}
