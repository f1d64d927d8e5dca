// The README's quick start: `npm start` (tools/dev/start.ts) as a child process, with its ports
// moved (SUANLI_START_PORT_OFFSET), against the test run's PostgreSQL, Kafka and stripe-mock (a
// database of its own). Every URL it prints answers; the demo buyer tops up the wallet through
// the local Checkout stand-in and gets exactly the amount; Ctrl-C (SIGINT) stops every process
// it started. The storefront build is the e2e tests' (test/support/web.ts), reused by start.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SessionView, WalletView } from '@suanli/contracts';
import { dropDatabase, recreateDatabase } from '../../tools/dev/services.js';
import { apiClient } from '../support/http.js';
import { buildWeb } from '../support/web.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BANNER = /Suanli Exchange is running \(started in [\d.]+ s\)/;
// minutes when the machine is busy (two suites at once, each booting servers)
const START_TIMEOUT_MS = 150_000;
const DB = `quick_start_${process.pid}`;
const DEMO_DIR = join(ROOT, '.local', 'run', `quick-start-${process.pid}`);

interface TopUp {
  id: string;
  status: string;
  amount: string;
  currency: string;
  provider: string;
  checkoutUrl: string | null;
}

let start: ChildProcess | undefined;
let output = '';
let exited: Promise<number | string> | undefined;
let databaseUrl: string | undefined;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** An offset for the web/API/ingest/checkout ports (3000, 3100, 3101, 3102) where all are free. */
async function freeOffset(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const offset = 20_000 + Math.floor(Math.random() * 300) * 100;
    const free = await Promise.all([3000, 3100, 3101, 3102].map((p) => portFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free port range for npm start');
}

/** The pids of `pid`'s descendants (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Running (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function waitForOutput(re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = (): void => {
      const m = re.exec(output);
      if (m) return resolve(m[0]);
      if (start?.exitCode !== null || start.signalCode !== null) {
        return reject(new Error(`npm start exited (${start?.exitCode}):\n${output.slice(-6000)}`));
      }
      if (Date.now() > deadline) {
        return reject(
          new Error(`no "${re.source}" within ${timeoutMs} ms:\n${output.slice(-6000)}`),
        );
      }
      setTimeout(poll, 200);
    };
    poll();
  });
}

/** The URLs of the banner's line starting with `label`. */
function printed(label: string): string[] {
  const line = output.split('\n').find((l) => l.trimStart().startsWith(`${label} `));
  if (!line) throw new Error(`npm start printed no "${label}" line:\n${output.slice(-3000)}`);
  return line.match(/https?:\/\/[^\s)]+/g) ?? [];
}

beforeAll(async () => {
  // the storefront build the other e2e tests use (built here when none is fresh)
  await buildWeb();
  const base = process.env.DATABASE_URL;
  if (!base || !process.env.KAFKA_BROKERS || !process.env.STRIPE_API_BASE) {
    throw new Error('DATABASE_URL, KAFKA_BROKERS and STRIPE_API_BASE must be set (npm test)');
  }
  databaseUrl = await recreateDatabase(base, DB);
  rmSync(DEMO_DIR, { recursive: true, force: true });
  mkdirSync(DEMO_DIR, { recursive: true });
}, 300_000);

afterAll(async () => {
  if (start?.pid && start.exitCode === null && start.signalCode === null) {
    for (const pid of descendants(start.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.kill(-start.pid, 'SIGKILL');
    await exited;
  }
  if (process.env.DATABASE_URL) await dropDatabase(process.env.DATABASE_URL, DB).catch(() => {});
  rmSync(DEMO_DIR, { recursive: true, force: true });
}, 60_000);

describe('npm start (the quick start)', () => {
  it('starts everything, a demo top-up completes through the checkout stand-in, Ctrl-C stops it all', async () => {
    const offset = await freeOffset();
    // what a developer's shell has, plus the services of this test run; no NODE_ENV=test
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      STRIPE_API_BASE: process.env.STRIPE_API_BASE,
      SUANLI_START_PORT_OFFSET: String(offset),
      SUANLI_DEMO_DIR: DEMO_DIR,
      NEXT_TELEMETRY_DISABLED: '1',
    };
    start = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', join(ROOT, 'tools', 'dev', 'start.ts')],
      { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = start;
    exited = new Promise((resolve) =>
      child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
    );
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    await waitForOutput(BANNER, START_TIMEOUT_MS);
    expect(output).toContain('storefront build is up to date');
    expect(output).not.toMatch(/whsec_/); // the webhook secret is never printed

    // every URL it prints answers
    const web = printed('storefront')[0];
    const api = printed('market API')[0];
    const checkout = printed('checkout')[0];
    expect(web).toBe(`http://127.0.0.1:${3000 + offset}`);
    expect(api).toBe(`http://127.0.0.1:${3100 + offset}`);
    expect(checkout).toBe(`http://127.0.0.1:${3102 + offset}`);
    const answering = [
      web,
      ...printed('API docs'),
      ...printed('API health'),
      ...printed('ingest health'),
      checkout,
    ];
    expect(answering).toHaveLength(7);
    for (const url of answering) {
      const r = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      await r.arrayBuffer();
      expect({ url, status: r.status }).toEqual({ url, status: 200 });
    }

    // the demo buyer tops up (in a currency the demo leases do not touch)
    const login = await apiClient(api).post<SessionView>('/v1/auth/login', {
      email: 'buyer@suanli.local',
      password: 'buyer-demo-2026',
    });
    expect(login.status).toBe(200);
    const buyer = apiClient(api, login.body.accessToken);
    const before = await buyer.get<WalletView>('/v1/wallet');
    expect(before.body.balances.find((b) => b.currency === 'EUR')).toBeUndefined();
    const topUp = async (amount: string): Promise<TopUp> => {
      const r = await buyer.postIdempotent<TopUp>('/v1/wallet/top-ups', {
        currency: 'EUR',
        amount,
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ provider: 'stripe', status: 'open' });
      expect(r.body.checkoutUrl?.startsWith(`${checkout}/checkout/cs_`)).toBe(true);
      return r.body;
    };

    const paid = await topUp('123.45');
    const page = await fetch(paid.checkoutUrl ?? '');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('123.45 EUR');
    expect(html).toContain('name="action" value="pay"');
    expect(html).toContain('name="action" value="cancel"');
    const pay = await fetch(paid.checkoutUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=pay',
      redirect: 'manual',
    });
    expect(pay.status).toBe(303);
    expect(pay.headers.get('location')).toBe(`${web}/wallet?top-up=${paid.id}&status=success`);

    // Cancel pays nothing and goes back to the cancel URL
    const cancelled = await topUp('7.00');
    const cancel = await fetch(cancelled.checkoutUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=cancel',
      redirect: 'manual',
    });
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get('location')).toBe(
      `${web}/wallet?top-up=${cancelled.id}&status=cancelled`,
    );

    const after = await buyer.get<WalletView>('/v1/wallet');
    expect(after.body.balances.find((b) => b.currency === 'EUR')).toEqual({
      currency: 'EUR',
      available: '123.45',
      held: '0.00',
      total: '123.45',
    });
    const list = await buyer.get<{ items: TopUp[] }>('/v1/wallet/top-ups');
    const status = Object.fromEntries(list.body.items.map((t) => [t.id, t.status]));
    expect(status[paid.id]).toBe('paid');
    expect(status[cancelled.id]).toBe('open');

    // Ctrl-C: SIGINT to its process group, as a terminal sends it
    const pids = descendants(child.pid ?? 0);
    // migrate and seed are done: market-api, checkout, ingest, agent, web (and its workers)
    expect(pids.length).toBeGreaterThanOrEqual(5);
    process.kill(-(child.pid ?? 0), 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), 30_000))),
    ]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(output).toMatch(/\[start\] stopped/);
    expect(pids.filter(alive)).toEqual([]);
    for (const port of [3000, 3100, 3101, 3102]) expect(await portFree(port + offset)).toBe(true);
  }, 180_000);
});
