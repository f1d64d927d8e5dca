import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { withLock } from '../../tools/dev/services.js';
import { NEXT_BUILD_ARGS, webBuildIsStale } from '../../tools/dev/web-build.js';

/**
 * Starts the storefront (apps/web) for end-to-end tests: `next build` when the build is missing
 * or older than its sources, then `next start` on a free port against the given market API.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB_DIR = join(ROOT, 'apps', 'web');
const NEXT_BIN = join(ROOT, 'node_modules', '.bin', 'next');
const START_TIMEOUT_MS = 60_000;

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

export { webBuildIsStale };

function webEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
}

/** Runs a command to completion, keeping the tail of its output for the error message. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: WEB_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${output}`));
    });
  });
}

const BUILD_LOCKED = /Another .*next build.* process is already running/;
const BUILD_WAIT_MS = 240_000;

/**
 * Builds when stale. Another `next build` of this tree (`npm start`, a parallel test run) holds
 * `.next/lock`: then wait for it and use its result unless the sources changed meanwhile.
 */
export async function buildWeb(): Promise<{ built: boolean; ms: number }> {
  const started = Date.now();
  // One build at a time among the test workers: a suite arriving during another's build waits for
  // it to end, never starting `next start` on a half-written .next (BUILD_ID is written before
  // the build is complete).
  return withLock(
    'web-build',
    () => undefined,
    undefined,
    async () => {
      for (;;) {
        if (!webBuildIsStale()) return { built: false, ms: Date.now() - started };
        try {
          await run(NEXT_BIN, NEXT_BUILD_ARGS, webEnv({ NODE_ENV: 'production' }));
          return { built: true, ms: Date.now() - started };
        } catch (error) {
          const locked = error instanceof Error && BUILD_LOCKED.test(error.message);
          if (!locked || Date.now() - started > BUILD_WAIT_MS) throw error;
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    },
  );
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`next start exited early (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    try {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`storefront did not answer at ${url} within ${START_TIMEOUT_MS} ms:\n${log()}`);
}

/** `env`: more environment for `next start` (e.g. WEB_METRICS_TOKEN). */
export async function startWeb(
  apiUrl: string,
  env: Record<string, string> = {},
): Promise<WebServer> {
  await buildWeb();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(NEXT_BIN, ['start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: WEB_DIR,
    env: webEnv({ ...env, MARKET_API_URL: apiUrl, NODE_ENV: 'production' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so close() also ends next's workers
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const close = async (): Promise<void> => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    await exited(child);
    clearTimeout(timer);
  };

  try {
    await waitUntilUp(url, child, () => output);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, close };
}
