// The four failure drills. Each puts load on the exchange, breaks one part while the load runs,
// repairs it, and checks the outcome; each returns what it did and its checks, to be printed.
import type { Exchange } from './exchange.js';
import type { KafkaCluster } from './kafka-cluster.js';
import type { PostgresPair } from './postgres-ha.js';
import { sleep } from './processes.js';
import {
  TradingLoad,
  UsageLoad,
  verifyLedger,
  verifyTrading,
  verifyUsage,
  type Check,
  type Market,
} from './workload.js';

export interface DrillContext {
  exchange: Exchange;
  kafka: KafkaCluster;
  postgres: PostgresPair;
  market: Market;
  dbUrl: () => string;
  /** Seconds of load per phase (DRILL_SECONDS, default 8). */
  phase: number;
}

export interface DrillResult {
  name: string;
  did: string[];
  checks: Check[];
  seconds: number;
}

type Drill = (ctx: DrillContext, did: (s: string) => void) => Promise<Check[]>;

function stamp(t0: number): string {
  return `t+${((Date.now() - t0) / 1000).toFixed(1)}s`;
}

async function healthChecks(ctx: DrillContext): Promise<Check> {
  const ready = await ctx.exchange.allReady();
  const down = Object.entries(ready).filter(([, ok]) => !ok);
  return {
    name: 'every service is ready again (/health/ready)',
    ok: down.length === 0,
    detail:
      down.length === 0
        ? Object.keys(ready).join(', ')
        : `down: ${down.map(([n]) => n).join(', ')}`,
  };
}

/** Kill one of two market-api instances behind the load balancer while orders and top-ups flow. */
const killMarketApi: Drill = async (ctx, did) => {
  const t0 = Date.now();
  const load = new TradingLoad(ctx.exchange.url, ctx.market);
  load.start();
  did(
    `${stamp(t0)} 4 buyers top up and order through the load balancer (:${ctx.exchange.lb.port})`,
  );
  await sleep(ctx.phase * 1000);
  const victim = ctx.exchange.apis[0];
  await ctx.exchange.kill(victim);
  did(`${stamp(t0)} kill -9 ${victim.name} (pid group) while requests are in flight`);
  await sleep(ctx.phase * 1000);
  did(`${stamp(t0)} ${load.ops.length} requests so far, served by the survivor`);
  ctx.exchange.start(victim);
  const ms = await ctx.exchange.ready(victim);
  did(
    `${stamp(t0)} ${victim.name} started again, ready in ${(ms / 1000).toFixed(1)} s; back in rotation`,
  );
  await sleep(ctx.phase * 1000);
  await load.stop();
  const lb = ctx.exchange.lb.stats;
  did(`${stamp(t0)} load stopped: ${load.summary()}`);
  did(
    `load balancer: ${lb.requests} requests, ${lb.rerouted} rerouted before reaching a dead instance, ${lb.badGateway} answered 502 (then retried by the client)`,
  );
  return [
    ...(await verifyTrading(ctx.exchange.url, ctx.dbUrl(), ctx.market, load.ops)),
    await healthChecks(ctx),
  ];
};

/** Kill one of three Kafka brokers while agents send usage. */
const killKafkaBroker: Drill = async (ctx, did) => {
  const t0 = Date.now();
  const usage = new UsageLoad(ctx.exchange.url, ctx.kafka.brokers, ctx.market);
  await usage.start(2);
  did(`${stamp(t0)} 2 metering agents send signed usage (20 events per batch) for 2 leases`);
  await sleep(ctx.phase * 1000);
  const victim = await ctx.kafka.busiestBroker();
  await victim.proc?.kill();
  const killedAt = Date.now();
  did(
    `${stamp(t0)} kill -9 kafka broker ${victim.id} (:${victim.port}), leader of the most usage partitions`,
  );
  await ctx.kafka.waitBrokerGone(victim.id);
  did(
    `${stamp(t0)} the cluster fenced broker ${victim.id} and moved its leaderships ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (ISR of 2 everywhere)`,
  );
  await sleep(ctx.phase * 1000);
  did(
    `${stamp(t0)} ${usage.events} events sent so far, ${usage.sendErrors} sends retried from the spool`,
  );
  ctx.kafka.startNode(victim);
  const t = Date.now();
  await ctx.kafka.waitHealthy(3);
  await ctx.kafka.waitFullIsr();
  did(
    `${stamp(t0)} broker ${victim.id} restarted; all partitions back to 3 in-sync replicas in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  await sleep(ctx.phase * 500);
  await usage.stop();
  did(
    `${stamp(t0)} agents stopped and their spools drained: ${usage.events} events in ${usage.batches} batches`,
  );
  return [...(await verifyUsage(ctx.dbUrl(), usage)), await healthChecks(ctx)];
};

/** Promote the standby PostgreSQL while the exchange runs. */
const promoteStandby: Drill = async (ctx, did) => {
  const t0 = Date.now();
  const load = new TradingLoad(ctx.exchange.url, ctx.market);
  const usage = new UsageLoad(ctx.exchange.url, ctx.kafka.brokers, ctx.market);
  await usage.start(1);
  load.start();
  did(
    `${stamp(t0)} trading load and 1 metering agent running; commits are synchronous to the standby`,
  );
  await sleep(ctx.phase * 1000);
  const before = load.ops.filter((o) => o.status >= 200 && o.status < 300).length;
  await ctx.postgres.primary.proc.kill();
  did(
    `${stamp(t0)} kill -9 the primary PostgreSQL (:${ctx.postgres.ports.primary}); ${before} requests acknowledged before`,
  );
  await sleep(2000);
  const { promoteMs } = await ctx.postgres.promoteStandby();
  did(
    `${stamp(t0)} standby (:${ctx.postgres.ports.standby}) promoted in ${promoteMs} ms (SELECT pg_promote()); the clients' address (:${ctx.postgres.ports.proxy}) now points at it`,
  );
  await sleep(ctx.phase * 1000);
  await load.stop();
  await usage.stop();
  did(`${stamp(t0)} load stopped: ${load.summary()}`);
  return [
    ...(await verifyTrading(ctx.exchange.url, ctx.dbUrl(), ctx.market, load.ops)),
    ...(await verifyUsage(ctx.dbUrl(), usage)),
    await healthChecks(ctx),
  ];
};

