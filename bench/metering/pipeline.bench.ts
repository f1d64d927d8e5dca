// Metering pipeline benchmark: agents' signed batches at full rate through the real Kafka into
// the real ingest and PostgreSQL aggregates. Prints end-to-end events/s and p50/p99 latency from
// produce to queryable (the batch's DB transaction committed), and beside them, in the same run
// on the same broker, Kafka's own producer and consumer perf tools for the same message count and
// size (org.apache.kafka.tools.ProducerPerformance / ConsumerPerformance from .local/kafka/libs).
//
//   npm run services -- start      # prints DATABASE_URL and KAFKA_BROKERS
//   DATABASE_URL=postgres://…/suanli KAFKA_BROKERS=127.0.0.1:19092 \
//     node --import @swc-node/register/esm-register bench/metering/pipeline.bench.ts
//   # BENCH_EVENTS=100000 BENCH_EVENTS_PER_BATCH=500 BENCH_AGENTS=8 BENCH_LEASES=100 BENCH_PARTITIONS=4
//   # BENCH_INGEST_PROFILE=/tmp/prof: a CPU profile of each ingest process
//   # BENCH_INGESTS=2: ingest processes in the consumer group (default 2, one per core)
//   # BENCH_INGEST_NODE_ARGS='--trace-gc' BENCH_INGEST_STDOUT=1: node flags for the ingests, their output
//   # BENCH_KAFKA_HOME=<dir>: the Kafka distribution whose libs/ has the perf tools (default .local/kafka)
//   # BENCH_COMPRESSION=lz4|gzip|none: how the agents (and Kafka's perf producer) compress (default lz4)
//   # BENCH_RATE=50000: paced, not a burst: the agents together offer this many events/s (each
//   #   its batches on a fixed schedule); latency is then measured from each batch's scheduled
//   #   send time (no coordinated omission), so p50/p99 are the latency at that load
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';
import { cpuDelta, cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { signedBatches } from './fixture.js';
import { registerLz4Codec } from '../../apps/metering/src/shared/lz4-codec.js';
import { createTestDatabase } from '../../test/support/db.js';
import { createTestTopics, kafkaBrokers } from '../../test/support/kafka.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EVENTS = Number(process.env.BENCH_EVENTS ?? '100000');
const PER_BATCH = Number(process.env.BENCH_EVENTS_PER_BATCH ?? '500');
const AGENTS = Number(process.env.BENCH_AGENTS ?? '8');
const LEASES = Number(process.env.BENCH_LEASES ?? '100');
/** Partitions of the usage topic; the ingest applies as many at once (INGEST_CONCURRENCY). */
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? '4');
/**
 * Ingest processes in the consumer group (BENCH_INGESTS, default 2: one per core of this machine),
 * the partitions (BENCH_PARTITIONS, default 4) shared among them.
 */
const INGESTS = Number(process.env.BENCH_INGESTS ?? '2');
/**
 * BENCH_COMPRESSION: `lz4` (default: what the agent sends), `gzip` or `none`; Kafka's perf test
 * producer compresses the same way.
 */
const COMPRESSION = (process.env.BENCH_COMPRESSION ?? 'lz4') as 'lz4' | 'gzip' | 'none';
const CODEC = { lz4: CompressionTypes.LZ4, gzip: CompressionTypes.GZIP, none: undefined }[
  COMPRESSION
];
/** BENCH_RATE: events/s the agents offer together (paced); unset: as fast as they can (burst). */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;

