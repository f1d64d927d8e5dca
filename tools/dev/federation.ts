// Three platforms of one federation on this machine (docs/federation.md, "Running it"): the
// national 86.N00, the regional 86.R03 and the industry 86.I05, each its own market-api process,
// database on the shared PostgreSQL, port and signing key; the national operator admits the
// other two (their thumbprints), and they join with a signed request on their first tick.
// Used by `npm start -- --federation` and by the federation end-to-end test.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwkThumbprint, type JWK } from '@suanli/crypto';
import pg from 'pg';
import { createDataSource, withDatabase } from '../db/data-source.js';
import { run, waitForHttp, type Child } from './children.js';
import { ROOT } from './services.js';

export const FEDERATION = [
  { code: '86.N00', name: 'National Computing Power Platform (国家算力平台)' },
  { code: '86.R03', name: 'Regional platform 86.R03 (区域算力平台)' },
  { code: '86.I05', name: 'Industry platform 86.I05 (行业算力平台)' },
] as const;

export const FEDERATION_OPERATOR = {
  email: 'operator@suanli.local',
  password: 'operator-demo-2026',
};

export interface FederationOptions {
  /** Any database URL of the shared PostgreSQL server; each platform gets its own database. */
  databaseUrl: string;
  kafkaBrokers: string;
  stripeApiBase: string;
  /** market-api ports are 3200 + offset + 0, 1, 2 (SUANLI_START_PORT_OFFSET). */
  portOffset: number;
  /** Databases are `<prefix>_n00` etc. */
  databasePrefix?: string;
  /** Where the platforms' signing keys are kept between runs; fresh keys when undefined. */
  keysDir?: string;
  /** How often members fetch the directory (seconds). */
  refreshSeconds?: number;
  log?: (s: string) => void;
  /** The three market-api ports (default 3200 + portOffset + 0, 1, 2). */
  ports?: number[];
  /** Drop and re-create the platforms' databases (tests). */
  fresh?: boolean;
  /** The national URL members are given (default: the national platform's own). */
  nationalUrlFor?: (code: string) => string;
  /** Extra environment for every market-api. */
  env?: NodeJS.ProcessEnv;
}

