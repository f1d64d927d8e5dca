// API fuzzing with schemathesis (from PyPI, in .local/venv): boots the market API in-process on
// a fresh database with the demo data, then lets schemathesis generate requests from the
// committed OpenAPI document. Fails on any 5xx and on any response the document does not allow
// (status, content type, body schema). Prints `fuzz: N cases …`.
//
// `npm test` runs it after Jest on a full run; alone: `npm run fuzz` (starts or reuses the
// services; DATABASE_URL, KAFKA_BROKERS and STRIPE_API_BASE point it at others).
// FUZZ_MAX_EXAMPLES (default 3) bounds the examples per operation and phase.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSigningKey } from '@suanli/crypto';
import { createDataSource } from '../db/data-source.js';
import { spawn } from 'node:child_process';
import { capture } from '../dev/children.js';
import { ensureServices, type RunningServices } from '../dev/services.js';
import { AppConfig } from '../../apps/market-api/src/config/app-config.js';
import { createApp } from '../../apps/market-api/src/app.factory.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VENV = join(ROOT, '.local', 'venv');
const REQUIREMENTS = join(ROOT, 'tools', 'fuzz', 'requirements.txt');
const log = (s: string): void => console.log(`[fuzz] ${s}`);

/** Operations not for generated traffic: signed third-party callbacks. */
const EXCLUDED_PATHS = ['/v1/stripe/webhook'];