const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  registerLz4Codec();
  const brokers = kafkaBrokers();
  const db = await createTestDatabase();
  const topics = await createTestTopics({
    'exchange.usage.v1': PARTITIONS,
    'exchange.usage.dlq.v1': 1,
    'exchange.lease.v1': 1,
    'bench.kafka.perf': 3,
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    // A resource, LEASES leases on it (the ingest's read model), AGENTS enrolled agents and
    // their signed batches.
    const signStart = Date.now();
    const { batches: captured, events } = await signedBatches(pool, {
      events: EVENTS,
      perBatch: PER_BATCH,
      agents: AGENTS,
      leases: LEASES,
    });
    const avgBytes = Math.round(captured.reduce((s, m) => s + m.value.length, 0) / captured.length);
    console.log(
      `signed ${fmt(captured.length)} batches × ${PER_BATCH} events (${fmt(events)} events, ` +
        `${fmt(avgBytes)} B per message) in ${fmt((Date.now() - signStart) / 1000, 1)} s`,
    );

    // The real ingest, BENCH_INGESTS processes in one consumer group (as deployed: one per core,
    // each its share of the partitions); a batch is queryable once its agent's chain head
    // (agents.last_seq, written in the batch's transaction) has reached its seq: polled every 10 ms.
    const groupId = `bench-${randomUUID()}`;
    const ingests = Array.from({ length: INGESTS }, () =>
      spawn(
        process.execPath,
        [
          // BENCH_INGEST_PROFILE=<dir>: a V8 CPU profile of the ingest (open in Chrome DevTools).
          ...(process.env.BENCH_INGEST_PROFILE
            ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_INGEST_PROFILE}`]
            : []),
          ...(process.env.BENCH_INGEST_NODE_ARGS
            ? process.env.BENCH_INGEST_NODE_ARGS.split(' ')
            : []),
          '--import',
          '@swc-node/register/esm-register',
          join(ROOT, 'apps/metering/src/ingest/main.ts'),
        ],
        {
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            KAFKA_BROKERS: brokers.join(','),
            USAGE_TOPIC: topics.topics['exchange.usage.v1'],
            DLQ_TOPIC: topics.topics['exchange.usage.dlq.v1'],
            LEASE_TOPIC: topics.topics['exchange.lease.v1'],
            GROUP_ID: groupId,
            INGEST_PORT: '0',
            INGEST_QUIET: '1',
            INGEST_CONCURRENCY: String(Math.ceil(PARTITIONS / INGESTS)),
          },
          stdio: ['ignore', process.env.BENCH_INGEST_STDOUT ? 'inherit' : 'ignore', 'inherit'],
        },
      ),
    );
    const ingestPids = new Set(ingests.map((c) => c.pid ?? -1));
    const sentAt = new Map<string, number>(); // agent:seq → produce start
    const latencies: number[] = [];
    const seen = new Map<string, number>(); // agent → highest seq seen queryable
    let lastCommit = 0;
    let cpuAtLastCommit: CpuSnapshot | undefined;
    const seqOf = (jws: string) =>
      (JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as { seq: number })
        .seq;
    const meta = captured.map((m) => ({ ...m, seq: seqOf(m.value) }));
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const { rows } = await pool.query<{ id: string; last_seq: string | null }>(
          'SELECT id, last_seq FROM agents WHERE last_seq IS NOT NULL',
        );
        const now = Date.now();
        for (const r of rows) {
          const to = Number(r.last_seq);
          for (let q = (seen.get(r.id) ?? -1) + 1; q <= to; q++) {
            const at = sentAt.get(`${r.id}:${q}`);
            if (at !== undefined) {
              latencies.push(now - at);
              lastCommit = now;
            }
          }
          if (to > (seen.get(r.id) ?? -1)) seen.set(r.id, to);
        }
        // CPU by role up to the last commit: taken once, when the poll sees the last batch.
        if (cpuAtLastCommit === undefined && latencies.length === captured.length) {
          cpuAtLastCommit = cpuSnapshot(ingestPids);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Wait until every ingest has joined the group and it is stable (partitions assigned).
    const admin = new Kafka({
      clientId: 'bench-admin',
      brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (g !== undefined && g.state === 'Stable' && g.members.length === INGESTS) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await admin.disconnect();

    // One producer per agent, as deployed (each agent is its own process with its own
    // idempotent producer; one shared producer with maxInFlightRequests 1 would serialise them).
    const byAgent = new Map<string, typeof meta>();
    for (const m of meta) byAgent.set(m.key, [...(byAgent.get(m.key) ?? []), m]);
    const producers = await Promise.all(
      [...byAgent.keys()].map(async (agent, i) => {
        const kafka = new Kafka({
          clientId: `bench-agent-${i}`,
          brokers,
          logLevel: logLevel.NOTHING,
        });
        const producer = kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await producer.connect();
        return { agent, producer };
      }),
    );
    const cpuAtT0 = cpuSnapshot(ingestPids);
    const t0 = Date.now();
    // Paced: agent a's i-th batch is due at t0 + i × (its interval), the agents staggered.
    const interval = RATE === undefined ? 0 : (PER_BATCH * byAgent.size * 1000) / RATE;
    // Agents produce concurrently, each its own batches in order (acks from all ISRs).
    await Promise.all(
      producers.map(async ({ agent, producer }, a) => {
        let i = 0;
        for (const m of byAgent.get(agent) ?? []) {
          if (RATE !== undefined) {
            const due = t0 + (i + a / byAgent.size) * interval;
            i++;
            const wait = due - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            // From the schedule, not the actual send: a late producer's delay counts as latency.
            sentAt.set(`${m.key}:${m.seq}`, due);
          } else sentAt.set(`${m.key}:${m.seq}`, Date.now());
          await producer.send({
            topic: topics.topics['exchange.usage.v1'],
            acks: -1,
            ...(CODEC !== undefined ? { compression: CODEC } : {}),
            messages: [{ key: m.key, value: m.value, headers: m.headers }],
          });
        }
      }),
    );
    const produced = Date.now();
    const deadline = Date.now() + 600_000;
    while (latencies.length < captured.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    polling = false;
    await poller;
    await Promise.all(producers.map(({ producer }) => producer.disconnect()));
    await Promise.all(
      ingests.map(async (c) => {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }),
    );
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM usage_events');
    const applied = Number(rows[0].n);
    // agent_batches.received_at is its transaction's start (now()): one value per transaction.
    const txs = Number(
      (
        await pool.query<{ n: string }>(
          'SELECT count(DISTINCT received_at) AS n FROM agent_batches',
        )
      ).rows[0]?.n,
    );
    latencies.sort((x, y) => x - y);
    const seconds = (lastCommit - t0) / 1000;
    const e2eEventsPerSec = applied / seconds;

    // Kafka's own round trip for the same number and size of messages, same broker, same run.
    // BENCH_KAFKA_HOME: a Kafka distribution elsewhere (its libs/ holds the perf tools' jars).
    const kafkaHome = process.env.BENCH_KAFKA_HOME ?? join(ROOT, '.local', 'kafka');
    const cp = join(kafkaHome, 'libs', '*');
    const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
    const jvm = [
      '-Xmx1g', // ProducerPerformance holds the whole payload file (≈ 400 kB a message)
      '-XX:+UseSerialGC',
      `-Dlog4j2.configurationFile=${join(ROOT, 'tools', 'dev', 'kafka', 'log4j2.properties')}`,
    ];
    const perfTopic = topics.topics['bench.kafka.perf'];
    const payloadDir = mkdtempSync(join(tmpdir(), 'metering-bench-'));
    const payloadFile = join(payloadDir, 'payloads.txt');
    writeFileSync(payloadFile, captured.map((m) => m.value).join('\n'));
    const prod = spawnSync(
      java,
      [
        ...jvm,
        '-cp',
        cp,
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        perfTopic,
        '--num-records',
        String(captured.length),
        // The very messages the agents sent (one a line; a JWS has no newline).
        '--payload-file',
        payloadFile,
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${brokers.join(',')}`,
        'acks=all',
        'enable.idempotence=true',
        'max.in.flight.requests.per.connection=1',
        'max.request.size=2097152',
        ...(COMPRESSION !== 'none' ? [`compression.type=${COMPRESSION}`] : []),
      ],
      { encoding: 'utf8' },
    );
    const prodLine =
      prod.stdout
        .split('\n')
        .filter((l) => l.includes('records/sec'))
        .pop() ?? '';
    const pm =
      /([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
        prodLine,
      );
    const cons = spawnSync(
      java,
      [
        ...jvm,
        '-cp',
        cp,
        'org.apache.kafka.tools.ConsumerPerformance',
        '--bootstrap-server',
        brokers.join(','),
        '--topic',
        perfTopic,
        '--num-records',
        String(captured.length),
        '--timeout',
        '60000',
      ],
      { encoding: 'utf8' },
    );
    rmSync(payloadDir, { recursive: true, force: true });
    const consLines = cons.stdout.split('\n');
    const header = (consLines.find((l) => l.startsWith('start.time')) ?? '')
      .split(',')
      .map((s) => s.trim());
    const values = (
      consLines.filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, /.test(l)).pop() ?? ''
    )
      .split(',')
      .map((s) => s.trim());
    const col = (name: string) => Number(values[header.indexOf(name)]);
    const consMsgPerSec = col('nMsg.sec');
    const prodMsgPerSec = pm ? Number(pm[1]) : NaN;
    const perMsg = events / captured.length; // events per message, as in the pipeline
    // Kafka alone, produce then consume, as events/s (same events per message).
    const kafkaRoundTrip = 1 / (1 / (prodMsgPerSec * perMsg) + 1 / (consMsgPerSec * perMsg));

    console.log('');
    console.log(
      `metering pipeline (${fmt(applied)} events applied, ${fmt(captured.length)} messages)`,
    );
    console.log(`| path | events/s | p50 | p99 |`);
    console.log(`| --- | --- | --- | --- |`);
    console.log(
      `| e2e: agent batches → Kafka (acks=all${COMPRESSION !== 'none' ? `, ${COMPRESSION}` : ''}) → ingest → PostgreSQL aggregates queryable | ` +
        `${fmt(e2eEventsPerSec)} | ${fmt(pct(latencies, 50))} ms | ${fmt(pct(latencies, 99))} ms |`,
    );
    console.log(
      `| Kafka ProducerPerformance, ${fmt(captured.length)} × ${fmt(avgBytes)} B (the same payloads), ` +
        `acks=all${COMPRESSION !== 'none' ? `, ${COMPRESSION}` : ''} | ` +
        `${fmt(prodMsgPerSec * perMsg)} | ${pm?.[5] ?? '?'} ms | ${pm?.[7] ?? '?'} ms |`,
    );
    console.log(
      `| Kafka ConsumerPerformance, same messages | ${fmt(consMsgPerSec * perMsg)} | – | – |`,
    );
    console.log(`| Kafka round trip (produce then consume) | ${fmt(kafkaRoundTrip)} | – | – |`);
    console.log(
      `ratio e2e / Kafka round trip: ${(e2eEventsPerSec / kafkaRoundTrip).toFixed(2)}; ` +
        `produce phase ${fmt((produced - t0) / 1000, 2)} s, last commit ${fmt(seconds, 2)} s; ` +
        `${fmt(captured.length)} batches queryable, applied in ${fmt(txs)} transactions`,
    );
    if (cpuAtLastCommit !== undefined) {
      const cpu = cpuDelta(cpuAtT0, cpuAtLastCommit);
      const perEvent = (x: number) => `${fmt((x * 1e6) / applied, 1)} µs/event`;
      console.log(
        `CPU from the first produce to the last commit (${fmt(seconds, 2)} s × 2 cores): ` +
          (['postgres', 'ingest', 'kafka', 'agents', 'other'] as const)
            .map((r) => `${r} ${fmt(cpu[r], 2)} s (${perEvent(cpu[r])})`)
            .join(', '),
      );
    }
    if (RATE !== undefined) {
      const lastDue = Math.max(...sentAt.values());
      console.log(
        `paced: ${fmt(RATE)} events/s offered for ${fmt((lastDue - t0) / 1000, 2)} s (latency from ` +
          `each batch's scheduled send); the last batch was queryable ${fmt(lastCommit - lastDue)} ms ` +
          `after its scheduled send; max latency ${fmt(latencies[latencies.length - 1] ?? NaN)} ms`,
      );
    }
    if (!pm) console.log(`ProducerPerformance output: ${prod.stdout}\n${prod.stderr}`);
    if (Number.isNaN(consMsgPerSec))
      console.log(`ConsumerPerformance output: ${cons.stdout}\n${cons.stderr}`);
  } finally {
    await pool.end();
    await topics.drop();
    await db.drop();
  }
}

await main();
process.exit(0);
