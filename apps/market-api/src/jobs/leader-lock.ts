import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

export type LeaderLockResult<T> = { ran: true; value: T } | { ran: false };

/** The advisory-lock name of a job: the same on every instance. */
export const leaderLockName = (job: string): string => `suanli:job:${job}`;

/** TypeORM's PostgreSQL driver keeps its pg pool as `master`. */
function poolOf(db: DataSource): Pool {
  return (db.driver as unknown as { master: Pool }).master;
}

/**
 * Runs `fn` only if this instance holds the job's PostgreSQL session advisory lock, so that one
 * instance at a time runs a scheduled job however many market-api instances share the database.
 * The lock is taken with `pg_try_advisory_lock` on a connection held for the whole run (the job
 * itself uses other connections and its own transactions); an instance that does not get it
 * skips the run. If the instance dies, PostgreSQL ends its session and with it the lock, so
 * another instance takes over at its next tick; after a failover the new primary has no locks.
 * When the unlock fails the connection is destroyed, never returned to the pool still locked.
 */
export async function withLeaderLock<T>(
  db: DataSource,
  job: string,
  fn: () => Promise<T>,
): Promise<LeaderLockResult<T>> {
  const client = await poolOf(db).connect();
  let broken: Error | undefined;
  // A checked-out client that loses its server (failover, terminated session) emits 'error':
  // without a listener that would crash the process.
  const onError = (e: Error) => {
    broken = e;
  };
  client.on('error', onError);
  try {
    const r = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [leaderLockName(job)],
    );
    if (!r.rows[0].locked) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      await client
        .query('SELECT pg_advisory_unlock(hashtext($1))', [leaderLockName(job)])
        .catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
    }
  } catch (e) {
    broken ??= e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