async function ensureVenv(): Promise<string> {
  const st = join(VENV, 'bin', 'st');
  const stamp = join(VENV, '.requirements-sha256');
  const want = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(st) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return st;
  const python = process.env.PYTHON ?? 'python3';
  log(`installing schemathesis into ${VENV.slice(ROOT.length + 1)} (PyPI)`);
  const t = Date.now();
  const mk = await capture(python, ['-m', 'venv', VENV], { cwd: ROOT });
  if (mk.code !== 0) throw new Error(`python3 -m venv failed:\n${mk.output}`);
  const pip = await capture(
    join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS],
    { cwd: ROOT },
  );
  if (pip.code !== 0) throw new Error(`pip install failed:\n${pip.output}`);
  writeFileSync(stamp, want);
  log(`installed in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  return st;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function freshDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `suanli_fuzz_${process.pid}`;
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(base, name);
  const ds = createDataSource(url, { poolSize: 1 });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function post<T>(url: string, body: unknown, token?: string): Promise<T> {
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`POST ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Counts from schemathesis' JUnit report: one test case per operation and phase. */
function junitCounts(dir: string): { tests: number; failures: number; errors: number } {
  const file = join(dir, 'junit.xml');
  if (!existsSync(file)) return { tests: 0, failures: 0, errors: 0 };
  const xml = readFileSync(file, 'utf8');
  const attr = (n: string): number =>
    Number(new RegExp(`<testsuite[^>]*\\s${n}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  return { tests: attr('tests'), failures: attr('failures'), errors: attr('errors') };
}

async function main(): Promise<number> {
  // run alone (`npm run fuzz`): start or reuse the local services like `npm test` does
  let services: RunningServices | undefined;
  if (!process.env.DATABASE_URL) {
    services = await ensureServices({ log: (s) => console.log(`[services] ${s}`) });
    Object.assign(process.env, services.env);
  }
  try {
    return await fuzz(process.env.DATABASE_URL as string);
  } finally {
    await services?.stop();
  }
}

async function fuzz(base: string): Promise<number> {
  const st = await ensureVenv();
  const db = await freshDatabase(base);
  const work = mkdtempSync(join(tmpdir(), 'suanli-fuzz-'));
  const operator = { email: 'fuzz-operator@suanli.test', password: 'fuzz-operator-password-1' };
  process.env.SETTLEMENT_SCHEDULER = 'off';
  process.env.BOOTSTRAP_OPERATOR_EMAIL = operator.email;
  process.env.BOOTSTRAP_OPERATOR_PASSWORD = operator.password;
  const key = await generateSigningKey();
  const config = AppConfig.fromEnv({
    DATABASE_URL: db.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    STRIPE_API_BASE: process.env.STRIPE_API_BASE,
    PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
    PORT: '0',
    // generated traffic from one address: the limits are not what is tested here
    RATE_LIMIT_IP_BURST: '1000000',
    RATE_LIMIT_AUTH_BURST: '1000000',
    RATE_LIMIT_API_KEY_BURST: '1000000',
  });
  const app = await createApp(config, { logger: ['error'] });
  let code: number;
  try {
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    log(`market API on ${url} (database ${new URL(db.url).pathname.slice(1)})`);

    const seed = await capture(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', join(ROOT, 'tools', 'dev', 'seed.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, MARKET_API_URL: url, AGENT_CONFIG_FILE: join(work, 'agents.json') },
      },
    );
    if (seed.code !== 0) throw new Error(`seeding demo data failed:\n${seed.output}`);
    log('demo data seeded');

    // one organization holding every role, so every operation is reachable
    const op = await post<{ accessToken: string }>(`${url}/v1/auth/login`, operator);
    const fuzzer = { email: 'fuzzer@suanli.test', password: 'fuzzer-password-123' };
    await post(
      `${url}/v1/admin/organizations`,
      {
        ...fuzzer,
        displayName: 'Fuzzer',
        organization: {
          name: 'Fuzzing',
          roles: ['buyer', 'seller', 'assessor', 'operator'],
          industry: 'I',
        },
      },
      op.accessToken,
    );
    const session = await post<{ accessToken: string }>(`${url}/v1/auth/login`, fuzzer);

    const maxExamples = process.env.FUZZ_MAX_EXAMPLES ?? '3';
    const reportDir = join(work, 'report');
    mkdirSync(reportDir, { recursive: true });
    const args = [
      'run',
      `${url}/openapi.json`,
      '--url',
      url,
      '--header',
      `Authorization: Bearer ${session.accessToken}`,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--max-examples',
      maxExamples,
      '--phases',
      'examples,coverage,fuzzing',
      '--continue-on-failure',
      '--suppress-health-check',
      'all',
      '--request-timeout',
      '20',
      '--seed',
      process.env.FUZZ_SEED ?? '20261128',
      '--report',
      'junit',
      '--report-junit-path',
      join(reportDir, 'junit.xml'),
      '--no-color',
      ...EXCLUDED_PATHS.flatMap((p) => ['--exclude-path', p]),
    ];
    log(`schemathesis: max ${maxExamples} examples per operation and phase`);
    const t = Date.now();
    const { code: exit, output } = await tee(st, args, work);
    code = exit;
    const counts = junitCounts(reportDir);
    const cases = countCases(output);
    log(
      `fuzz: ${cases ?? '?'} cases over ${counts.tests} operations, ` +
        `${counts.failures + counts.errors} failing, ${((Date.now() - t) / 1000).toFixed(0)} s`,
    );
  } finally {
    await app.close();
    await db.drop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  return code;
}

/**
 * schemathesis closes with pytest-style banners (`==== 3 warnings in 58.59s ====`). CI reads a
 * pytest banner as the test runner's verdict (and "3 warnings" as no test run), so the banners are
 * shown as plain `[schemathesis] …` lines; the suite's own `tests: N passed, M failed` line is the
 * verdict.
 */
function unbanner(line: string): string {
  const m = /^\s*={3,}\s*(.*?)\s*={3,}\s*$/.exec(line);
  return m ? `[schemathesis] ${m[1]}` : line;
}

/** Runs a command, its output passed through (banners rewritten, see `unbanner`) and kept. */
function tee(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const pass = (d: Buffer): void => {
      output += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) process.stdout.write(`${unbanner(l)}\n`);
    };
    const flush = (): void => {
      if (partial !== '') process.stdout.write(`${unbanner(partial)}\n`);
      partial = '';
    };
    proc.stdout.on('data', pass);
    proc.stderr.on('data', pass);
    proc.once('error', (e) => {
      flush();
      resolve({ code: -1, output: `${output}${e.message}\n` });
    });
    proc.once('close', (c) => {
      flush();
      resolve({ code: c ?? -1, output });
    });
  });
}

/** The number of generated test cases in schemathesis' summary. */
function countCases(output: string): number | undefined {
  const m = /(\d+)\s+(?:generated|test cases)/i.exec(output);
  return m ? Number(m[1]) : undefined;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
