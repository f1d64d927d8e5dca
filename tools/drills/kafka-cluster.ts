// A three-broker Apache Kafka cluster in KRaft mode for the drills (each node is broker and
// controller; the three form the controller quorum), from the jars tools/dev/services.ts
// downloads into .local/kafka/libs. Topics have replication factor 3 and
// min.insync.replicas=2, as in ops/docker-compose.prod.yml: with one broker down every write
// acknowledged with acks=all is still on two brokers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { spawnLogged, waitFor, type DrillProcess } from './processes.js';

export interface KafkaNode {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  props: string;
  proc?: DrillProcess;
}

export const TOPIC_SPECS = [
  { topic: 'exchange.usage.v1', numPartitions: 3 },
  { topic: 'exchange.usage.dlq.v1', numPartitions: 1 },
  { topic: 'exchange.lease.v1', numPartitions: 3 },
];

function javaBin(): string {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

export class KafkaCluster {
  readonly nodes: KafkaNode[];
  private readonly libs: string;
  private readonly log4j: string;

  constructor(
    private readonly repoRoot: string,
    private readonly root: string,
    private readonly logDir: string,
    ports: { brokers: number[]; controllers: number[] },
  ) {
    this.libs = join(repoRoot, '.local', 'kafka', 'libs');
    this.log4j = join(repoRoot, 'tools', 'dev', 'kafka', 'log4j2.properties');
    this.nodes = ports.brokers.map((port, i) => ({
      id: i + 1,
      port,
      controllerPort: ports.controllers[i],
      dir: join(root, `kafka-${i + 1}`),
      props: join(root, `kafka-${i + 1}.properties`),
    }));
  }

  get brokers(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  private properties(n: KafkaNode): string {
    const voters = this.nodes.map((v) => `${v.id}@127.0.0.1:${v.controllerPort}`).join(',');
    return [
      'process.roles=broker,controller',
      `node.id=${n.id}`,
      `controller.quorum.voters=${voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${n.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${n.dir}`,
      'num.network.threads=2',
      'num.io.threads=2',
      'default.replication.factor=3',
      'min.insync.replicas=2',
      'unclean.leader.election.enable=false',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=3',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=3',
      'transaction.state.log.min.isr=2',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=3',
      'share.coordinator.state.topic.min.isr=2',
      'share.coordinator.state.topic.num.partitions=3',
      'group.initial.rebalance.delay.ms=0',
      'log.segment.bytes=8388608',
      'log.cleaner.dedupe.buffer.size=8388608',
      // a killed broker is noticed within seconds
      'broker.session.timeout.ms=6000',
      'broker.heartbeat.interval.ms=1000',
      'replica.lag.time.max.ms=10000',
      '',
    ].join('\n');
  }

  private jvm(): string[] {
    return [
      '-Xmx384m',
      '-Xms64m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${this.log4j}`,
    ];
  }

  /** Formats the three nodes' storage with one cluster id and starts them. */
  async start(log: (s: string) => void): Promise<void> {
    if (!existsSync(this.libs)) {
      throw new Error(
        'Kafka jars are missing: run `npm run services -- start` once (it downloads them)',
      );
    }
    const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
    mkdirSync(this.root, { recursive: true });
    for (const n of this.nodes) {
      rmSync(n.dir, { recursive: true, force: true });
      writeFileSync(n.props, this.properties(n));
      const r = spawnSync(
        javaBin(),
        [
          ...this.jvm(),
          '-cp',
          `${this.libs}/*`,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          n.props,
        ],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`kafka format ${n.id}: ${r.stderr || r.stdout}`);
    }
    for (const n of this.nodes) this.startNode(n);
    await this.waitHealthy(this.nodes.length);
    await this.createTopics();
    log(
      `kafka: 3 brokers on :${this.nodes.map((n) => n.port).join(', :')} (KRaft quorum of 3), ` +
        `topics RF=3, min.insync.replicas=2`,
    );
  }

  startNode(n: KafkaNode): void {
    n.proc = spawnLogged(
      `kafka-${n.id}`,
      javaBin(),
      [...this.jvm(), '-cp', `${this.libs}/*`, 'kafka.Kafka', n.props],
      { cwd: this.repoRoot, env: process.env, logDir: this.logDir },
    );
  }

  admin(): Admin {
    return new Kafka({
      clientId: 'drills-admin',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retry: { retries: 2 },
    }).admin();
  }

  /** Waits until `count` brokers are registered. */
  async waitHealthy(count: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${count} kafka brokers up`,
      async () => {
        const admin = this.admin();
        try {
          await admin.connect();
          const c = await admin.describeCluster();
          return c.brokers.length >= count ? true : undefined;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  /**
   * Waits until the cluster has noticed that broker `id` is gone: it is no longer registered
   * (fenced) and no partition of the exchange topics has it as leader or in its ISR. Without
   * this, a restart right after a kill could be "back in sync" before the loss was even seen.
   */
  async waitBrokerGone(id: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `kafka broker ${id} fenced and out of every ISR`,
      async () => {
        const admin = this.admin();
        try {
          await admin.connect();
          const c = await admin.describeCluster();
          if (c.brokers.some((b) => b.nodeId === id)) return undefined;
          const md = await admin.fetchTopicMetadata({ topics: TOPIC_SPECS.map((t) => t.topic) });
          const gone = md.topics.every((t) =>
            t.partitions.every((p) => p.leader !== id && !p.isr.includes(id)),
          );
          return gone ? true : undefined;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Waits until every partition of the exchange topics has all 3 replicas in sync. */
  async waitFullIsr(timeoutMs = 120_000): Promise<void> {
    await waitFor(
      'every partition fully in sync',
      async () => {
        const admin = this.admin();
        try {
          await admin.connect();
          const md = await admin.fetchTopicMetadata({ topics: TOPIC_SPECS.map((t) => t.topic) });
          const ok = md.topics.every((t) =>
            t.partitions.every((p) => p.isr.length === 3 && p.leader >= 0),
          );
          return ok ? true : undefined;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  private async createTopics(): Promise<void> {
    // Created without waiting for leaders (kafkajs's wait trips over a partition whose leader
    // is still being elected); waitFullIsr then waits for every replica.
    await waitFor('topics created', async () => {
      const admin = this.admin();
      await admin.connect();
      try {
        await admin.createTopics({
          waitForLeaders: false,
          topics: TOPIC_SPECS.map((t) => ({
            ...t,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '2' }],
          })),
        });
        const existing = await admin.listTopics();
        return TOPIC_SPECS.every((t) => existing.includes(t.topic)) ? true : undefined;
      } finally {
        await admin.disconnect();
      }
    });
    await this.waitFullIsr();
  }

  /** The broker that leads the most partitions of the usage topic (the one to kill). */
  async busiestBroker(): Promise<KafkaNode> {
    const admin = this.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: ['exchange.usage.v1'] });
      const counts = new Map<number, number>();
      for (const p of md.topics[0].partitions)
        counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
      const id = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 1;
      return this.nodes.find((n) => n.id === id) ?? this.nodes[0];
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.proc?.stop(20_000)));
  }
}
