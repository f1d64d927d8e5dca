import { AsyncLocalStorage } from 'node:async_hooks';

/** The correlation id of the work in progress: an HTTP request, a Kafka message or a job run. */
const store = new AsyncLocalStorage<{ correlationId: string }>();

/** Runs `fn` with `correlationId` as the current correlation id (seen by logs and the outbox). */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return store.run({ correlationId }, fn);
}

/** The current correlation id, if any. */
export function currentCorrelationId(): string | undefined {
  return store.getStore()?.correlationId;
}

/** Kafka header carrying the correlation id on lease and usage messages. */
export const HEADER_CORRELATION_ID = 'x-correlation-id';
