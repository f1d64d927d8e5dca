// `npm run ops:check`: checks ops/prometheus with the real promtool, the way the prometheus
// container of ops/docker-compose.prod.yml loads it:
//   1. `promtool check rules` on rules.yml (with every lint, lint findings fatal);
//   2. `promtool test rules` on rules.test.yml (the alerts' unit tests), and that every alert in
//      rules.yml has a test where it fires and one where it stays quiet;
//   3. `promtool check config` on prometheus.yml, in a temporary copy of /etc/prometheus laid out
//      from the compose file's mounts (prometheus.yml, rules.yml, targets/, secrets/), so the rule
//      files it names are the repository's; the git-ignored secrets get a placeholder.
// promtool: $PROMTOOL, else `go env GOBIN` / `$(go env GOPATH)/bin`, else PATH; when there is none
// it is built with `go install` (once; 5 to 10 minutes on 2 cores). Exits 1 on any failure.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from '../dev/children.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPS = join(ROOT, 'ops');
const PROM_DIR = join(OPS, 'prometheus');
const RULES = join(PROM_DIR, 'rules.yml');
const TESTS = join(PROM_DIR, 'rules.test.yml');
const CONFIG = join(PROM_DIR, 'prometheus.yml');
const COMPOSE = join(OPS, 'docker-compose.prod.yml');

/** The promtool that is installed when none is found (Prometheus 3.16.0's module version). */
const PROMTOOL_MODULE = 'github.com/prometheus/prometheus';
const PROMTOOL_VERSION = 'v0.316.0';

const log = (s = ''): void => console.log(s);
const indent = (s: string): string =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
const rel = (p: string): string => relative(ROOT, p) || '.';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** Go: $GOROOT/bin/go, else on PATH, else where the official archive installs it. */
function goBinary(): string | undefined {
  const goroot = process.env.GOROOT;
  if (goroot && isFile(join(goroot, 'bin', 'go'))) return join(goroot, 'bin', 'go');
  return which('go') ?? (isFile('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** Where `go install` puts binaries: GOBIN, else the first GOPATH entry's bin. */
async function goInstallDir(go: string): Promise<string | undefined> {
  const { code, output } = await capture(go, ['env', 'GOBIN', 'GOPATH']);
  if (code !== 0) return undefined;
  const [gobin, gopath] = output.split('\n').map((l) => l.trim());
  if (gobin) return gobin;
  const first = (gopath ?? '').split(delimiter)[0];
  return first ? join(first, 'bin') : undefined;
}

async function findOrInstallPromtool(): Promise<string> {
  const fromEnv = process.env.PROMTOOL;
  if (fromEnv) {
    if (!isFile(fromEnv)) throw new Error(`PROMTOOL=${fromEnv} is not a file`);
    return fromEnv;
  }
  const go = goBinary();
  const goDir = go ? await goInstallDir(go) : undefined;
  if (goDir && isFile(join(goDir, 'promtool'))) return join(goDir, 'promtool');
  const onPath = which('promtool');
  if (onPath) return onPath;
  if (!go || !goDir) {
    throw new Error(
      'promtool not found and no Go to build it: install Go (https://go.dev/dl/), or set ' +
        'PROMTOOL to a promtool binary',
    );
  }
  const pkg = `${PROMTOOL_MODULE}/cmd/promtool@${PROMTOOL_VERSION}`;
  log(`promtool not found: go install ${pkg} (once; 5 to 10 minutes on 2 cores)`);
  const t = Date.now();
  // at low CPU priority: in `npm test` it builds while the tests run
  const nice = which('nice');
  const [cmd, args] = nice ? [nice, ['-n', '10', go, 'install', pkg]] : [go, ['install', pkg]];
  const { code, output } = await capture(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  if (code !== 0) {
    const tail = output.trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(`go install ${pkg} failed (exit ${code}):\n${tail}`);
  }
  const built = join(goDir, 'promtool');
  if (!isFile(built)) throw new Error(`go install ${pkg} succeeded but ${built} is missing`);
  log(`promtool: built in ${Math.round((Date.now() - t) / 1000)} s (${built})`);
  return built;
}

/** The module version a Go binary was built from (`go version -m`), when Go can tell. */
async function moduleVersion(binary: string): Promise<string | undefined> {
  const go = goBinary();
  if (!go) return undefined;
  const { code, output } = await capture(go, ['version', '-m', binary]);
  if (code !== 0) return undefined;
  const line = output.split('\n').find((l) => l.trim().startsWith(`mod\t${PROMTOOL_MODULE}\t`));
  return line?.trim().split('\t')[2];
}

// ---------------------------------------------------------------------------------------------
// rule tests

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e] ?? '';
  });
}

