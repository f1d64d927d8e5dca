import type { DataSource } from 'typeorm';
import { withLeaderLock, type LeaderLockResult } from './leader-lock.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Runs one tick of a scheduled job: under the job's leader lock when a database is given (one
 * instance at a time across all market-api instances), timed and counted in the metrics
 * (`suanli_job_runs_total{job,outcome}`). Errors are counted as `failed` and rethrown.
 */
export async function runScheduledJob<T>(
  job: string,
  fn: () => Promise<T>,
  deps: { db?: DataSource; metrics?: Metrics },
): Promise<LeaderLockResult<T>> {
  const started = process.hrtime.bigint();
  try {
    const r: LeaderLockResult<T> = deps.db
      ? await withLeaderLock(deps.db, job, fn)
      : { ran: true, value: await fn() };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics?.observeJob(job, r.ran ? 'ran' : 'skipped', seconds);
    return r;
  } catch (e) {
    deps.metrics?.observeJob(job, 'failed');
    throw e;
  }
}

/**
 * Runs scheduled job `job` at once and then every `ms`, one tick at a time (a tick still running
 * when the next is due is skipped); a failed tick is logged and the next one runs. `stop()` clears
 * the timer and waits for the running tick (module destroy).
 */
export function repeatScheduledJob(
  job: string,
  ms: number,
  fn: () => Promise<unknown>,
  deps: { db?: DataSource; metrics?: Metrics; warn: (message: string) => void },
): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running) return;
    running = runScheduledJob(job, fn, deps)
      .catch((e: Error) => deps.warn(`${job} tick failed: ${e.message}`))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, ms);
  timer.unref();
  setImmediate(tick);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
