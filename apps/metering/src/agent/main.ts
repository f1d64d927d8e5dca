// The metering agent process (`npx suanli agent …`): every window it asks the market API for each
// configured agent's active leases, samples them, signs one chained batch per agent into the
// agent's on-disk spool and sends the spool to Kafka (acks from all in-sync replicas, idempotent
// producer, retries); a heartbeat per window; sent/spooled/lag stats in the log and, with
// --metrics-port, in Prometheus format on GET /metrics. An agent with a `delivery` section also
// runs its provisioners and the delivery control loop (docs/delivery.md, "The agent's control
// loop"): capabilities at start, then long-poll, reconcile and report.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { z } from 'zod';
import { TOPICS } from '@suanli/contracts';
import { MeteringAgent } from './agent.js';
import { CgroupV2Collector } from './collectors/cgroup.js';
import { NvidiaSmiCollector } from './collectors/nvidia.js';
import { SimulatorCollector } from './collectors/simulator.js';
import { SlurmCollector } from './collectors/slurm.js';
import {
  clipToLease,
  fetchActiveLeases,
  lastWindow,
  sendHeartbeat,
  utilizationOf,
} from './lease-client.js';
import { startAgentDelivery, deliveryConfigSchema, type AgentDelivery } from './delivery/setup.js';
import { AgentMetrics, serveMetrics, type SpoolSource } from './metrics.js';
import type { Collector, UsageSample } from './types.js';

const configSchema = z.object({
  marketApiUrl: z.string().url(),
  kafkaBrokers: z.array(z.string()).optional(),
  stateDir: z.string().optional(),
  agents: z
    .array(
      z
        .object({
          agentId: z.string().min(1),
          privateJwk: z.record(z.string(), z.unknown()),
          resourceCri: z.string(),
          class: z.enum(['GEN', 'AI', 'HPC']),
          cpuModel: z.string().optional(),
          /** `gateway`: the usage the agent's API gateway metered (needs `delivery.apiGateway`). */
          collector: z
            .enum(['simulator', 'cgroup', 'nvidia', 'slurm', 'gateway'])
            .default('simulator'),
          /** For `cgroup`: the cgroup directory, `{leaseId}` replaced by the lease id. */
          cgroupDir: z.string().optional(),
          /** For `slurm`: the account of the lease's jobs, `{leaseId}` replaced by the lease id. */
          slurmAccount: z.string().optional(),
          /** Deliver this resource's leases (provisioners and the control loop). */
          delivery: deliveryConfigSchema.optional(),
        })
        .refine((a) => a.collector !== 'gateway' || a.delivery?.apiGateway !== undefined, {
          message: 'collector gateway needs delivery.apiGateway',
          path: ['collector'],
        }),
    )
    .min(1),
});
const MAX_EVENTS_PER_BATCH = 500;
type AgentConfig = z.infer<typeof configSchema>['agents'][number];

function collectorFor(a: AgentConfig, delivery: AgentDelivery | undefined): Collector {
  switch (a.collector) {
    case 'gateway':
      if (delivery?.gateway === undefined) throw new Error('collector gateway: no API gateway');
      return delivery.gateway.meter;
    case 'cgroup': {
      const pattern = a.cgroupDir ?? '/sys/fs/cgroup/suanli/{leaseId}';
      return new CgroupV2Collector({ cgroupDir: (l) => pattern.replace('{leaseId}', l.leaseId) });
    }
    case 'nvidia':
      return new NvidiaSmiCollector();
    case 'slurm': {
      const pattern = a.slurmAccount ?? '{leaseId}';
      return new SlurmCollector({ account: (l) => pattern.replace('{leaseId}', l.leaseId) });
    }
    default:
      return new SimulatorCollector();
  }
}

