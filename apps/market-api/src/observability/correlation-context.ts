import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The ids of the work in progress (docs/architecture.md, "Correlation ids"): `correlationId` is
 * the HTTP request's, or inside a settlement step the lease's originating one; `runId` names a
 * scheduled job run; `leaseId` the lease a settlement step works on.
 */
interface CorrelationScope {
  correlationId?: string;
  runId?: string;
  leaseId?: string;
}

const store = new AsyncLocalStorage<CorrelationScope>();

/** Runs `fn` with `correlationId` as the current correlation id (seen by logs and the outbox). */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return store.run({ ...store.getStore(), correlationId }, fn);
}

/** Runs `fn` as (part of) the job run `runId`; the caller's correlation id, if any, stays. */
export function withRun<T>(runId: string, fn: () => T): T {
  return store.run({ ...store.getStore(), runId }, fn);
}

/**
 * Runs `fn` as work on one lease within the current run: the lease's originating correlation id
 * becomes the current one, so log lines and the lease events it records carry it.
 */
export function withLease<T>(lease: { id: string; correlationId: string | null }, fn: () => T): T {
  const { runId } = store.getStore() ?? {};
  return store.run(
    {
      ...(runId ? { runId } : {}),
      leaseId: lease.id,
      ...(lease.correlationId ? { correlationId: lease.correlationId } : {}),
    },
    fn,
  );
}

/** The current correlation id, if any. */
export function currentCorrelationId(): string | undefined {
  return store.getStore()?.correlationId;
}

/** The current job run's id, if any. */
export function currentRunId(): string | undefined {
  return store.getStore()?.runId;
}

/** The ids of the current scope that are set (to spread into a log line). */
export function correlationScope(): CorrelationScope {
  const s = store.getStore() ?? {};
  return {
    ...(s.correlationId ? { correlationId: s.correlationId } : {}),
    ...(s.runId ? { runId: s.runId } : {}),
    ...(s.leaseId ? { leaseId: s.leaseId } : {}),
  };
}

/** Kafka header carrying the correlation id of the work that produced a message. */
export const HEADER_CORRELATION_ID = 'x-correlation-id';

/** Kafka header of lease events: the lease's originating correlation id (its order request's). */
export const HEADER_LEASE_CORRELATION_ID = 'x-lease-correlation-id';

/** `{ correlationId }` when there is a current one, else `{}` (to spread into a payload). */
export function correlationField(): { correlationId?: string } {
  const correlationId = currentCorrelationId();
  return correlationId ? { correlationId } : {};
}

/** Splits the correlation ids a payload carried through an outbox from the payload itself. */
export function splitCorrelation<T extends object>(
  payload: T & { correlationId?: unknown; leaseCorrelationId?: unknown },
): { event: T; correlationId?: string; leaseCorrelationId?: string } {
  const { correlationId, leaseCorrelationId, ...event } = payload;
  return {
    event: event as T,
    ...(typeof correlationId === 'string' ? { correlationId } : {}),
    ...(typeof leaseCorrelationId === 'string' ? { leaseCorrelationId } : {}),
  };
}

/** The Kafka header with the current correlation id, or none. */
export function correlationHeader(): Record<string, string> {
  const correlationId = currentCorrelationId();
  return correlationId ? { [HEADER_CORRELATION_ID]: correlationId } : {};
}
