// `npm test [-- <jest args>]`: lint and typecheck (skip with SKIP_LINT=1), make sure PostgreSQL,
// Kafka, stripe-mock and Chromium are there, recreate the `suanli_test` database, run Jest
// (projects unit, integration, e2e) and print one line `tests: N passed, M failed[, K skipped]`.
// Alongside, promtool checks the Prometheus rules and config (`npm run ops:check`; SKIP_LINT=1 or
// SKIP_PROMETHEUS=1 skips it). Exits non-zero on any failure; stops the services this run started.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, run } from './children.js';
import {
  ensureChromium,
  ensureDeliveryHostTools,
  ensureServices,
  dropDatabase,
  processId,
  processIdAlive,
  recreateDatabase,
  redact,
  ROOT,
  RUN_DIR,
  ServiceError,
  type RunningServices,
} from './services.js';

const log = (s: string): void => console.log(`[test] ${s}`);
// SUANLI_TEST_DB names another one, for checkouts that share one PostgreSQL server
const TEST_DB = process.env.SUANLI_TEST_DB ?? 'suanli_test';

/**
 * The test database is `suanli_test`, unless another test run in this checkout is using it right
 * now (recreating it would cut that run's connections): then a database of our own, dropped at
 * the end.
 */
function claimTestDatabase(): { name: string; isDefault: boolean; release(): void } {
  const file = join(RUN_DIR, `${TEST_DB}.owner`);
  mkdirSync(RUN_DIR, { recursive: true });
  let holder = '';
  try {
    holder = readFileSync(file, 'utf8').trim();
  } catch {
    // nobody
  }
  if (holder !== '' && holder !== processId() && processIdAlive(holder)) {
    return { name: `${TEST_DB}_${process.pid}`, isDefault: false, release: () => undefined };
  }
  writeFileSync(file, `${processId()}\n`);
  return {
    name: TEST_DB,
    isDefault: true,
    release: () => {
      try {
        if (readFileSync(file, 'utf8').trim() === processId()) rmSync(file, { force: true });
      } catch {
        // gone
      }
    },
  };
}

interface JestResults {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
}

interface CheckRun {
  code: number;
  output: string;
  secs: string;
}

async function runCheck(script: string): Promise<CheckRun> {
  const t = Date.now();
  const [cmd, args] = npm(['run', '-s', script]);
  const { code, output } = await capture(cmd, args, { cwd: ROOT });
  return { code, output, secs: ((Date.now() - t) / 1000).toFixed(1) };
}

/** Prints a check's result (its whole output when it failed; else the lines `keep` matches). */
function report(name: string, { code, output, secs }: CheckRun, keep?: RegExp): boolean {
  if (code === 0) {
    log(`${name}: ok (${secs} s)`);
    if (keep) for (const l of output.split('\n').filter((l) => keep.test(l))) log(`  ${l}`);
    return true;
  }
  process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  log(`${name}: FAILED (exit ${code}, ${secs} s)`);
  return false;
}

async function check(name: string, script: string): Promise<boolean> {
  return report(name, await runCheck(script));
}

/** How to run npm: the npm CLI that started us (npm_execpath) when there is one. */
function npm(args: string[]): [string, string[]] {
  const cli = process.env.npm_execpath;
  if (cli && /\.(c|m)?js$/.test(cli) && existsSync(cli)) return [process.execPath, [cli, ...args]];
  return ['npm', args];
}

