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

/** `{ correlationId }` when there is a current one, else `{}` (to spread into a payload). */
export function correlationField(): { correlationId?: string } {
  const correlationId = currentCorrelationId();
  return correlationId ? { correlationId } : {};
}

/** Splits the correlation id a payload carried through an outbox from the payload itself. */
export function splitCorrelation<T extends object>(
  payload: T & { correlationId?: unknown },
): { event: T; correlationId?: string } {
  const { correlationId, ...event } = payload;
  return typeof correlationId === 'string'
    ? { event: event as T, correlationId }
    : { event: event as T };
}

/** The Kafka header with the current correlation id, or none. */
export function correlationHeader(): Record<string, string> {
  const correlationId = currentCorrelationId();
  return correlationId ? { [HEADER_CORRELATION_ID]: correlationId } : {};
}
