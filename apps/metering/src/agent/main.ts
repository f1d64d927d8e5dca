// The metering agent process: every AGENT_WINDOW_SECONDS it asks the market API for each
// configured agent's active leases, samples them and sends one signed batch per agent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { z } from 'zod';
import { TOPICS } from '@suanli/contracts';
import { MeteringAgent } from './agent.js';
import { CgroupV2Collector } from './collectors/cgroup.js';
import { NvidiaSmiCollector } from './collectors/nvidia.js';
import { SimulatorCollector } from './collectors/simulator.js';
import { SlurmCollector } from './collectors/slurm.js';
import { clipToLease, fetchActiveLeases, lastWindow } from './lease-client.js';
import type { Collector, UsageSample } from './types.js';

const configSchema = z.object({
  marketApiUrl: z.string().url(),
  kafkaBrokers: z.array(z.string()).optional(),
  stateDir: z.string().optional(),
  agents: z
    .array(
      z.object({
        agentId: z.string().min(1),
        privateJwk: z.record(z.string(), z.unknown()),
        resourceCri: z.string(),
        class: z.enum(['GEN', 'AI', 'HPC']),
        cpuModel: z.string().optional(),
        collector: z.enum(['simulator', 'cgroup', 'nvidia', 'slurm']).default('simulator'),
        /** For `cgroup`: the cgroup directory, `{leaseId}` replaced by the lease id. */
        cgroupDir: z.string().optional(),
        /** For `slurm`: the account of the lease's jobs, `{leaseId}` replaced by the lease id. */
        slurmAccount: z.string().optional(),
      }),
    )
    .min(1),
});
const MAX_EVENTS_PER_BATCH = 500;
type AgentConfig = z.infer<typeof configSchema>['agents'][number];

function collectorFor(a: AgentConfig): Collector {
  switch (a.collector) {
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

function log(msg: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ at: new Date().toISOString(), msg, ...extra }));
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
  throw new Error('set AGENT_CONFIG_FILE, or AGENT_ID + AGENT_KEY_FILE + MARKET_API_URL');
}

let config: z.infer<typeof configSchema>;
try {
  config = readConfig(process.env);
} catch (err) {
  console.error(`invalid metering agent configuration: ${(err as Error).message}`);
  process.exit(2);
}
const marketApiUrl = process.env.MARKET_API_URL ?? config.marketApiUrl;
const windowSeconds = Number(process.env.AGENT_WINDOW_SECONDS ?? '60');
if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 3600) {
  console.error('AGENT_WINDOW_SECONDS must be an integer in 1..3600');
  process.exit(2);
}
const brokers = (process.env.KAFKA_BROKERS ?? config.kafkaBrokers?.join(',') ?? '127.0.0.1:19092')
  .split(',')
  .filter((b) => b.length > 0);
const stateDir = process.env.AGENT_STATE_DIR ?? config.stateDir ?? '.local/agent-state';

const kafka = new Kafka({ clientId: 'metering-agent', brokers, logLevel: logLevel.WARN });
// Murmur2 (Java-compatible): an agent id always maps to the same partition.
const producer: Producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();

const agents = config.agents.map((a) => ({
  config: a,
  collector: collectorFor(a),
  agent: new MeteringAgent({
    agentId: a.agentId,
    privateJwk: a.privateJwk,
    producer,
    topic: process.env.USAGE_TOPIC ?? TOPICS.usage,
    stateFile: join(stateDir, `${encodeURIComponent(a.agentId)}.json`),
  }),
}));

async function tick(): Promise<void> {
  const window = lastWindow(new Date(), windowSeconds);
  await Promise.all(
    agents.map(async ({ config: a, collector, agent }) => {
      try {
        await agent.flushPending();
        const leases = await fetchActiveLeases(marketApiUrl, a.agentId, a.privateJwk);
        const samples: UsageSample[] = [];
        for (const lease of leases) {
          const w = clipToLease(lease, window);
          if (w === null) continue;
          const withModel = a.cpuModel !== undefined ? { ...lease, cpuModel: a.cpuModel } : lease;
          samples.push({
            lease: withModel,
            window: w,
            usage: await collector.sample(withModel, w),
          });
        }
        // A batch holds at most 1000 events (contract) and must stay under Kafka's 1 MB message.
        for (let i = 0; i < samples.length; i += MAX_EVENTS_PER_BATCH) {
          const sent = await agent.sendBatch(samples.slice(i, i + MAX_EVENTS_PER_BATCH));
          log('batch sent', { agent: a.agentId, seq: sent.seq, events: sent.events.length });
        }
      } catch (err) {
        log('tick failed', { agent: a.agentId, error: (err as Error).message });
      }
    }),
  );
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

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('shutting down', { signal });
  if (timer) clearTimeout(timer);
  await current;
  await producer.disconnect();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

log('metering agent started', { agents: agents.length, windowSeconds, brokers });
schedule();
