import { describe, expect, it } from '@jest/globals';
import { RateMeter, renderMetrics } from './metrics.js';

const counters = {
  kafkaBatches: 2,
  messages: 3,
  applied: 60,
  duplicateEvents: 20,
  redeliveries: 1,
  deadLetters: 4,
  deadLettersPublished: 4,
  leaseEvents: 1,
  held: 0,
  consumerRestarts: 1,
};

describe('ingest metrics', () => {
  it('renders throughput, lag per partition and dead letters by reason', () => {
    const text = renderMetrics({
      counters,
      batchSeconds: { sum: 0.5, count: 2 },
      lag: [{ topic: 'exchange.usage.v1', partition: 1, lag: 7 }],
      eventsPerSecond: 12.34,
      deadLettersByReason: [
        { reason: 'over_capacity', count: 3 },
        { reason: 'bad_signature', count: 1 },
      ],
    });
    expect(text).toContain('metering_ingest_events_applied_total 60');
    expect(text).toContain('metering_ingest_consumer_restarts_total 1');
    expect(text).toContain('metering_ingest_events_per_second 12.3');
    expect(text).toContain(
      'metering_ingest_consumer_lag{topic="exchange.usage.v1",partition="1"} 7',
    );
    expect(text).toContain('metering_dead_letters{reason="over_capacity"} 3');
    expect(text).toContain('metering_dead_letters{reason="bad_signature"} 1');
    expect(text).toContain('# TYPE metering_dead_letters gauge');
  });

  it('measures the rate over its window', () => {
    const m = new RateMeter(10_000);
    m.sample(0, 0);
    m.sample(100, 2_000);
    expect(m.rate()).toBe(50);
  });
});
