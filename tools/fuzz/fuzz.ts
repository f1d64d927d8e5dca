// API fuzzing with schemathesis (from PyPI, in .local/venv): boots the market API in-process on
// a fresh database with the demo data, then lets schemathesis generate requests from the
// committed OpenAPI document, once per kind of caller (a buyer/seller/assessor user, the
// operator, an organization API key, a metering agent; see `authModes`). Fails on any 5xx and on
// any response the document does not allow (status, content type, body schema). Prints
// `fuzz (<caller>): N cases …` per caller and the total `fuzz: N cases over M operations, K failing`.
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
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';

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

type FuzzedDocument = {
  paths: Record<
    string,
    Record<string, { operationId: string; security?: Record<string, string[]>[] }>
  >;
};

interface AuthMode {
  name: 'user' | 'operator' | 'api-key' | 'agent';
  what: string;
  /** Made when the mode's run starts (agent tokens live 60 s). */
  token: () => Promise<string>;
  operations: string[];
}

/**
 * Which operations each caller fuzzes: the user every operation a buyer, seller or assessor
 * may call and the public ones; the operator every operation that admits operators; the API
 * key every operation that admits API keys; a demo metering agent the agents' own. Operators'
 * own endpoints are not fuzzed as the user (403 only), nor API-key-only or agent ones.
 */
function authModes(
  doc: FuzzedDocument,
  tokens: Record<'user' | 'operator' | 'apiKey' | 'agent', () => Promise<string>>,
): AuthMode[] {
  const user: string[] = [];
  const operator: string[] = [];
  const apiKey: string[] = [];
  const agents: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (EXCLUDED_PATHS.includes(path)) continue;
    for (const o of Object.values(ops)) {
      const security = o.security ?? [];
      const roles = security.flatMap((s) => s.accessToken ?? []);
      const keyed = security.some((s) => s.apiKey !== undefined);
      const agent = security.some((s) => s.agentToken !== undefined);
      if (roles.includes('operator')) operator.push(o.operationId);
      if (keyed) apiKey.push(o.operationId);
      if (agent) agents.push(o.operationId);
      if (security.length === 0 || roles.some((r) => r !== 'operator')) {
        user.push(o.operationId);
      }
    }
  }
  return [
    { name: 'user', what: 'buyer, seller and assessor', token: tokens.user, operations: user },
    { name: 'operator', what: 'operator', token: tokens.operator, operations: operator },
    { name: 'api-key', what: 'usage:write key', token: tokens.apiKey, operations: apiKey },
    { name: 'agent', what: 'demo metering agent', token: tokens.agent, operations: agents },
  ];
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

    // three callers, so every kind of credential is exercised: a user of an organization
    // holding the buyer, seller and assessor roles; the platform's operator; and an API key
    const op = await post<{ accessToken: string }>(`${url}/v1/auth/login`, operator);
    const fuzzer = { email: 'fuzzer@suanli.test', password: 'fuzzer-password-123' };
    await post(
      `${url}/v1/admin/organizations`,
      {
        ...fuzzer,
        displayName: 'Fuzzer',
        organization: { name: 'Fuzzing', roles: ['buyer', 'seller', 'assessor'], industry: 'I' },
      },
      op.accessToken,
    );
    const session = await post<{ accessToken: string }>(`${url}/v1/auth/login`, fuzzer);
    const key = await post<{ secret: string }>(
      `${url}/v1/api-keys`,
      { name: 'fuzzer', scopes: ['usage:write'] },
      session.accessToken,
    );
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as FuzzedDocument;
    const demo = JSON.parse(readFileSync(join(work, 'agents.json'), 'utf8')) as {
      agents: { agentId: string; privateJwk: Record<string, unknown> }[];
    };
    const agent = demo.agents[0];
    const modes = authModes(doc, {
      user: () => Promise.resolve(session.accessToken),
      operator: () => Promise.resolve(op.accessToken),
      apiKey: () => Promise.resolve(key.secret),
      agent: () => agentToken(agent.agentId, agent.privateJwk),
    });
    // the evaluation's raw JWS body (application/jose) is sent as text
    process.env.SCHEMATHESIS_HOOKS = join(ROOT, 'tools', 'fuzz', 'hooks.py');

    const maxExamples = process.env.FUZZ_MAX_EXAMPLES ?? '3';
    log(`schemathesis: max ${maxExamples} examples per operation and phase`);
    const t = Date.now();
    const totals = { cases: 0, operations: 0, failing: 0, unknownCases: false };
    code = 0;
    // FUZZ_PARALLEL callers at once (default 2): schemathesis (Python) and the API (Node) take
    // turns on the CPU, so two runs overlap well; each run's output is printed when it ends
    const parallel = Math.max(1, Number(process.env.FUZZ_PARALLEL ?? 2));
    const fuzzMode = async (mode: AuthMode): Promise<void> => {
      const reportDir = join(work, `report-${mode.name}`);
      mkdirSync(reportDir, { recursive: true });
      const args = [
        'run',
        `${url}/openapi.json`,
        '--url',
        url,
        '--header',
        `Authorization: Bearer ${await mode.token()}`,
        '--checks',
        'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
        '--max-examples',
        maxExamples,
        '--phases',
        'examples,coverage,fuzzing',
        '--continue-on-failure',
        '--suppress-health-check',
        'all',
        // above the agent's longest long-poll (`waitSeconds` ≤ 30)
        '--request-timeout',
        '40',
        '--seed',
        process.env.FUZZ_SEED ?? '20261128',
        '--report',
        'junit',
        '--report-junit-path',
        join(reportDir, 'junit.xml'),
        '--no-color',
        ...mode.operations.flatMap((id) => ['--include-operation-id', id]),
      ];
      const tm = Date.now();
      const { code: exit, output } = await tee(st, args, work, parallel === 1);
      if (exit !== 0) code = exit;
      const counts = junitCounts(reportDir);
      const cases = countCases(output);
      const failing = counts.failures + counts.errors;
      totals.cases += cases ?? 0;
      totals.unknownCases ||= cases === undefined;
      totals.operations += counts.tests;
      totals.failing += failing;
      if (parallel > 1) {
        log(`${mode.name}: ${mode.operations.length} operations (${mode.what})`);
        for (const l of output.replace(/\n$/, '').split('\n')) console.log(unbanner(l));
      }
      log(
        `fuzz (${mode.name}): ${cases ?? '?'} cases over ${counts.tests} operations, ` +
          `${failing} failing, ${((Date.now() - tm) / 1000).toFixed(0)} s`,
      );
    };
    const queue = [...modes];
    await Promise.all(
      Array.from({ length: Math.min(parallel, queue.length) }, async () => {
        for (let m = queue.shift(); m; m = queue.shift()) {
          if (parallel === 1) log(`${m.name}: ${m.operations.length} operations (${m.what})`);
          await fuzzMode(m);
        }
      }),
    );
    log(
      `fuzz: ${totals.unknownCases ? '?' : totals.cases} cases over ${totals.operations} operations, ` +
        `${totals.failing} failing, ${((Date.now() - t) / 1000).toFixed(0)} s ` +
        `(${modes.map((m) => m.name).join(', ')})`,
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

/** Runs a command, its output kept and (`stream`) passed through, banners rewritten (`unbanner`). */
function tee(
  cmd: string,
  args: string[],
  cwd: string,
  stream = true,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const pass = (d: Buffer): void => {
      output += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      if (stream) for (const l of lines) process.stdout.write(`${unbanner(l)}\n`);
    };
    const flush = (): void => {
      if (stream && partial !== '') process.stdout.write(`${unbanner(partial)}\n`);
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
