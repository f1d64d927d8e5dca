// `npm run drills [-- api kafka failover restart | --quick]`: starts a private, redundant copy of the
// exchange on this machine (PostgreSQL primary + synchronous hot standby behind a proxy, three
// Kafka brokers, two market-api instances behind a load balancer, two ingest instances), runs
// the failure drills against it, prints what each did and its checks, stops everything it
// started, and exits non-zero if any check failed. Nothing is shared with `npm start`/`npm test`:
// its own ports (DRILL_PORT_BASE, default the first free range of 27400, 28400, …: base..base+222)
// and data in .local/drills/. `--quick` (what `npm test` runs): the api drill with 4-second
// load phases, about a minute (the kafka drill alone adds 40-60 s on a loaded machine).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRILLS, runDrill, type DrillResult } from './drills.js';
import { Exchange } from './exchange.js';
import { KafkaCluster } from './kafka-cluster.js';
import { PostgresPair, pgQuery, pgUrl } from './postgres-ha.js';
import { setUpMarket } from './workload.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = join(ROOT, '.local', 'drills');
const LOGS = join(DIR, 'logs');
const portsFrom = (b: number) => ({
  pg: { proxy: b, primary: b + 1, standby: b + 2 },
  kafka: { brokers: [b + 101, b + 102, b + 103], controllers: [b + 111, b + 112, b + 113] },
  lb: b + 200,
  apis: [b + 201, b + 202],
  ingests: [b + 221, b + 222],
});
type Ports = ReturnType<typeof portsFrom>;
const DB = 'suanli_drill';

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * DRILL_PORT_BASE when set; else the first of 27400, 28400, … whose ports are all free (another
 * checkout's drills, or anything else, may hold the first). All below the ephemeral range.
 */
async function choosePorts(): Promise<Ports> {
  const given = process.env.DRILL_PORT_BASE;
  if (given) return portsFrom(Number(given));
  for (let b = 27400; b <= 31400; b += 1000) {
    const ports = portsFrom(b);
    const all = [
      ...Object.values(ports.pg),
      ...ports.kafka.brokers,
      ...ports.kafka.controllers,
      ports.lb,
      ...ports.apis,
      ...ports.ingests,
    ];
    if ((await Promise.all(all.map(portFree))).every(Boolean)) return ports;
  }
  throw new Error('no free port range for the drills (27400..31622); set DRILL_PORT_BASE');
}

const lines: string[] = [];
const print = (s: string) => {
  lines.push(s);
  console.log(s);
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const wanted = quick ? ['api'] : args.filter((a) => !a.startsWith('--'));
  const selected = wanted.length ? DRILLS.filter((d) => wanted.includes(d.id)) : DRILLS;
  if (selected.length === 0) {
    console.error(`unknown drill; choose from: ${DRILLS.map((d) => d.id).join(', ')}`);
    return 2;
  }
  const t0 = Date.now();
  const PORTS = await choosePorts();
  rmSync(LOGS, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  const postgres = new PostgresPair(DIR, LOGS, PORTS.pg);
  const kafka = new KafkaCluster(ROOT, DIR, LOGS, PORTS.kafka);
  const exchange = new Exchange(
    ROOT,
    LOGS,
    { databaseUrl: postgres.url(DB), kafkaBrokers: kafka.brokers },
    { lb: PORTS.lb, apis: PORTS.apis, ingests: PORTS.ingests },
  );
  const results: DrillResult[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    await exchange.stop().catch(() => undefined);
    await Promise.all([
      kafka.stop().catch(() => undefined),
      postgres.stop().catch(() => undefined),
    ]);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    print(`drills: setting up (logs in ${LOGS})`);
    await Promise.all([
      postgres.start((s) => print(`  ${s}`)),
      kafka.start((s) => print(`  ${s}`)),
    ]);
    await pgQuery(pgUrl(PORTS.pg.primary), `CREATE DATABASE ${DB}`);
    await exchange.startAll((s) => print(`  ${s}`));
    const market = await setUpMarket(exchange.url);
    print(`  market: 1 seller with an H100 offer, ${market.buyers.length} funded buyers`);
    print(`  set up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const ctx = {
      exchange,
      kafka,
      postgres,
      market,
      dbUrl: () => postgres.url(DB),
      phase: Number(process.env.DRILL_SECONDS ?? (quick ? 4 : 8)),
    };
    for (const d of selected) results.push(await runDrill(d, ctx, print));
  } catch (e) {
    print(`drills: setup failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    results.push({
      name: 'setup',
      did: [],
      checks: [{ name: 'setup', ok: false, detail: String(e) }],
      seconds: 0,
    });
  } finally {
    await stopAll();
  }
  print('\n── summary ──');
  for (const r of results) {
    const failed = r.checks.filter((c) => !c.ok).length;
    print(
      `${failed === 0 ? 'PASS' : 'FAIL'}  ${r.name}: ${r.checks.length - failed}/${r.checks.length} checks in ${r.seconds.toFixed(1)} s`,
    );
  }
  const allOk = results.every((r) => r.checks.every((c) => c.ok));
  print(`drills ${allOk ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  writeFileSync(join(DIR, 'report.txt'), lines.join('\n') + '\n');
  return allOk ? 0 : 1;
}

process.exitCode = await main();
