// The API gateway's overhead (docs/delivery.md, "API gateway"): the same load against the
// seller's service directly (baseline) and through the gateway, in the same run, interleaved in
// rounds so the machine's load drifts equally on both. Upstream, gateway and load generator are
// three processes. Three services: `fast` (answers at once: the gateway's share is as large as it
// gets), `work` (1 KiB after 5 ms, a database call) and `model` (1 KiB after 50 ms, a small
// model's answer); beside them a bare Node proxy (no tokens, limits, counting). Goal:
// gateway p99 ≤ 1.3× direct, throughput ≥ 0.7× direct.
//
//   node --import @swc-node/register/esm-register bench/delivery/gateway.bench.ts
//   # BENCH_ROUNDS=3 BENCH_REQUESTS=3000 (per round, target and service) BENCH_CONCURRENCY=16
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SERVICES = (process.env.BENCH_SERVICES ?? 'fast,work,model').split(',');
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

const UPSTREAM = `
const http = require('node:http');
const body = Buffer.alloc(1024, 'x');
const s = http.createServer((req, res) => {
  req.resume();
  if (req.url.startsWith('/work')) setTimeout(() => res.end(body), 5);
  else if (req.url.startsWith('/model')) setTimeout(() => res.end(body), 50);
  else res.end('ok');
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
`;

// A bare Node reverse proxy (no tokens, limits or counting): what Node's HTTP stack alone costs
const BARE_PROXY = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
const s = http.createServer((req, res) => {
  const u = http.request({ host: '127.0.0.1', port: Number(process.env.UP), path: req.url,
    method: req.method, headers: req.headers, agent }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
  req.pipe(u);
});
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
`;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const i = out.indexOf('\n');
      if (i >= 0) resolve(out.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

const quantile = (s: number[], q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];

async function load(
  url: string,
  token: string | undefined,
  n: number,
): Promise<{ lat: number[]; rps: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = request(url, {
        agent,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', () => {
          lat.push(performance.now() - t);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) await one();
    }),
  );
  const secs = (performance.now() - start) / 1000;
  agent.destroy();
  return { lat, rps: n / secs };
}

async function main(): Promise<void> {
  const up = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { port } = JSON.parse(await firstLine(up)) as { port: number };
  const gw = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', join(HERE, 'gateway-child.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, UPSTREAM: `http://127.0.0.1:${port}`, SLOTS: String(CONCURRENCY * 2) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const bare = spawn(process.execPath, ['-e', BARE_PROXY], {
    env: { ...process.env, UP: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const access = JSON.parse(await firstLine(gw)) as { endpoint: string; token: string };
    const bareProxy = JSON.parse(await firstLine(bare)) as { port: number };
    const before = loadavg();
    const targets = {
      direct: { base: `http://127.0.0.1:${port}`, token: undefined },
      gateway: { base: access.endpoint, token: access.token },
      bare: { base: `http://127.0.0.1:${bareProxy.port}`, token: undefined },
    };
    const results: Record<string, { lat: number[]; rps: number[] }> = {};
    for (const svc of SERVICES) {
      for (const t of Object.values(targets)) await load(`${t.base}/${svc}`, t.token, 500); // warm-up
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, t] of Object.entries(targets)) {
          const key = `${svc}/${name}`;
          const res = await load(`${t.base}/${svc}`, t.token, REQUESTS);
          results[key] ??= { lat: [], rps: [] };
          results[key].lat.push(...res.lat);
          results[key].rps.push(res.rps);
        }
      }
    }
    const after = loadavg();
    console.log(
      `gateway overhead: ${ROUNDS} rounds × ${REQUESTS} requests per target and service, ${CONCURRENCY} at once; ` +
        `load average before ${before.map((l) => l.toFixed(2)).join(' ')}, after ${after.map((l) => l.toFixed(2)).join(' ')}\n`,
    );
    console.log('| service | path | p50 | p99 | throughput (median of rounds) |');
    console.log('| --- | --- | --- | --- | --- |');
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const svc of SERVICES) {
      const row = (name: string) => {
        const { lat, rps } = results[`${svc}/${name}`];
        const s = [...lat].sort((a, b) => a - b);
        return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), rps: med(rps) };
      };
      const d = row('direct');
      const g = row('gateway');
      const b = row('bare');
      for (const [name, x] of [
        ['direct (baseline)', d],
        ['bare Node proxy', b],
        ['gateway', g],
      ] as const) {
        console.log(
          `| ${svc} | ${name} | ${x.p50.toFixed(2)} ms | ${x.p99.toFixed(2)} ms | ${x.rps.toFixed(0)} req/s |`,
        );
      }
      console.log(
        `| ${svc} | ratio gateway / direct | ${(g.p50 / d.p50).toFixed(2)}× | ${(g.p99 / d.p99).toFixed(2)}× | ${(g.rps / d.rps).toFixed(2)}× |`,
      );
      console.log(
        `| ${svc} | ratio gateway / bare proxy | ${(g.p50 / b.p50).toFixed(2)}× | ${(g.p99 / b.p99).toFixed(2)}× | ${(g.rps / b.rps).toFixed(2)}× |`,
      );
    }
  } finally {
    bare.kill('SIGTERM');
    gw.kill('SIGTERM');
    up.kill('SIGTERM');
  }
}

await main();
