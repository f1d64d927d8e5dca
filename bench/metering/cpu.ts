// CPU seconds by role on this machine (Linux /proc): where the benchmark's cores went. Processes
// that exited count through their parent's reaped-children times (PostgreSQL backends through the
// postmaster's), so a difference of two snapshots covers the interval.
import { readdirSync, readFileSync } from 'node:fs';

export type CpuRole = 'postgres' | 'kafka' | 'ingest' | 'agents' | 'other';
export type CpuSnapshot = Record<CpuRole, number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function statOf(pid: string): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after "pid (comm)": state is the 3rd field; utime, stime, cutime, cstime the 14th-17th.
    const f = stat.slice(close + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { comm, ticks };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** CPU seconds so far of PostgreSQL, the Kafka broker, the ingest processes and this process. */
export function cpuSnapshot(ingestPids: ReadonlySet<number>): CpuSnapshot {
  const out: CpuSnapshot = { postgres: 0, kafka: 0, ingest: 0, agents: 0, other: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = statOf(pid);
    if (s === undefined) continue;
    let role: CpuRole;
    if (ingestPids.has(Number(pid))) role = 'ingest';
    else if (Number(pid) === process.pid) role = 'agents';
    else if (s.comm === 'postgres') role = 'postgres';
    else if (s.comm === 'java') {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      role = cmd.includes('kafka.Kafka') ? 'kafka' : 'other';
    } else role = 'other';
    out[role] += s.ticks / TICKS_PER_SECOND;
  }
  return out;
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  return {
    postgres: b.postgres - a.postgres,
    kafka: b.kafka - a.kafka,
    ingest: b.ingest - a.ingest,
    agents: b.agents - a.agents,
    other: b.other - a.other,
  };
}
