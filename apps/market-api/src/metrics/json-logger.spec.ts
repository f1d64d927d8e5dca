import { describe, expect, it } from '@jest/globals';
import { splitCorrelation, withCorrelation, correlationHeader } from './correlation-context.js';
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
  });
});