const USAGE = `suanli agent — the metering agent

Usage: suanli agent [options]

Options (each also read from the environment; flags win):
  --config FILE         agents file (AGENT_CONFIG_FILE), see apps/metering/README.md
  --agent-id ID         a single agent (AGENT_ID) …
  --key-file FILE       … its private JWK (AGENT_KEY_FILE)
  --resource-cri CRI    … its resource (AGENT_RESOURCE_CRI)
  --class GEN|AI|HPC    … the resource class (AGENT_CLASS, default AI)
  --collector NAME      … simulator|cgroup|nvidia|slurm (AGENT_COLLECTOR, default simulator)
  --market-api URL      market API (MARKET_API_URL)
  --brokers LIST        Kafka bootstrap servers host:port,… (KAFKA_BROKERS)
  --topic NAME          usage topic (USAGE_TOPIC, default exchange.usage.v1)
  --state-dir DIR       state files and spools (AGENT_STATE_DIR, default .local/agent-state)
  --window SECONDS      window length, 1..3600 (AGENT_WINDOW_SECONDS, default 60)
  --stats SECONDS       stats log interval (AGENT_STATS_SECONDS, default 30)
  --metrics-port PORT   serve Prometheus metrics on GET /metrics (AGENT_METRICS_PORT;
                        off when unset)
  --metrics-host HOST   … on this address (AGENT_METRICS_HOST, default 127.0.0.1)
  -h, --help            this help
`;

function log(msg: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ at: new Date().toISOString(), msg, ...extra }));
}

type Flags = Partial<Record<string, string>>;

/** Flags win over the environment: each flag is mapped onto its environment variable. */
function settings(argv: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'agent-id': { type: 'string' },
      'key-file': { type: 'string' },
      'resource-cri': { type: 'string' },
      class: { type: 'string' },
      collector: { type: 'string' },
      'market-api': { type: 'string' },
      brokers: { type: 'string' },
      topic: { type: 'string' },
      'state-dir': { type: 'string' },
      window: { type: 'string' },
      stats: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return null;
  const f = values as Flags;
  const map: [string, string][] = [
    ['config', 'AGENT_CONFIG_FILE'],
    ['agent-id', 'AGENT_ID'],
    ['key-file', 'AGENT_KEY_FILE'],
    ['resource-cri', 'AGENT_RESOURCE_CRI'],
    ['class', 'AGENT_CLASS'],
    ['collector', 'AGENT_COLLECTOR'],
    ['market-api', 'MARKET_API_URL'],
    ['brokers', 'KAFKA_BROKERS'],
    ['topic', 'USAGE_TOPIC'],
    ['state-dir', 'AGENT_STATE_DIR'],
    ['window', 'AGENT_WINDOW_SECONDS'],
    ['stats', 'AGENT_STATS_SECONDS'],
    ['metrics-port', 'AGENT_METRICS_PORT'],
    ['metrics-host', 'AGENT_METRICS_HOST'],
  ];
  const out = { ...env };
  for (const [flag, name] of map) if (f[flag] !== undefined) out[name] = f[flag];
  return out;
}

/**
 * AGENT_CONFIG_FILE (several agents), or for one agent (docs/architecture.md) AGENT_ID,
 * AGENT_KEY_FILE (its private JWK), MARKET_API_URL and optionally AGENT_COLLECTOR.
 */
function readConfig(env: NodeJS.ProcessEnv): z.infer<typeof configSchema> {
  if (env.AGENT_CONFIG_FILE) {
    return configSchema.parse(JSON.parse(readFileSync(env.AGENT_CONFIG_FILE, 'utf8')));
  }
  if (env.AGENT_ID && env.AGENT_KEY_FILE && env.MARKET_API_URL) {
    return configSchema.parse({
      marketApiUrl: env.MARKET_API_URL,
      agents: [
        {
          agentId: env.AGENT_ID,
          privateJwk: JSON.parse(readFileSync(env.AGENT_KEY_FILE, 'utf8')) as unknown,
          resourceCri: env.AGENT_RESOURCE_CRI ?? '',
          class: env.AGENT_CLASS ?? 'AI',
          collector: env.AGENT_COLLECTOR ?? 'simulator',
        },
      ],
    });
  }
  throw new Error('set --config, or --agent-id + --key-file + --market-api (or their env vars)');
}

