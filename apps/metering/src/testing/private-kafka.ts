// A private single-node Kafka broker for tests that restart it (KRaft, from the jars that
// tools/dev/services.ts uses, in .local/kafka/libs), on its own ports and data directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const LIBS = join(ROOT, '.local', 'kafka', 'libs');
const LOG4J = join(ROOT, 'tools', 'dev', 'kafka', 'log4j2.properties');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateKafka {
  brokers: string[];
  /** Graceful stop (SIGTERM) and wait for exit; the data directory stays. */
  stop(): Promise<void>;
  /** Starts the broker again on the same ports and data. */
  start(): Promise<void>;
  /** Stops and deletes the data directory. */
  destroy(): Promise<void>;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  if (!existsSync(LIBS))
    throw new Error(`no Kafka jars in ${LIBS}: run \`npm run services -- start\``);
  const [port, controller] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'suanli-private-kafka-'));
  const data = join(dir, 'data');
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${data}`,
      'num.network.threads=2',
      'num.io.threads=2',
      'num.partitions=1',
      'default.replication.factor=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'share.coordinator.state.topic.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const jvm = [
    '-Xmx384m',
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J}`,
  ];
  const cp = `${LIBS}/*`;
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const fmt = spawnSync(
    java,
    [
      ...jvm,
      '-cp',
      cp,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      props,
      '--standalone',
    ],
    { encoding: 'utf8' },
  );
  if (fmt.status !== 0) throw new Error(`formatting the private broker failed: ${fmt.stderr}`);

  const brokers = [`127.0.0.1:${port}`];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const answers = async (): Promise<boolean> => {
    const admin = new Kafka({
      clientId: 'private-kafka-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };

  const start = async () => {
    const c = spawn(java, [...jvm, '-cp', cp, 'kafka.Kafka', props], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + 120_000;
    while (!(await answers())) {
      if (c.exitCode !== null) throw new Error(`private broker exited (${c.exitCode})`);
      if (Date.now() > deadline) throw new Error('private broker did not start in 120 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const stop = async () => {
    if (child === null || child.exitCode !== null) return;
    child.kill('SIGTERM');
    const forced = setTimeout(() => child?.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(forced);
    child = null;
  };
  await start();
  return {
    brokers,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
