// Counts what the HTTP forms deliver (API calls, bytes to the buyer) per lease and second, and
// hands it to the agent's signed usage stream as a Collector (docs/delivery.md, "Metering").
import { readFile } from 'node:fs/promises';
import type { RawUsage } from '@suanli/units';
import { WriteQueue, writeFileAtomic } from './host.js';
import { windowSeconds, type ActiveLease, type Collector, type Window } from '../types.js';

interface Counts {
  calls: number;
  bytes: number;
}

/** Counts older than this are dropped unsampled (a lease the market no longer lists). */
const RETENTION_MS = 24 * 3600_000;

export class UsageMeter implements Collector {
  /** lease id → second (epoch s) → counts. */
  private readonly counts = new Map<string, Map<number, Counts>>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new WriteQueue();

  /**
   * `file`: where the counts persist (flushed every `flushMs`, and at once when a sample takes
   * them); none: memory only.
   */
  constructor(
    private readonly file?: string,
    private readonly flushMs = 1000,
  ) {}

  async load(): Promise<void> {
    if (this.file !== undefined) {
      try {
        const saved = JSON.parse(await readFile(this.file, 'utf8')) as Record<
          string,
          Record<string, Counts>
        >;
        for (const [lease, secs] of Object.entries(saved)) {
          this.counts.set(lease, new Map(Object.entries(secs).map(([s, c]) => [Number(s), c])));
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.timer = setInterval(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** One call answered by the upstream, with `bytes` of body sent to the buyer, at `at` ms. */
  record(leaseId: string, calls: number, bytes: number, at = Date.now()): void {
    let secs = this.counts.get(leaseId);
    if (secs === undefined) this.counts.set(leaseId, (secs = new Map()));
    const s = Math.floor(at / 1000);
    const c = secs.get(s);
    if (c === undefined) secs.set(s, { calls, bytes });
    else {
      c.calls += calls;
      c.bytes += bytes;
    }
    this.dirty = true;
  }

  /** Calls and bytes not yet sampled (all seconds), for tests and metrics. */
  pending(leaseId: string): Counts {
    let calls = 0;
    let bytes = 0;
    for (const c of this.counts.get(leaseId)?.values() ?? []) {
      calls += c.calls;
      bytes += c.bytes;
    }
    return { calls, bytes };
  }

  /**
   * The lease's calls and bytes of every second before `window.end` not sampled yet (earlier
   * windows whose tick failed are included rather than lost), taken out of the meter and off
   * disk before they are returned: a crash between here and the spool loses them rather than
   * billing them twice. Bytes are reported as `egress_bytes` only when the lease's spec has
   * `netGbps` (the ingest refuses egress from a resource that offers no network capacity).
   */
  async sample(lease: ActiveLease, window: Window): Promise<RawUsage> {
    const end = Math.floor(window.end.getTime() / 1000);
    const secs = this.counts.get(lease.leaseId);
    let calls = 0;
    let bytes = 0;
    if (secs !== undefined) {
      for (const [s, c] of secs) {
        if (s >= end) continue;
        calls += c.calls;
        bytes += c.bytes;
        secs.delete(s);
      }
      if (secs.size === 0) this.counts.delete(lease.leaseId);
      if (calls > 0 || bytes > 0) {
        this.dirty = true;
        await this.flush();
      }
    }
    const usage: RawUsage = { duration_s: String(windowSeconds(window)), api_calls: String(calls) };
    // the ingest accepts egress only from a resource that offers network capacity (netGbps)
    if (lease.spec.netGbps !== undefined) usage.egress_bytes = String(bytes);
    return usage;
  }

  /** Writes the counts if they changed (temporary file + rename); drops those past retention. */
  flush(): Promise<void> {
    if (this.file === undefined || !this.dirty) return this.writes.idle();
    this.dirty = false;
    const oldest = Math.floor((Date.now() - RETENTION_MS) / 1000);
    const out: Record<string, Record<string, Counts>> = {};
    for (const [lease, secs] of this.counts) {
      for (const s of secs.keys()) if (s < oldest) secs.delete(s);
      if (secs.size === 0) this.counts.delete(lease);
      else out[lease] = Object.fromEntries(secs);
    }
    const file = this.file;
    const body = JSON.stringify(out);
    return this.writes.push(() => writeFileAtomic(file, body));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