function summary(file: string): { line?: string; failed: boolean } {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as JestResults;
    // A suite that could not run (syntax error, failing import) counts as one failed test.
    const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
    const skipped = r.numPendingTests + r.numTodoTests;
    const line =
      `tests: ${r.numPassedTests} passed, ${failed} failed` +
      (skipped > 0 ? `, ${skipped} skipped` : '');
    return { line, failed: failed > 0 || !r.success };
  } catch {
    console.error(`[test] Jest wrote no results (${file}); it did not finish`);
    return { failed: true };
  }
}

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const skipLint = process.env.SKIP_LINT === '1';
  if (skipLint) log('SKIP_LINT=1: skipping lint and typecheck');
  // lint and typecheck run while the services start and Jest runs; each is shown when it finishes
  const checks = skipLint
    ? Promise.resolve([true, true, true, true])
    : Promise.all([
        check('lint', 'lint'),
        check('typecheck', 'typecheck'),
        // the committed OpenAPI document must be what the code generates
        check('openapi', 'openapi:check'),
        // …and the typed API client (libs/api-client) what that document generates
        check('api-client', 'client:check'),
      ]);
  // promtool on ops/prometheus (rules, their unit tests, config): started now and reported after
  // the tests, because the first run builds promtool with Go (5-10 min on 2 cores) and that runs
  // alongside the services and Jest. Skipped with the static checks (SKIP_LINT=1), or alone with
  // SKIP_PROMETHEUS=1.
  const prometheusWanted = !skipLint && process.env.SKIP_PROMETHEUS !== '1';
  if (!skipLint && !prometheusWanted) log('SKIP_PROMETHEUS=1: skipping the Prometheus check');
  const prometheus = prometheusWanted ? runCheck('ops:check') : undefined;

  let services: RunningServices | undefined;
  let verdict: string | undefined;
  let testDb: ReturnType<typeof claimTestDatabase> | undefined;
  try {
    const [svc, chromium] = await Promise.all([
      ensureServices({ log: (s) => console.log(`[services] ${s}`), signal: controller.signal }),
      // without Chromium only the browser tests fail; unit and integration runs still work
      ensureChromium((s) => console.log(`[services] ${s}`)).catch((e: unknown) => {
        console.error(`[services] WARNING: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }),
      // sshd, ssh, podman, runc, busybox for the delivery tests (installed like Chromium);
      // without them only those tests fail
      ensureDeliveryHostTools((s) => console.log(`[services] ${s}`)).then(
        (missing) => {
          if (missing.length > 0) {
            console.error(`[services] WARNING: delivery tests need ${missing.join(', ')}`);
          }
        },
        (e: unknown) => {
          console.error(`[services] WARNING: ${e instanceof Error ? e.message : String(e)}`);
        },
      ),
    ]);
    services = svc;
    testDb = claimTestDatabase();
    if (!testDb.isDefault) log(`another test run is using ${TEST_DB}; using ${testDb.name}`);
    const databaseUrl = await recreateDatabase(svc.env.DATABASE_URL, testDb.name);
    log(`database ${testDb.name} recreated (${redact(databaseUrl)})`);

    // Jest starts without waiting for lint and typecheck (they overlap its first suites; their
    // results are counted at the end)
    if (interrupted) return 130;

    mkdirSync(RUN_DIR, { recursive: true });
    const resultsFile = join(RUN_DIR, `jest-results-${process.pid}.json`);
    rmSync(resultsFile, { force: true });
    const userSetsWorkers = jestArgs.some((a) => /^(-w|-i|--maxWorkers|--runInBand)/.test(a));
    const jest = run(
      'jest',
      process.execPath,
      [
        '--experimental-vm-modules',
        join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        // two suites at once (each has its own database, topics and ports): the suites spend much
        // of their time waiting on servers, Kafka and the browser, so two overlap well even on
        // 2 cores; SUANLI_TEST_WORKERS=1 runs one at a time
        ...(userSetsWorkers ? [] : [`--maxWorkers=${process.env.SUANLI_TEST_WORKERS ?? '2'}`]),
        '--passWithNoTests',
        '--json',
        `--outputFile=${resultsFile}`,
        ...jestArgs,
      ],
      {
        cwd: ROOT,
        output: 'inherit',
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: databaseUrl,
          KAFKA_BROKERS: svc.env.KAFKA_BROKERS,
          STRIPE_API_BASE: svc.env.STRIPE_API_BASE,
          ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
        },
      },
    );
    // Ctrl-C reaches Jest through us (it runs in its own process group)
    const forward = (): void => {
      if (jest.proc.pid) {
        try {
          process.kill(-jest.proc.pid, 'SIGINT');
        } catch {
          // gone
        }
      }
    };
    controller.signal.addEventListener('abort', forward);
    const code = await jest.exited;
    await jest.stop(5000);
    const { line, failed } = summary(resultsFile);
    rmSync(resultsFile, { force: true });
    // API fuzzing (tools/fuzz) on a full run, or when FUZZ=1; SKIP_FUZZ=1 skips it
    const fuzzWanted =
      process.env.SKIP_FUZZ !== '1' && (jestArgs.length === 0 || process.env.FUZZ === '1');
    let fuzzFailed = false;
    if (fuzzWanted && !interrupted) {
      const fuzz = run(
        'fuzz',
        process.execPath,
        ['--import', '@swc-node/register/esm-register', join(ROOT, 'tools', 'fuzz', 'fuzz.ts')],
        {
          cwd: ROOT,
          output: 'inherit',
          env: {
            ...process.env,
            DATABASE_URL: databaseUrl,
            KAFKA_BROKERS: svc.env.KAFKA_BROKERS,
            STRIPE_API_BASE: svc.env.STRIPE_API_BASE,
          },
        },
      );
      fuzzFailed = (await fuzz.exited) !== 0;
      if (fuzzFailed) log('fuzzing found failures (see above)');
    }
    // The quick failure drill (tools/drills --quick: kill one of two market-api instances under
    // orders and top-ups, then check nothing failed, got lost or doubled; about 1 min) on a full
    // run, or when DRILLS=1 (with Jest arguments); SKIP_DRILLS=1 skips it. A retry cut off by the
    // kill is answered as the first attempt would have been (the idempotent routes commit their
    // answer with their effects or resume, docs/operations.md). The drills start their own
    // cluster and need Java and the Kafka jars that starting the local Kafka downloads.
    const drillsWanted =
      process.env.SKIP_DRILLS !== '1' && (jestArgs.length === 0 || process.env.DRILLS === '1');
    let drillsFailed = false;
    if (drillsWanted && !interrupted) {
      if (!existsSync(join(ROOT, '.local', 'kafka', 'libs'))) {
        log('drills skipped: no Kafka jars in .local/kafka/libs (`npm run services -- start`)');
      } else {
        const drills = run(
          'drills',
          process.execPath,
          [
            '--import',
            '@swc-node/register/esm-register',
            join(ROOT, 'tools', 'drills', 'run.ts'),
            '--quick',
          ],
          { cwd: ROOT, output: 'inherit', env: { ...process.env } },
        );
        drillsFailed = (await drills.exited) !== 0;
        if (drillsFailed) log('a failure drill failed (see above; logs in .local/drills/logs)');
      }
    }
    const checksFailed = (await checks).filter((ok) => !ok).length;
    const prometheusFailed = prometheus
      ? !report('prometheus', await prometheus, /^ok {5}/)
      : false;
    if (prometheusFailed) log('the Prometheus rules check failed (see above; npm run ops:check)');
    if (checksFailed > 0) log('lint or typecheck failed (see above)');
    verdict = line;
    if (interrupted) return 130;
    const failures = [
      failed,
      code !== 0,
      checksFailed > 0,
      fuzzFailed,
      drillsFailed,
      prometheusFailed,
    ];
    return failures.some(Boolean) ? 1 : 0;
  } catch (e) {
    if (e instanceof ServiceError) console.error(`[services] ${e.message}`);
    else console.error(e);
    await checks.catch(() => undefined);
    return interrupted ? 130 : 1;
  } finally {
    if (services && testDb && !testDb.isDefault) {
      await dropDatabase(services.env.DATABASE_URL, testDb.name).catch(() => undefined);
    }
    testDb?.release();
    if (services) await services.stop();
    // the verdict is the last line printed, after the services' shutdown messages
    if (verdict) console.log(`\n${verdict}`);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
