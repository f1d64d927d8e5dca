// The exchange's own processes for the drills: two market-api instances behind the load
// balancer and two metering ingest instances (one consumer group), all pointed at the
// PostgreSQL proxy and the three Kafka brokers.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LoadBalancer, type Upstream } from './load-balancer.js';
import { httpOk, spawnLogged, waitFor, type DrillProcess } from './processes.js';

const TS_NODE = ['--import', '@swc-node/register/esm-register'];

export const OPERATOR = { email: 'operator@drills.local', password: 'drill-operator-2026' };

export interface ServiceProc {
  name: string;
  kind: 'market-api' | 'ingest';
  port: number;
  proc?: DrillProcess;
}

export class Exchange {
  readonly apis: ServiceProc[];
  readonly ingests: ServiceProc[];
  readonly lb: LoadBalancer;
  private readonly jwk: string;

  constructor(
    private readonly repoRoot: string,
    private readonly logDir: string,
    private readonly env: { databaseUrl: string; kafkaBrokers: string[] },
    ports: { lb: number; apis: number[]; ingests: number[] },
  ) {
    this.apis = ports.apis.map((port, i) => ({
      name: `market-api-${i + 1}`,
      kind: 'market-api' as const,
      port,
    }));
    this.ingests = ports.ingests.map((port, i) => ({
      name: `ingest-${i + 1}`,
      kind: 'ingest' as const,
      port,
    }));
    const upstreams: Upstream[] = this.apis.map((a) => ({ name: a.name, port: a.port, up: true }));
    this.lb = new LoadBalancer(ports.lb, upstreams);
    const { privateKey } = generateKeyPairSync('ed25519');
    this.jwk = JSON.stringify({
      ...privateKey.export({ format: 'jwk' }),
      kid: `drill-${randomBytes(4).toString('hex')}`,
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.lb.port}`;
  }

  private baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // test-mode payments (no Stripe), and nothing inherited from a dev shell
    for (const k of Object.keys(env)) if (k.startsWith('STRIPE_')) delete env[k];
    delete env.NODE_OPTIONS;
    return {
      ...env,
      DATABASE_URL: this.env.databaseUrl,
      KAFKA_BROKERS: this.env.kafkaBrokers.join(','),
    };
  }

  async migrate(): Promise<void> {
    const p = spawnLogged(
      'migrate',
      process.execPath,
      [...TS_NODE, join(this.repoRoot, 'tools', 'db', 'migrate.ts')],
      { cwd: this.repoRoot, env: this.baseEnv(), logDir: this.logDir },
    );
    const code = await p.exited;
    if (code !== 0) throw new Error(`migrations failed (${code}); see ${p.logFile}`);
  }

  start(s: ServiceProc): void {
    const main =
      s.kind === 'market-api'
        ? join(this.repoRoot, 'apps', 'market-api', 'src', 'main.ts')
        : join(this.repoRoot, 'apps', 'metering', 'src', 'ingest', 'main.ts');
    const env: NodeJS.ProcessEnv =
      s.kind === 'market-api'
        ? {
            ...this.baseEnv(),
            PORT: String(s.port),
            HOST: '127.0.0.1',
            PLATFORM_SIGNING_JWK: this.jwk,
            BOOTSTRAP_OPERATOR_EMAIL: OPERATOR.email,
            BOOTSTRAP_OPERATOR_PASSWORD: OPERATOR.password,
            SETTLEMENT_INTERVAL_SECONDS: '5',
            LEDGER_CHECK_INTERVAL_SECONDS: '5',
            // an attempt cut off by a crash is taken over by the client's retry after 10 s
            IDEMPOTENCY_STALE_SECONDS: '10',
          }
        : { ...this.baseEnv(), INGEST_PORT: String(s.port), LEASE_WAIT_MS: '60000' };
    s.proc = spawnLogged(s.name, process.execPath, [...TS_NODE, main], {
      cwd: this.repoRoot,
      env,
      logDir: this.logDir,
    });
  }

  async ready(s: ServiceProc, timeoutMs = 120_000): Promise<number> {
    const t = Date.now();
    await waitFor(
      `${s.name} ready`,
      async () => ((await httpOk(`http://127.0.0.1:${s.port}/health/ready`)) ? true : undefined),
      { timeoutMs, died: s.proc, intervalMs: 200 },
    );
    return Date.now() - t;
  }

  async startAll(log: (s: string) => void): Promise<void> {
    await this.migrate();
    // One instance first: it creates the bootstrap operator; then the others.
    this.start(this.apis[0]);
    await this.ready(this.apis[0]);
    for (const s of [...this.apis.slice(1), ...this.ingests]) this.start(s);
    await Promise.all([...this.apis.slice(1), ...this.ingests].map((s) => this.ready(s)));
    await this.lb.start();
    log(
      `exchange: ${this.apis.map((a) => `${a.name} :${a.port}`).join(', ')} behind the load ` +
        `balancer :${this.lb.port}; ${this.ingests.map((i) => `${i.name} :${i.port}`).join(', ')}`,
    );
  }

  /** A crash: SIGKILL. */
  async kill(s: ServiceProc): Promise<void> {
    await s.proc?.kill();
  }

  /** A graceful restart: SIGTERM (drains), start again, wait until ready. Returns ms. */
  async restart(s: ServiceProc): Promise<number> {
    const t = Date.now();
    await s.proc?.stop(30_000);
    this.start(s);
    await this.ready(s);
    return Date.now() - t;
  }

  async allReady(): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    for (const s of [...this.apis, ...this.ingests]) {
      out[s.name] = await httpOk(`http://127.0.0.1:${s.port}/health/ready`, 5000);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.lb.stop();
    await Promise.all([...this.apis, ...this.ingests].map((s) => s.proc?.stop(20_000)));
  }
}
