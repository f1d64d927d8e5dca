// The agent process (main.ts) with its metrics listener: a stand-in market API hands it one
// active lease, the simulator collector meters it every second; /metrics is scraped while it
// sends to the real Kafka, and while Kafka is unreachable (the spool grows).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { generateSigningKey } from '@suanli/crypto';
import { expectEventually } from '../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../test/support/kafka.js';
import { freePort } from '../../../../test/support/ports.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const AGENT = '86.R03.E00042/000137#m1';

let dir: string;
let keyFile: string;
let marketApi: Server;
let marketApiUrl: string;
let topics: Awaited<ReturnType<typeof createTestTopics>>;
const children: ChildProcess[] = [];

/** Starts main.ts with the metrics listener on a free port; resolves with its /metrics URL. */
async function startAgent(brokers: string, stateDir: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      MAIN,
      '--agent-id',
      AGENT,
      '--key-file',
      keyFile,
      '--market-api',
      marketApiUrl,
      '--brokers',
      brokers,
      '--topic',
      topics.topics['exchange.usage.v1'],
      '--state-dir',
      stateDir,
      '--window',
      '1',
      '--metrics-port',
      '0',
    ],
    { env: { ...process.env, AGENT_METRICS_PORT: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start:\n${output}`)), 30_000);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      const m = /"msg":"metrics listening","url":"([^"]+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}):\n${output}`));
    });
  });
}

/** One sample's value from the exposition text (0 when the series is absent). */
function sample(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

const scrape = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

const label = `{agent="${AGENT}"}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-metrics-'));
  const key = await generateSigningKey();
  keyFile = join(dir, 'key.json');
  await writeFile(keyFile, JSON.stringify(key.privateJwk));
  topics = await createTestTopics({ 'exchange.usage.v1': 1 });
  const lease = {
    leaseId: randomUUID(),
    cri: 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C12.M192.G1-H200:000137:U',
    class: 'AI',
    spec: { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } },
    slots: 1,
    startsAt: new Date(Date.now() - 3_600_000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    catalogVersion: '2026.1',
  };
  marketApi = createHttpServer((req, res) => {
    if (req.url === '/v1/agents/me/leases') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [lease] }));
    } else {
      res.writeHead(404).end(); // no heartbeats: the agent turns them off
    }
  });
  await new Promise<void>((r) => marketApi.listen(0, '127.0.0.1', r));
  marketApiUrl = `http://127.0.0.1:${(marketApi.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await new Promise((r) => marketApi.close(r));
  await topics.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('metering agent metrics', () => {
  it('counts the batches and events Kafka acknowledged; the spool drains', async () => {
    const url = await startAgent(kafkaBrokers().join(','), join(dir, 'up'));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await expectEventually(
      async () => {
        const t = await scrape(url);
        expect(sample(t, `metering_agent_batches_produced_total${label}`)).toBeGreaterThanOrEqual(
          2,
        );
        return t;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(sample(text, `metering_agent_events_produced_total${label}`)).toBeGreaterThanOrEqual(2);
    expect(sample(text, `metering_agent_batches_spooled_total${label}`)).toBeGreaterThanOrEqual(2);
    expect(
      sample(text, `metering_agent_last_send_success_timestamp_seconds${label}`),
    ).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(sample(text, `metering_agent_spool_batches${label}`)).toBeLessThanOrEqual(1);
    expect(text).toContain('# TYPE metering_agent_collector_read_errors_total counter');
    expect(text).toContain('# TYPE metering_agent_produce_errors_total counter');
    expect(text).toContain('metering_agent_process_resident_memory_bytes');
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);

    // What the agent produced is on the topic.
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topics.topics['exchange.usage.v1']);
    await admin.disconnect();
    expect(Number(offsets[0].high)).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('with Kafka unreachable the spool grows and produce errors are counted', async () => {
    const url = await startAgent(`127.0.0.1:${await freePort()}`, join(dir, 'down'));
    const first = await expectEventually(
      async () => {
        const n = sample(await scrape(url), `metering_agent_spool_batches${label}`);
        expect(n).toBeGreaterThanOrEqual(1);
        return n;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const text = await expectEventually(
      async () => {
        const t = await scrape(url);
        expect(sample(t, `metering_agent_spool_batches${label}`)).toBeGreaterThanOrEqual(first + 2);
        expect(sample(t, `metering_agent_spool_bytes${label}`)).toBeGreaterThan(0);
        expect(sample(t, `metering_agent_spool_oldest_age_seconds${label}`)).toBeGreaterThanOrEqual(
          1,
        );
        return t;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(sample(text, `metering_agent_batches_produced_total${label}`)).toBe(0);
    await expectEventually(
      async () => {
        const t = await scrape(url);
        expect(
          sample(t, `metering_agent_produce_errors_total{agent="${AGENT}",stage="connect"}`),
        ).toBeGreaterThanOrEqual(1);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 90_000);
});
