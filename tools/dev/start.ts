// `npm start`: the whole exchange on this machine. Starts (or reuses) PostgreSQL, Kafka and
// stripe-mock, migrates the `suanli` database, starts market-api, seeds demo data, starts the
// metering ingest, the simulated metering agent, the storefront and a local stand-in for Stripe's
// Checkout page (tools/dev/checkout-standin.ts), and prints the URLs.
// Ctrl-C stops everything it started; if any process dies, everything is stopped (exit 1).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { run, waitForHttp, type Child, type RunOptions } from './children.js';
import { ensureServices, LOCAL, ROOT, ServiceError, type RunningServices } from './services.js';
import { NEXT_BUILD_ARGS, WEB_DIR, webBuildIsStale } from './web-build.js';
import { FEDERATION_OPERATOR, startFederation } from './federation.js';

// SUANLI_START_PORT_OFFSET moves the apps' ports (e.g. `npm start` next to another one).
const PORT_OFFSET = Number(process.env.SUANLI_START_PORT_OFFSET ?? 0) || 0;
const WEB_PORT = 3000 + PORT_OFFSET;
const MARKET_API_PORT = 3100 + PORT_OFFSET;
const INGEST_PORT = 3101 + PORT_OFFSET;
const CHECKOUT_PORT = 3102 + PORT_OFFSET;
const MARKET_API_URL = `http://127.0.0.1:${MARKET_API_PORT}`;
const INGEST_URL = `http://127.0.0.1:${INGEST_PORT}`;
const WEB_URL = `http://127.0.0.1:${WEB_PORT}`;
const CHECKOUT_URL = `http://127.0.0.1:${CHECKOUT_PORT}`;

// SUANLI_DEMO_DIR: where the demo agents' config and the development secrets live (.local/demo)
const DEMO_DIR = process.env.SUANLI_DEMO_DIR
  ? resolve(process.env.SUANLI_DEMO_DIR)
  : join(LOCAL, 'demo');
const AGENT_CONFIG_FILE = join(DEMO_DIR, 'agents.json');
const TS_NODE = ['--import', '@swc-node/register/esm-register'];
// `npm start -- --federation`: three platforms of one federation instead (tools/dev/federation.ts)
const FEDERATION_MODE = process.argv.slice(2).includes('--federation');

const log = (s: string): void => console.log(`[start] ${s}`);

class StartError extends Error {}

function requireFile(rel: string, what: string): string {
  const file = join(ROOT, rel);
  if (!existsSync(file)) throw new StartError(`${what}: ${rel} does not exist (yet)`);
  return file;
}

/** How to run npm: the npm CLI that started us (npm_execpath) when there is one. */
function npm(args: string[]): [string, string[]] {
  const cli = process.env.npm_execpath;
  if (cli && /\.(c|m)?js$/.test(cli) && existsSync(cli)) return [process.execPath, [cli, ...args]];
  return ['npm', args];
}

/**
 * The platform's Ed25519 signing key (market-api needs PLATFORM_SIGNING_JWK). Unless one is set,
 * a development key is generated once and kept in .local/demo/ (never printed).
 */
function platformSigningJwk(): string {
  if (process.env.PLATFORM_SIGNING_JWK) return process.env.PLATFORM_SIGNING_JWK;
  const file = join(DEMO_DIR, 'platform-signing-jwk.json');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `dev-${randomBytes(4).toString('hex')}`,
  };
  mkdirSync(DEMO_DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(jwk) + '\n', { mode: 0o600 });
  log(`generated a development platform signing key in ${relative(ROOT, file)}`);
  return JSON.stringify(jwk);
}

/**
 * The Stripe webhook endpoint's signing secret (market-api verifies with it, the checkout stand-in
 * signs with it). Unless STRIPE_WEBHOOK_SECRET is set, a development secret is generated once and
 * kept in .local/demo/ (SUANLI_DEMO_DIR; never printed).
 */