interface GroupResult {
  name: string;
  failure?: string;
}

/** The test groups in promtool's JUnit report, each with its failure text if it failed. */
function junitGroups(xml: string): { groups: GroupResult[]; errors: number } {
  const groups: GroupResult[] = [];
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const failure = /<(?:failure|error)[^>]*>([\s\S]*?)<\/(?:failure|error)>/.exec(m[2] ?? '');
    groups.push({ name: xmlText(m[1]), failure: failure ? xmlText(failure[1]) : undefined });
  }
  const errors = [...xml.matchAll(/<testsuite [^>]*\berrors="(\d+)"/g)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
  return { groups, errors };
}

/**
 * Alerts of rules.yml without a firing case (non-empty exp_alerts) or a quiet case
 * (`exp_alerts: []`) in rules.test.yml. Reads the test file line by line: each
 * `alertname:` is followed by its `exp_alerts:`.
 */
function untested(rulesText: string, testsText: string): string[] {
  const alerts = [...rulesText.matchAll(/^\s*-\s*alert:\s*['"]?([\w:]+)/gm)].map((m) => m[1]);
  const fires = new Set<string>();
  const quiet = new Set<string>();
  let current: string | undefined;
  for (const line of testsText.split('\n')) {
    const name = /^\s*-?\s*alertname:\s*['"]?([\w:]+)/.exec(line);
    if (name) {
      current = name[1];
      continue;
    }
    const exp = /^\s*exp_alerts:\s*(\S*)/.exec(line);
    if (exp && current) {
      (exp[1] === '[]' ? quiet : fires).add(current);
      current = undefined;
    }
  }
  const missing: string[] = [];
  for (const a of alerts) {
    if (!fires.has(a)) missing.push(`${a}: no case where it fires`);
    if (!quiet.has(a)) missing.push(`${a}: no case where it stays quiet`);
  }
  return missing;
}

async function testRules(promtool: string, work: string): Promise<{ ok: boolean; line: string }> {
  const junit = join(work, 'rules.test.junit.xml');
  const { code, output } = await capture(promtool, ['test', 'rules', `--junit=${junit}`, TESTS], {
    cwd: ROOT,
  });
  const testsText = readFileSync(TESTS, 'utf8');
  const cases = (testsText.match(/^\s*-\s*eval_time:/gm) ?? []).length;
  const { groups, errors } = existsSync(junit)
    ? junitGroups(readFileSync(junit, 'utf8'))
    : { groups: [], errors: 0 };
  if (groups.length === 0 || errors > 0 || (code !== 0 && groups.every((g) => !g.failure))) {
    log(indent(output));
    return { ok: false, line: `test rules: promtool could not run the tests (exit ${code})` };
  }
  let ok = true;
  const failed = groups.filter((g) => g.failure);
  for (const g of failed) {
    log(`  FAILED: ${g.name}`);
    log(indent(g.failure ?? ''));
    ok = false;
  }
  const missing = untested(readFileSync(RULES, 'utf8'), testsText);
  for (const m of missing) log(`  untested alert: ${m}`);
  if (missing.length > 0) ok = false;
  const passed = groups.length - failed.length;
  return {
    ok,
    line:
      `test rules: ${groups.length} groups (${cases} cases): ${passed} passed, ` +
      `${failed.length} failed` +
      (missing.length > 0 ? `, ${missing.length} untested` : ''),
  };
}

// ---------------------------------------------------------------------------------------------
// config

/** The prometheus service's bind mounts into /etc/prometheus: container path → host path. */
function composeMounts(): Map<string, string> {
  const text = readFileSync(COMPOSE, 'utf8');
  const block = /^ {2}prometheus:\n((?: {4,}.*\n|[ \t]*\n)*)/m.exec(text)?.[1] ?? '';
  const mounts = new Map<string, string>();
  for (const m of block.matchAll(
    /^\s*-\s*['"]?(\.{1,2}\/[^:\s'"]+):(\/etc\/prometheus[^:\s'"]*)/gm,
  )) {
    mounts.set(m[2], resolve(OPS, m[1]));
  }
  return mounts;
}

/**
 * A copy of /etc/prometheus as the container sees it, under `dir`: each mounted file or
 * directory copied from the repository, and a placeholder for each credentials file the
 * config names that is not in the repository (the secrets are git-ignored).
 */
function mirrorEtc(dir: string): { config: string; notes: string[] } {
  const mounts = composeMounts();
  const notes: string[] = [];
  const hostConfig = mounts.get('/etc/prometheus/prometheus.yml');
  if (!hostConfig || resolve(hostConfig) !== CONFIG) {
    throw new Error(
      `${rel(COMPOSE)}: the prometheus service does not mount ${rel(CONFIG)} at ` +
        '/etc/prometheus/prometheus.yml',
    );
  }
  const inMirror = (containerPath: string) => join(dir, relative('/etc/prometheus', containerPath));
  for (const [containerPath, hostPath] of mounts) {
    const target = inMirror(containerPath);
    if (existsSync(hostPath)) {
      cpSync(hostPath, target, { recursive: true });
    } else {
      notes.push(`${rel(hostPath)} (mounted at ${containerPath}) is not in the repository`);
    }
  }
  const text = readFileSync(CONFIG, 'utf8');
  for (const m of text.matchAll(
    /\b(?:credentials|password|bearer_token)_file:\s*['"]?(\/etc\/prometheus\/[^'"\s]+)/g,
  )) {
    const file = inMirror(m[1]);
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'placeholder\n');
      notes.push(`${m[1]}: a placeholder (the secret is not in the repository)`);
    }
  }
  for (const m of text.matchAll(/\/etc\/prometheus\/[^'"\s\],]*/g)) {
    if (![...mounts.keys()].some((c) => m[0] === c || m[0].startsWith(`${c}/`))) {
      throw new Error(`${rel(CONFIG)} names ${m[0]}, which no volume of ${rel(COMPOSE)} provides`);
    }
  }
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, text.replaceAll('/etc/prometheus/', `${dir}/`));
  return { config, notes };
}

async function checkConfig(promtool: string, work: string): Promise<{ ok: boolean; line: string }> {
  const dir = join(work, 'etc-prometheus');
  mkdirSync(dir, { recursive: true });
  let mirror: ReturnType<typeof mirrorEtc>;
  try {
    mirror = mirrorEtc(dir);
  } catch (e) {
    log(`  ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, line: 'check config: FAILED' };
  }
  for (const n of mirror.notes) log(`  ${n}`);
  const { code, output } = await capture(
    promtool,
    ['check', 'config', '--lint=all', '--lint-fatal', mirror.config],
    { cwd: ROOT },
  );
  // paths in promtool's output as the container has them
  log(indent(output.replaceAll(`${dir}/`, '/etc/prometheus/')));
  return {
    ok: code === 0,
    line: `check config: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} (${rel(CONFIG)} as mounted in ${rel(COMPOSE)})`,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const promtool = await findOrInstallPromtool();
  const version = await moduleVersion(promtool);
  log(`promtool: ${promtool}${version ? ` (${PROMTOOL_MODULE} ${version})` : ''}`);
  if (version && version !== PROMTOOL_VERSION) {
    log(`  note: not ${PROMTOOL_VERSION}, the version this check installs`);
  }
  const image = /image:\s*prom\/prometheus:(\S+)/.exec(readFileSync(COMPOSE, 'utf8'))?.[1];
  if (image) log(`  (production runs prom/prometheus:${image}, ${rel(COMPOSE)})`);

  const work = mkdtempSync(join(tmpdir(), 'suanli-promtool-'));
  const results: { ok: boolean; line: string }[] = [];
  try {
    log(`\n== promtool check rules ${rel(RULES)}`);
    const rules = await capture(promtool, ['check', 'rules', '--lint=all', '--lint-fatal', RULES], {
      cwd: ROOT,
    });
    log(indent(rules.output));
    results.push({
      ok: rules.code === 0,
      line: `check rules: ${rules.code === 0 ? 'ok' : `FAILED (exit ${rules.code})`}`,
    });

    log(`\n== promtool test rules ${rel(TESTS)}`);
    results.push(await testRules(promtool, work));

    log(`\n== promtool check config ${rel(CONFIG)}`);
    results.push(await checkConfig(promtool, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log('');
  for (const r of results) log(`${r.ok ? 'ok    ' : 'FAILED'} ${r.line}`);
  const ok = results.every((r) => r.ok);
  log(`prometheus: ${ok ? 'ok' : 'FAILED'}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`prometheus: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