/** Restart each service in turn (graceful SIGTERM, start, wait until ready) under load. */
const rollingRestart: Drill = async (ctx, did) => {
  const t0 = Date.now();
  const load = new TradingLoad(ctx.exchange.url, ctx.market);
  const usage = new UsageLoad(ctx.exchange.url, ctx.kafka.brokers, ctx.market);
  await usage.start(1);
  load.start();
  did(`${stamp(t0)} trading load and 1 metering agent running`);
  await sleep(2000);
  for (const s of [...ctx.exchange.apis, ...ctx.exchange.ingests]) {
    const ms = await ctx.exchange.restart(s);
    did(
      `${stamp(t0)} restarted ${s.name}: stopped (SIGTERM, drained) and ready again in ${(ms / 1000).toFixed(1)} s`,
    );
  }
  for (const n of ctx.kafka.nodes) {
    const t = Date.now();
    await n.proc?.stop(30_000);
    await ctx.kafka.waitBrokerGone(n.id);
    ctx.kafka.startNode(n);
    await ctx.kafka.waitHealthy(3);
    await ctx.kafka.waitFullIsr();
    did(
      `${stamp(t0)} restarted kafka broker ${n.id}; partitions fully in sync again after ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const t = Date.now();
  await ctx.postgres.restartCurrentPrimary();
  did(
    `${stamp(t0)} restarted PostgreSQL (fast shutdown, start): back in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  await sleep(ctx.phase * 500);
  await load.stop();
  await usage.stop();
  did(`${stamp(t0)} load stopped: ${load.summary()}`);
  return [
    ...(await verifyTrading(ctx.exchange.url, ctx.dbUrl(), ctx.market, load.ops)),
    ...(await verifyUsage(ctx.dbUrl(), usage)),
    await healthChecks(ctx),
  ];
};

export const DRILLS: { id: string; name: string; run: Drill }[] = [
  { id: 'api', name: 'kill one of two market-api instances', run: killMarketApi },
  { id: 'kafka', name: 'kill one of three Kafka brokers', run: killKafkaBroker },
  { id: 'failover', name: 'promote the standby PostgreSQL', run: promoteStandby },
  { id: 'restart', name: 'restart each service in turn', run: rollingRestart },
];

export async function runDrill(
  d: (typeof DRILLS)[number],
  ctx: DrillContext,
  print: (s: string) => void,
): Promise<DrillResult> {
  const t = Date.now();
  const did: string[] = [];
  print(`\n── drill: ${d.name} ──`);
  let checks: Check[];
  try {
    checks = await d.run(ctx, (s) => {
      did.push(s);
      print(`  did: ${s}`);
    });
  } catch (e) {
    checks = [{ name: 'the drill ran to its end', ok: false, detail: String(e) }];
  }
  checks.push(
    await verifyLedger(ctx.exchange.url, ctx.market).catch((e: unknown) => ({
      name: 'the ledger balances (after the drill)',
      ok: false,
      detail: String(e),
    })),
  );
  for (const c of checks) print(`  check ${c.ok ? 'PASS' : 'FAIL'}: ${c.name} — ${c.detail}`);
  return { name: d.name, did, checks, seconds: (Date.now() - t) / 1000 };
}