export interface FederatedPlatform {
  code: string;
  name: string;
  url: string;
  port: number;
  databaseUrl: string;
  privateJwk: JWK;
  thumbprint: string;
  env: NodeJS.ProcessEnv;
  child: Child | undefined;
  /** Starts (again) its market-api and waits until it is ready. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const TS_NODE = ['--import', '@swc-node/register/esm-register'];

function signingJwk(code: string, keysDir: string | undefined): JWK {
  const file = keysDir ? join(keysDir, `${code}.jwk.json`) : undefined;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `${code}-${randomBytes(4).toString('hex')}`,
  };
  if (keysDir && file) {
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(file, JSON.stringify(jwk) + '\n', { mode: 0o600 });
  }
  return jwk as JWK;
}

async function createDatabase(serverUrl: string, name: string, fresh: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const ds = createDataSource(url, { poolSize: 2 });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
  return url;
}

async function call(
  url: string,
  method: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Logs in as a platform's operator (the bootstrap one). */
/** Drops the platforms' databases (after a test). */
export async function dropFederationDatabases(serverUrl: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    for (const p of FEDERATION) {
      const name = `${prefix}_${p.code.split('.')[1]?.toLowerCase()}`;
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

export async function operatorToken(platformUrl: string): Promise<string> {
  const r = await call(`${platformUrl}/v1/auth/login`, 'POST', FEDERATION_OPERATOR);
  if (r.status !== 200) throw new Error(`operator login on ${platformUrl}: HTTP ${r.status}`);
  return String(r.body.accessToken);
}

/** Waits until the national directory lists every platform active. */
export async function waitForDirectory(
  nationalUrl: string,
  codes: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(`${nationalUrl}/v1/federation/status`, 'GET').catch(() => undefined);
    const d = r?.body.directory as { platforms?: { code: string; state: string }[] } | null;
    const active = new Set(
      (d?.platforms ?? []).filter((p) => p.state === 'active').map((p) => p.code),
    );
    if (codes.every((c) => active.has(c))) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the directory does not list ${codes.join(', ')} within ${timeoutMs / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Prepares and starts the three platforms: databases migrated, national started, the other two
 * admitted by its operator, then started (they join on their own), directory complete.
 */
export async function startFederation(o: FederationOptions): Promise<FederatedPlatform[]> {
  const log = o.log ?? (() => undefined);
  const prefix = o.databasePrefix ?? 'suanli_fed';
  const platforms: FederatedPlatform[] = [];
  const national = FEDERATION[0];
  const portOf = (i: number): number => o.ports?.[i] ?? 3200 + o.portOffset + i;
  const nationalUrl = `http://127.0.0.1:${portOf(0)}`;
  const nationalJwk = signingJwk(national.code, o.keysDir);
  const nationalPin = await jwkThumbprint(nationalJwk);
  for (const [i, p] of FEDERATION.entries()) {
    const port = portOf(i);
    const url = `http://127.0.0.1:${port}`;
    const databaseUrl = await createDatabase(
      o.databaseUrl,
      `${prefix}_${p.code.split('.')[1]?.toLowerCase()}`,
      o.fresh ?? false,
    );
    const privateJwk = i === 0 ? nationalJwk : signingJwk(p.code, o.keysDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...o.env,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: o.kafkaBrokers,
      STRIPE_API_BASE: o.stripeApiBase,
      STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? 'sk_test_123',
      // the seed signs its test-mode payments with the same secret
      STRIPE_WEBHOOK_SECRET: o.env?.STRIPE_WEBHOOK_SECRET ?? `whsec_fed_${p.code}`,
      PORT: String(port),
      PLATFORM_CODE: p.code,
      PLATFORM_SIGNING_JWK: JSON.stringify(privateJwk),
      BOOTSTRAP_OPERATOR_EMAIL: FEDERATION_OPERATOR.email,
      BOOTSTRAP_OPERATOR_PASSWORD: FEDERATION_OPERATOR.password,
      FEDERATION_NAME: p.name,
      FEDERATION_PUBLIC_URL: url,
      FEDERATION_REFRESH_SECONDS: String(o.refreshSeconds ?? 5),
      ...(i === 0
        ? {}
        : {
            FEDERATION_NATIONAL_URL: o.nationalUrlFor?.(p.code) ?? nationalUrl,
            FEDERATION_NATIONAL_PINS: nationalPin,
          }),
    };
    const platform: FederatedPlatform = {
      code: p.code,
      name: p.name,
      url,
      port,
      databaseUrl,
      privateJwk,
      thumbprint: await jwkThumbprint(privateJwk),
      env,
      child: undefined,
      async start() {
        const child = run(
          `api ${p.code}`,
          process.execPath,
          [...TS_NODE, join(ROOT, 'apps/market-api/src/main.ts')],
          { cwd: ROOT, env: platform.env },
        );
        platform.child = child;
        await waitForHttp(`${url}/health/live`, { timeoutMs: 120_000, child });
      },
      async stop() {
        await platform.child?.stop(5000);
        platform.child = undefined;
      },
    };
    platforms.push(platform);
  }
  const [n00, ...members] = platforms as [FederatedPlatform, ...FederatedPlatform[]];
  log(`starting ${n00.code} on ${n00.url}`);
  await n00.start();
  const token = await operatorToken(n00.url);
  for (const m of members) {
    const r = await call(
      `${n00.url}/v1/federation/platforms`,
      'POST',
      { code: m.code, name: m.name, url: m.url, thumbprints: [m.thumbprint] },
      token,
    );
    if (r.status !== 201)
      throw new Error(`admitting ${m.code}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    log(`${n00.code} admitted ${m.code}`);
  }
  log(`starting ${members.map((m) => `${m.code} on ${m.url}`).join(', ')}`);
  await Promise.all(members.map((m) => m.start()));
  await waitForDirectory(
    n00.url,
    platforms.map((p) => p.code),
  );
  log('the directory lists all three platforms');
  return platforms;
}
