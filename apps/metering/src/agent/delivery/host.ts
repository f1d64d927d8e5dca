// Running host commands for the provisioners: no shell, bounded time, stderr in the error.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import { DeliveryError } from './provisioner.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Exit codes that count as success (default [0]). */
  ok?: number[];
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs `cmd args…` (never through a shell); an exit code outside `ok` is a `host_failure`. */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const ok = options.ok ?? [0];
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        env: options.env ?? process.env,
      },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? -9 : -1;
        if (ok.includes(code)) {
          resolve({ code, stdout, stderr });
          return;
        }
        const why = err !== null && typeof err.code === 'string' ? err.code : `exit ${code}`;
        reject(
          new DeliveryError(
            'host_failure',
            `${cmd} ${args[0] ?? ''}: ${why}${stderr.trim() ? `: ${stderr.trim().slice(-300)}` : ''}`,
            { cause: err },
          ),
        );
      },
    );
  });
}

/** True when `cmd` is an executable on PATH (or an absolute path that exists). */
export async function hasCommand(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', 'command -v "$1"', 'sh', cmd]);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the processes whose real or effective uid is one of `uids`, by uid (from /proc). */
export async function processesByUid(uids: ReadonlySet<number>): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (uids.size === 0) return out;
  const entries = await readdir('/proc');
  await Promise.all(
    entries.map(async (e) => {
      if (!/^\d+$/.test(e)) return;
      let status: string;
      try {
        status = await readFile(`/proc/${e}/status`, 'utf8');
      } catch {
        return; // gone meanwhile
      }
      const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      if (m === null) return;
      for (const u of new Set([Number(m[1]), Number(m[2])])) {
        if (!uids.has(u)) continue;
        const list = out.get(u) ?? [];
        list.push(Number(e));
        out.set(u, list);
      }
    }),
  );
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Replaces `file` with `body` atomically (a temporary file beside it, then rename): a crash
 * leaves the old content or the new, never a torn file. Creates the directory (mode 0700).
 */
export async function writeFileAtomic(file: string, body: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, body, { mode });
  await rename(tmp, file);
}

/** Runs writes one after another (a later write never lands before an earlier one). */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  push(write: () => Promise<void>): Promise<void> {
    const next = this.tail.then(write);
    this.tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * Listens on `host:port` (default 127.0.0.1, any free port) and resolves with the base URL to
 * tell buyers (`publicUrl`, else `http://host:port`).
 */
export async function listen(
  server: Server,
  options: { host?: string; port?: number; publicUrl?: string },
): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : options.port;
  return options.publicUrl ?? `http://${host}:${port}`;
}