function stripeWebhookSecret(): string {
  if (process.env.STRIPE_WEBHOOK_SECRET) return process.env.STRIPE_WEBHOOK_SECRET;
  const file = join(DEMO_DIR, 'stripe-webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `whsec_dev_${randomBytes(24).toString('hex')}`;
  mkdirSync(DEMO_DIR, { recursive: true });
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  log(`generated a development Stripe webhook secret in ${relative(ROOT, file)}`);
  return secret;
}

function nextBin(): string {
  try {
    const pkg = createRequire(join(WEB_DIR, 'package.json')).resolve('next/package.json');
    return join(dirname(pkg), 'dist', 'bin', 'next');
  } catch {
    throw new StartError('apps/web: the `next` package is not installed (run npm install)');
  }
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const controller = new AbortController();
  const children: Child[] = [];
  let services: RunningServices | undefined;
  let shuttingDown: Promise<number> | undefined;

  const shutdown = (code: number, why: string): Promise<number> => {
    shuttingDown ??= (async () => {
      controller.abort();
      log(`${why}; stopping everything this run started`);
      await Promise.all(children.map((c) => c.stop()));
      if (services) await services.stop();
      log('stopped');
      return code;
    })();
    return shuttingDown;
  };
  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((r) => (resolveExit = r));
  const onSignal = (sig: NodeJS.Signals): void => {
    void shutdown(0, `${sig} received`).then(resolveExit);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  /** A long-running process: if it dies while we are not shutting down, everything stops. */
  const supervise = (c: Child): Child => {
    children.push(c);
    void c.exited.then((code) => {
      if (!shuttingDown) void shutdown(1, `${c.name} exited (${code})`).then(resolveExit);
    });
    return c;
  };

  /** A command run to completion (migrations, seed); stopped too if we shut down meanwhile. */
  const oneShot = async (
    name: string,
    cmd: string,
    args: string[],
    opts: RunOptions,
  ): Promise<number | string> => {
    const c = run(name, cmd, args, opts);
    children.push(c);
    const code = await c.exited;
    await c.stop(2000);
    return code;
  };

  const startup = async (): Promise<void> => {
    requireFile('tools/db/migrate.ts', 'database migrations');
    const apiMain = requireFile('apps/market-api/src/main.ts', 'market-api');
    const ingestMain = requireFile('apps/metering/src/ingest/main.ts', 'metering ingest');
    const checkoutMain = requireFile('tools/dev/checkout-standin.ts', 'checkout stand-in');
    const agentMain = requireFile('apps/metering/src/agent/main.ts', 'metering agent');
    requireFile('apps/web/package.json', 'storefront');
    const next = nextBin();

    services = await ensureServices({
      log: (s) => console.log(`[services] ${s}`),
      signal: controller.signal,
    });
    if (controller.signal.aborted) return;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: services.env.DATABASE_URL,
      KAFKA_BROKERS: services.env.KAFKA_BROKERS,
      STRIPE_API_BASE: services.env.STRIPE_API_BASE,
      STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? 'sk_test_123',
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret(),
      MARKET_API_URL,
      PUBLIC_WEB_URL: WEB_URL,
    };

    if (FEDERATION_MODE) {
      const platforms = await startFederation({
        databaseUrl: services.env.DATABASE_URL,
        kafkaBrokers: services.env.KAFKA_BROKERS,
        stripeApiBase: services.env.STRIPE_API_BASE,
        portOffset: PORT_OFFSET,
        keysDir: join(DEMO_DIR, 'federation'),
        log,
        env: { STRIPE_WEBHOOK_SECRET: env.STRIPE_WEBHOOK_SECRET },
      });
      for (const p of platforms) if (p.child) supervise(p.child);
      for (const p of platforms) {
        const seeded = await oneShot(
          `seed ${p.code}`,
          process.execPath,
          [...TS_NODE, join(ROOT, 'tools', 'dev', 'seed.ts')],
          {
            cwd: ROOT,
            env: {
              ...env,
              MARKET_API_URL: p.url,
              AGENT_CONFIG_FILE: join(DEMO_DIR, 'federation', `${p.code}-agents.json`),
            },
          },
        );
        if (seeded !== 0) throw new StartError(`seeding ${p.code} failed (${seeded})`);
      }
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        [
          '',
          `A federation of three platforms is running (started in ${secs} s). Ctrl-C stops it.`,
          '',
          ...platforms.flatMap((p) => [
            `  ${p.code}  ${p.name}`,
            `    market API     ${p.url}   (resolve any CRI: ${p.url}/v1/cri/{code})`,
            `    directory      ${p.url}/v1/federation/directory   status ${p.url}/v1/federation/status`,
          ]),
          '',
          `  operator on each platform: ${FEDERATION_OPERATOR.email} / ${FEDERATION_OPERATOR.password}`,
          `  demo sellers and buyers: as printed by each seed above`,
          `  Kafka            ${services.env.KAFKA_BROKERS}`,
          `  (no ingest, agent or storefront per platform yet: docs/federation.md, "Running it")`,
          '',
        ].join('\n'),
      );
      return;
    }

    const [npmCmd, npmArgs] = npm(['run', '-s', 'db:migrate']);
    const migrated = await oneShot('migrate', npmCmd, npmArgs, { cwd: ROOT, env });
    if (migrated !== 0) throw new StartError(`database migrations failed (${migrated})`);
    if (controller.signal.aborted) return;

    // market-api and the storefront build run side by side
    const api = supervise(
      run('market-api', process.execPath, [...TS_NODE, apiMain], {
        cwd: ROOT,
        env: {
          ...env,
          PORT: String(MARKET_API_PORT),
          PLATFORM_SIGNING_JWK: platformSigningJwk(),
          // stripe-mock hosts no Checkout page: top-ups go to the local stand-in instead
          STRIPE_CHECKOUT_URL:
            process.env.STRIPE_CHECKOUT_URL ?? `${CHECKOUT_URL}/checkout/{CHECKOUT_SESSION_ID}`,
          BOOTSTRAP_OPERATOR_EMAIL: process.env.BOOTSTRAP_OPERATOR_EMAIL ?? 'operator@suanli.local',
          BOOTSTRAP_OPERATOR_PASSWORD:
            process.env.BOOTSTRAP_OPERATOR_PASSWORD ?? 'operator-demo-2026',
        },
      }),
    );
    const checkout = supervise(
      run('checkout', process.execPath, [...TS_NODE, checkoutMain], {
        cwd: ROOT,
        env: { ...env, CHECKOUT_STANDIN_PORT: String(CHECKOUT_PORT) },
      }),
    );
    const webEnv = { ...env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' };
    const build = (async (): Promise<void> => {
      if (!webBuildIsStale()) {
        log('storefront build is up to date');
        return;
      }
      const t = Date.now();
      log('building the storefront (next build)');
      const c = run('web-build', process.execPath, [next, ...NEXT_BUILD_ARGS], {
        cwd: WEB_DIR,
        env: webEnv,
      });
      children.push(c);
      const code = await c.exited;
      if (code !== 0) throw new StartError(`next build failed (${code})`);
      log(`storefront built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    })();
    build.catch(() => undefined);

    await waitForHttp(`${MARKET_API_URL}/health/ready`, {
      timeoutMs: 120_000,
      child: api,
      signal: controller.signal,
    });
    log('market-api is ready');

    if (existsSync(join(ROOT, 'tools', 'dev', 'seed.ts'))) {
      const seeded = await oneShot(
        'seed',
        process.execPath,
        [...TS_NODE, join(ROOT, 'tools', 'dev', 'seed.ts')],
        { cwd: ROOT, env: { ...env, AGENT_CONFIG_FILE }, output: 'inherit' },
      );
      if (seeded !== 0) throw new StartError(`seeding demo data failed (${seeded})`);
    } else {
      log('WARNING: tools/dev/seed.ts does not exist yet; no demo data');
    }
    if (controller.signal.aborted) return;

    const ingest = supervise(
      run('ingest', process.execPath, [...TS_NODE, ingestMain], {
        cwd: ROOT,
        env: { ...env, INGEST_PORT: String(INGEST_PORT) },
      }),
    );
    if (existsSync(AGENT_CONFIG_FILE)) {
      supervise(
        run('agent', process.execPath, [...TS_NODE, agentMain], {
          cwd: ROOT,
          env: { ...env, AGENT_CONFIG_FILE },
        }),
      );
    } else {
      log(`WARNING: ${AGENT_CONFIG_FILE} is missing (the seed writes it); not starting the agent`);
    }

    await build;
    if (controller.signal.aborted) return;
    const web = supervise(
      run('web', process.execPath, [next, 'start', '-p', String(WEB_PORT), '-H', '127.0.0.1'], {
        cwd: WEB_DIR,
        env: webEnv,
      }),
    );

    await Promise.all([
      waitForHttp(`${CHECKOUT_URL}/health`, {
        timeoutMs: 60_000,
        child: checkout,
        signal: controller.signal,
      }),
      waitForHttp(`${INGEST_URL}/health/ready`, {
        timeoutMs: 60_000,
        child: ingest,
        signal: controller.signal,
      }),
      waitForHttp(`${WEB_URL}/`, {
        timeoutMs: 60_000,
        child: web,
        signal: controller.signal,
        accept: (s) => s < 500,
      }),
    ]);

    let docs: string | undefined;
    for (const path of ['/docs', '/api/docs', '/openapi.json']) {
      try {
        const res = await fetch(`${MARKET_API_URL}${path}`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) {
          docs = `${MARKET_API_URL}${path}`;
          break;
        }
      } catch {
        // not there
      }
    }

    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(
      [
        '',
        `Suanli Exchange is running (started in ${secs} s). Ctrl-C stops it.`,
        '',
        `  storefront       ${WEB_URL}`,
        `  market API       ${MARKET_API_URL}`,
        `  API docs         ${docs ?? '(market-api serves no API docs page yet)'}`,
        `  API health       ${MARKET_API_URL}/health/live  ${MARKET_API_URL}/health/ready`,
        `  ingest health    ${INGEST_URL}/health/live  ${INGEST_URL}/health/ready`,
        `  checkout         ${CHECKOUT_URL}  (stand-in for Stripe Checkout: top-ups are paid there)`,
        `  Kafka            ${services.env.KAFKA_BROKERS}`,
        `  stripe-mock      ${services.env.STRIPE_API_BASE}`,
        '',
      ].join('\n'),
    );
  };

  startup().catch((e: unknown) => {
    if (shuttingDown) return;
    const msg =
      e instanceof ServiceError || e instanceof StartError
        ? e.message
        : e instanceof Error
          ? (e.stack ?? e.message)
          : String(e);
    console.error(`[start] ${msg}`);
    void shutdown(1, 'startup failed').then(resolveExit);
  });
  return exit;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
