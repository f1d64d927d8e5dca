import { describe, expect, it } from '@jest/globals';
import {
  correlationField,
  correlationHeader,
  splitCorrelation,
  withCorrelation,
  withLease,
  withRun,
} from './correlation-context.js';
import { JsonLogger } from './json-logger.js';

describe('JsonLogger', () => {
  it('writes one JSON object per line with the current correlation id and context', () => {
    const lines: string[] = [];
    const logger = new JsonLogger('market-api', (line) => lines.push(line));
    withCorrelation('corr-12345678', () => logger.log('settled', 'settlement-scheduler'));
    logger.error('boom', 'stack here', 'ctx');
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({
      level: 'info',
      service: 'market-api',
      context: 'settlement-scheduler',
      msg: 'settled',
      correlationId: 'corr-12345678',
    });
    expect(b).toMatchObject({ level: 'error', msg: 'boom', context: 'ctx', stack: 'stack here' });
    expect(b.correlationId).toBeUndefined();
  });

  it('carries the correlation id to Kafka headers and through the outbox payload', () => {
    expect(correlationHeader()).toEqual({});
    withCorrelation('corr-abcdefgh', () =>
      expect(correlationHeader()).toEqual({ 'x-correlation-id': 'corr-abcdefgh' }),
    );
    expect(splitCorrelation({ eventId: 'e1', correlationId: 'c-1' })).toEqual({
      event: { eventId: 'e1' },
      correlationId: 'c-1',
    });
    expect(splitCorrelation({ eventId: 'e1' })).toEqual({ event: { eventId: 'e1' } });
    expect(
      splitCorrelation({ eventId: 'e1', correlationId: 'c-2', leaseCorrelationId: 'c-1' }),
    ).toEqual({ event: { eventId: 'e1' }, correlationId: 'c-2', leaseCorrelationId: 'c-1' });
  });

  it("a run's lines carry its runId; a lease's work within it the lease's correlation id", () => {
    const lines: string[] = [];
    const logger = new JsonLogger('market-api', (line) => lines.push(line));
    withCorrelation('request-1234', () =>
      withRun('run-1', () => {
        logger.log('run started', 'settlement');
        withLease({ id: 'lease-1', correlationId: 'order-5678' }, () => {
          logger.log('debit note', 'settlement');
          // Lease events recorded here go out with the lease's originating id.
          expect(correlationField()).toEqual({ correlationId: 'order-5678' });
        });
        withLease({ id: 'lease-2', correlationId: null }, () => logger.log('x', 'settlement'));
      }),
    );
    const [run, note, bare] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(run).toMatchObject({ runId: 'run-1', correlationId: 'request-1234' });
    expect(run.leaseId).toBeUndefined();
    expect(note).toMatchObject({ runId: 'run-1', leaseId: 'lease-1', correlationId: 'order-5678' });
    expect(bare).toMatchObject({ runId: 'run-1', leaseId: 'lease-2' });
    expect(bare.correlationId).toBeUndefined();
  });
});
