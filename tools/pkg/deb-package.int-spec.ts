// The metering agent's Debian package (docs/packaging.md) through its life on a host, with
// dpkg into a throw-away root (never this system): built by `npm run pkg -- deb`'s code,
// installed (own user, directories, unit enabled), its unit verified by systemd-analyze and its
// command line run as systemd would run it (paths under the throw-away root) while Kafka is
// unreachable, so the spool fills; upgraded with that full spool (spool and chain state kept
// byte for byte); run again against the real Kafka and the real ingest, where every batch and
// every window arrives exactly once; removed (state kept) and purged (state gone).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { FixedClock } from '../../apps/market-api/src/common/clock.js';
import { buyerWithLease, sellerWithOffer } from '../../test/support/actors.js';
import { expectEventually } from '../../test/support/eventually.js';
import { kafkaBrokers } from '../../test/support/kafka.js';
import { freePort } from '../../test/support/ports.js';
import { startUsageStack, type UsageStack } from '../../test/support/usage-stack.js';
import { buildDeb } from './build.js';

const UNIT = 'usr/lib/systemd/system/suanli-agent.service';

let out: string;
let root: string;
let stack: UsageStack;
let v1: string;
let v2: string;
const children: ChildProcess[] = [];

function dpkg(...args: string[]) {
  // Chrootless: the maintainer scripts run here with DPKG_ROOT set and act on the root only.
  const r = spawnSync('dpkg', [`--root=${root}`, '--force-script-chrootless', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The unit's ExecStart and EnvironmentFile, with the package's paths under the throw-away root. */
function unitCommand(): { argv: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(root, UNIT), 'utf8');
  const reroot = (p: string) =>
    /^\/(usr\/lib|etc|var\/lib)\/suanli-agent\b/.test(p) ? join(root, p) : p;
  const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? '';
  const envFile = /^EnvironmentFile=-?(.+)$/m.exec(unit)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const line of readFileSync(reroot(envFile), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return { argv: exec.split(/\s+/).map(reroot), env };
}

/** Runs the unit's command line until `enough` says so, then stops it with the unit's SIGTERM. */
async function runUnit(enough: (log: string) => boolean): Promise<string> {
  const { argv, env } = unitCommand();
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await expectEventually(
    async () => {
      expect(child.exitCode).toBeNull();
      expect(enough(log)).toBe(true);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nagent log:\n${log}`);
  });
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  return log;
}

const spooled = (log: string) =>
  [...log.matchAll(/"msg":"batch spooled".*"seq":(\d+),"events":(\d+)/g)].map((m) => ({
    seq: Number(m[1]),
    events: Number(m[2]),
  }));

function writeConfig(cfg: Record<string, unknown>): void {
  writeFileSync(join(root, 'etc/suanli-agent/agent.json'), JSON.stringify(cfg, null, 2), {
    mode: 0o640,
  });
}

/** Every file under the state directory with its content. */
function stateFiles(): Record<string, string> {
  const dir = join(root, 'var/lib/suanli-agent');
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'suanli-deb-'));
  root = await mkdtemp(join(tmpdir(), 'suanli-root-'));
  const version = (
    JSON.parse(readFileSync(new URL('../cli/package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  v1 = await buildDeb(out, version);
  v2 = await buildDeb(out, `${version}+upgrade.1`);
  // An empty dpkg database that knows the host's Node.js (the package depends on it and the
  // unit runs /usr/bin/node): the host's own status entry for nodejs, nothing else.
  const admin = join(root, 'var/lib/dpkg');
  mkdirSync(join(admin, 'info'), { recursive: true });
  mkdirSync(join(admin, 'updates'));
  const nodejs = spawnSync('dpkg-query', ['-s', 'nodejs'], { encoding: 'utf8' });
  writeFileSync(join(admin, 'status'), nodejs.status === 0 ? `${nodejs.stdout.trim()}\n\n` : '');
  writeFileSync(join(admin, 'info', 'nodejs.list'), '');
  writeFileSync(join(admin, 'available'), '');
  stack = await startUsageStack('deb-agent', { clock: new FixedClock(new Date()) });
}, 240_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await stack?.close();
  await rm(out, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
});

describe('suanli-agent Debian package', () => {
  // The host's accounts, less the per-lease ones (sl-…) that the delivery tests running alongside
  // create and remove: the package must add none of its own.
  const hostAccounts = (): string[] =>
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('sl-'));
  const hostPasswd = hostAccounts();

  it('is built by dpkg-deb with its metadata, unit, conffiles and bundled agent', () => {
    const info = spawnSync('dpkg-deb', ['--info', v1], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/Package: suanli-agent/);
    expect(info).toMatch(/Depends: nodejs \(>= 20\.6\)/);
    const files = spawnSync('dpkg-deb', ['--contents', v1], { encoding: 'utf8' }).stdout;
    for (const f of [
      `./${UNIT}`,
      './usr/lib/suanli-agent/agent.mjs',
      './usr/lib/sysusers.d/suanli-agent.conf',
      './usr/lib/tmpfiles.d/suanli-agent.conf',
      './etc/suanli-agent/agent.env',
      './usr/share/doc/suanli-agent/CHANGELOG.md',
    ]) {
      expect(files).toContain(f);
    }
    expect(files).toMatch(/root\/root .* \.\/usr\/lib\/suanli-agent\/node_modules\/lz4-napi\//);
  });

  it('installs: its own user, its directories, the unit enabled; nothing on this system', () => {
    const r = dpkg('-i', v1);
    expect(r.output).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const user =
      /^suanli-agent:x:(\d+):(\d+):[^:]*:\/var\/lib\/suanli-agent:\/usr\/sbin\/nologin$/m.exec(
        passwd,
      );
    expect(user).not.toBeNull();
    const state = statSync(join(root, 'var/lib/suanli-agent'));
    expect([state.uid, state.gid, state.mode & 0o777]).toEqual([
      Number(user![1]),
      Number(user![2]),
      0o750,
    ]);
    const etc = statSync(join(root, 'etc/suanli-agent'));
    expect([etc.uid, etc.gid, etc.mode & 0o777]).toEqual([0, Number(user![2]), 0o750]);
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants/suanli-agent.service');
    expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    expect(
      spawnSync('dpkg-query', [`--root=${root}`, '-W', '-f=${Status} ${Version}', 'suanli-agent'], {
        encoding: 'utf8',
      }).stdout,
    ).toMatch(/^install ok installed /);
    // The host was not touched.
    expect(hostAccounts()).toEqual(hostPasswd);
    expect(existsSync('/usr/lib/suanli-agent')).toBe(false);
  });

  it('its unit passes systemd-analyze verify and runs as the agent user with journal logging', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(root, UNIT)], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
    const unit = readFileSync(join(root, UNIT), 'utf8');
    expect(unit).toMatch(/^User=suanli-agent$/m);
    expect(unit).toMatch(/^StandardOutput=journal$/m);
    expect(unit).toMatch(/^StateDirectory=suanli-agent$/m);
    expect(unitCommand().argv).toEqual([
      '/usr/bin/node',
      join(root, 'usr/lib/suanli-agent/agent.mjs'),
      '--config',
      join(root, 'etc/suanli-agent/agent.json'),
      '--state-dir',
      join(root, 'var/lib/suanli-agent'),
    ]);
  });

  it('upgrades with a full spool, then delivers every batch exactly once to the real ingest', async () => {
    const { offer, agent, key } = await sellerWithOffer(stack.api, { title: 'deb agent' });
    const { lease } = await buyerWithLease(stack.api, offer.id);
    const topic = stack.topics.topics['exchange.usage.v1'];
    const config = {
      marketApiUrl: stack.api.url,
      kafkaBrokers: [`127.0.0.1:${await freePort()}`], // unreachable: the spool fills
      agents: [
        {
          agentId: agent.id,
          privateJwk: { ...key.privateJwk, kid: key.kid },
          resourceCri: lease.cri,
          class: 'AI',
          collector: 'simulator',
        },
      ],
    };
    writeConfig(config);
    // agent.env is the package's conffile: the admin's settings there survive the upgrade.
    const envFile = join(root, 'etc/suanli-agent/agent.env');
    writeFileSync(
      envFile,
      `${readFileSync(envFile, 'utf8')}USAGE_TOPIC=${topic}\nAGENT_WINDOW_SECONDS=1\nAGENT_STATS_SECONDS=1\n`,
    );

    const offline = await runUnit((log) => spooled(log).length >= 3);
    const first = spooled(offline);
    expect(first.map((b) => b.seq)).toEqual(first.map((_, i) => i));
    const before = stateFiles();
    const stateName = `${encodeURIComponent(agent.id)}.json`;
    const spoolName = `${encodeURIComponent(agent.id)}.spool`;
    expect(Object.keys(before).sort()).toEqual([stateName, spoolName].sort());
    expect(before[spoolName].trim().split('\n')).toHaveLength(first.length);
    expect(JSON.parse(before[stateName])).toMatchObject({ nextSeq: first.length, ackedSeq: -1 });

    const up = dpkg('-i', v2);
    expect(up.output).not.toMatch(/error/i);
    expect(up.code).toBe(0);
    expect(up.output).toMatch(/Unpacking suanli-agent \(.*\+upgrade\.1\) over/);
    expect(stateFiles()).toEqual(before);
    expect(readFileSync(envFile, 'utf8')).toContain(`USAGE_TOPIC=${topic}`);

    // Kafka back: the spooled batches go first, then new ones; stop once the ingest has all.
    writeConfig({ ...config, kafkaBrokers: kafkaBrokers() });
    const online = await runUnit((log) => {
      return /"msg":"stats".*"spooled":0/.test(log) && spooled(log).length >= 2;
    });
    const all = [...first, ...spooled(online)];
    expect(all.map((b) => b.seq)).toEqual(all.map((_, i) => i));
    const windows = all.reduce((n, b) => n + b.events, 0);

    await expectEventually(
      async () => {
        const batches = await stack.pool.query<{ seq: string }>(
          'SELECT seq FROM agent_batches WHERE agent_id = $1 ORDER BY seq',
          [agent.id],
        );
        expect(batches.rows.map((r) => Number(r.seq))).toEqual(all.map((b) => b.seq));
        const events = await stack.pool.query<{ n: string; distinct_windows: string }>(
          `SELECT count(*) AS n, count(DISTINCT window_start) AS distinct_windows
             FROM usage_events WHERE lease_id = $1`,
          [lease.id],
        );
        expect(Number(events.rows[0].n)).toBe(windows);
        expect(Number(events.rows[0].distinct_windows)).toBe(windows);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Nothing was sent twice: the topic holds each batch once.
    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)).toBe(all.length);
    const dead = await stack.pool.query('SELECT reason FROM usage_dead_letters');
    expect(dead.rows).toEqual([]);
  }, 240_000);

  it('removal keeps configuration, spool and chain state; purge deletes them', () => {
    const removed = dpkg('-r', 'suanli-agent');
    expect(removed.code).toBe(0);
    expect(existsSync(join(root, 'usr/lib/suanli-agent/agent.mjs'))).toBe(false);
    expect(existsSync(join(root, UNIT))).toBe(false);
    expect(
      existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/suanli-agent.service')),
    ).toBe(false);
    expect(Object.keys(stateFiles())).toHaveLength(2);
    expect(existsSync(join(root, 'etc/suanli-agent/agent.json'))).toBe(true);
    const purged = dpkg('--purge', 'suanli-agent');
    expect(purged.code).toBe(0);
    expect(existsSync(join(root, 'var/lib/suanli-agent'))).toBe(false);
    expect(existsSync(join(root, 'etc/suanli-agent'))).toBe(false);
    expect(hostAccounts()).toEqual(hostPasswd);
  });
});