let env: NodeJS.ProcessEnv;
let config: z.infer<typeof configSchema>;
try {
  const parsed = settings(process.argv.slice(2), process.env);
  if (parsed === null) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  env = parsed;
  config = readConfig(env);
} catch (err) {
  console.error(`invalid metering agent configuration: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const marketApiUrl = env.MARKET_API_URL ?? config.marketApiUrl;
const windowSeconds = Number(env.AGENT_WINDOW_SECONDS ?? '60');
if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 3600) {
  console.error('AGENT_WINDOW_SECONDS (--window) must be an integer in 1..3600');
  process.exit(2);
}
const statsSeconds = Number(env.AGENT_STATS_SECONDS ?? '30');
if (!Number.isInteger(statsSeconds) || statsSeconds < 1) {
  console.error('AGENT_STATS_SECONDS (--stats) must be a positive integer');
  process.exit(2);
}
const metricsPort =
  env.AGENT_METRICS_PORT === undefined || env.AGENT_METRICS_PORT === ''
    ? undefined
    : Number(env.AGENT_METRICS_PORT);
if (
  metricsPort !== undefined &&
  !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)
) {
  console.error('AGENT_METRICS_PORT (--metrics-port) must be a port number (0..65535)');
  process.exit(2);
}
const metricsHost = env.AGENT_METRICS_HOST ?? '127.0.0.1';
const brokers = (env.KAFKA_BROKERS ?? config.kafkaBrokers?.join(',') ?? '127.0.0.1:19092')
  .split(',')
  .filter((b) => b.length > 0);
const stateDir = env.AGENT_STATE_DIR ?? config.stateDir ?? '.local/agent-state';

const kafka = new Kafka({
  clientId: 'metering-agent',
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
});
// Idempotent (acks from all in-sync replicas, one request in flight, so retries never reorder
// or duplicate); murmur2 (Java-compatible): an agent id always maps to the same partition.
const producer: Producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
let connected = false;
const connect = async () => {
  if (connected) return;
  await producer.connect();
  connected = true;
};

// Counted whether or not the metrics are served (cheap); the listener is optional.
const metrics = new AgentMetrics((): SpoolSource[] => agents.map((e) => e.agent));
// Each delivering agent: its provisioners (listeners started) and its control loop.
const deliveries = new Map<string, AgentDelivery>();
for (const a of config.agents) {
  if (a.delivery === undefined) continue;
  try {
    deliveries.set(
      a.agentId,
      await startAgentDelivery({
        agentId: a.agentId,
        privateJwk: a.privateJwk,
        marketApiUrl,
        stateDir,
        config: a.delivery,
        log: (msg, extra) => log(msg, { agent: a.agentId, ...extra }),
      }),
    );
  } catch (err) {
    console.error(`cannot start delivery for ${a.agentId}: ${(err as Error).message}`);
    process.exit(2);
  }
}
const agents = config.agents.map((a) => ({
  config: a,
  collector: collectorFor(a, deliveries.get(a.agentId)),
  heartbeats: true,
  agent: new MeteringAgent({
    agentId: a.agentId,
    privateJwk: a.privateJwk,
    producer,
    topic: env.USAGE_TOPIC ?? TOPICS.usage,
    stateFile: join(stateDir, `${encodeURIComponent(a.agentId)}.json`),
    maxAttempts: 3,
    observer: metrics.observer(a.agentId),
  }),
}));

/** Samples the last window of every agent's leases into its spool (never waits for Kafka). */
async function tick(): Promise<void> {
  const window = lastWindow(new Date(), windowSeconds);
  await Promise.all(
    agents.map(async (entry) => {
      const { config: a, collector, agent } = entry;
      try {
        const leases = await fetchActiveLeases(marketApiUrl, a.agentId, a.privateJwk).catch(
          (err: unknown) => {
            metrics.leaseFetchErrors.inc({ agent: a.agentId });
            throw err;
          },
        );
        const samples: (UsageSample & { lease: (typeof leases)[number] })[] = [];
        for (const lease of leases) {
          const w = clipToLease(lease, window);
          if (w === null) continue;
          const withModel = a.cpuModel !== undefined ? { ...lease, cpuModel: a.cpuModel } : lease;
          samples.push({
            lease: withModel,
            window: w,
            usage: await collector.sample(withModel, w).catch((err: unknown) => {
              metrics.collectorReadErrors.inc({ agent: a.agentId, collector: a.collector });
              throw err;
            }),
          });
        }
        // A batch holds at most 1000 events (contract) and must stay under Kafka's 1 MB message.
        for (let i = 0; i < samples.length; i += MAX_EVENTS_PER_BATCH) {
          const b = await agent.spoolBatch(samples.slice(i, i + MAX_EVENTS_PER_BATCH));
          log('batch spooled', { agent: a.agentId, seq: b.seq, events: b.events.length });
        }
        if (entry.heartbeats) {
          const utilization = utilizationOf(samples);
          entry.heartbeats = await sendHeartbeat(marketApiUrl, a.agentId, a.privateJwk, {
            status: 'online',
            utilization,
          });
          if (!entry.heartbeats) log('heartbeats not offered by the market API (404): off');
        }
      } catch (err) {
        log('tick failed', { agent: a.agentId, error: (err as Error).message });
      }
    }),
  );
  kickDrain();
}

// The sender: drains every agent's spool; on failure retries with backoff (the spool keeps all).
let draining: Promise<void> | null = null;
let backoffMs = 500;
let retryTimer: NodeJS.Timeout | undefined;
function kickDrain(): void {
  if (draining !== null || stopping) return;
  draining = (async () => {
    try {
      await connect().catch((err: unknown) => {
        for (const { agent } of agents) {
          metrics.produceErrors.inc({ agent: agent.agentId, stage: 'connect' });
        }
        throw err;
      });
      for (const { agent } of agents) await agent.drain();
      backoffMs = 500;
    } catch (err) {
      log('send failed; batches stay spooled', {
        error: (err as Error).message,
        retryInMs: backoffMs,
      });
      retryTimer = setTimeout(kickDrain, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    } finally {
      draining = null;
    }
  })();
}

async function logStats(): Promise<void> {
  for (const { config: a, agent } of agents) {
    const s = await agent.stats();
    log('stats', { agent: a.agentId, ...s });
  }
}

let stopping = false;
let current: Promise<void> = Promise.resolve();
let timer: NodeJS.Timeout | undefined;

function schedule(): void {
  if (stopping) return;
  const ms = windowSeconds * 1000;
  // Run just after each window boundary.
  const delay = ms - (Date.now() % ms) + 250;
  timer = setTimeout(() => {
    current = tick().finally(schedule);
  }, delay);
}

const statsTimer = setInterval(() => void logStats().catch(() => undefined), statsSeconds * 1000);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('shutting down', { signal });
  if (timer) clearTimeout(timer);
  if (retryTimer) clearTimeout(retryTimer);
  clearInterval(statsTimer);
  metricsServer?.close();
  await Promise.all([...deliveries.values()].map((d) => d.close().catch(() => undefined)));
  await current;
  await draining;
  // One last attempt to send what is spooled; whatever is left is sent at the next start.
  await Promise.race([
    (async () => {
      for (const { agent } of agents) await agent.drain();
    })().catch(() => undefined),
    new Promise((r) => setTimeout(r, 5_000)),
  ]);
  await logStats().catch(() => undefined);
  if (connected) await producer.disconnect().catch(() => undefined);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

let metricsServer: Server | undefined;
if (metricsPort !== undefined) {
  try {
    metricsServer = await serveMetrics(metrics.registry, metricsPort, metricsHost);
    const address = metricsServer.address();
    const port = typeof address === 'object' && address !== null ? address.port : metricsPort;
    log('metrics listening', { url: `http://${metricsHost}:${port}/metrics` });
  } catch (err) {
    console.error(
      `cannot serve metrics on ${metricsHost}:${metricsPort}: ${(err as Error).message}`,
    );
    process.exit(2);
  }
}

log('metering agent started', { agents: agents.length, windowSeconds, brokers, stateDir });
// What an earlier run (or an outage) left spooled goes first.
kickDrain();
schedule();
for (const d of deliveries.values()) d.loop.start();
