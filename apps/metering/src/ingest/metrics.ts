// The ingest's metrics in Prometheus text format: counters, batch timings, consumer lag per
// partition (high watermark − committed offset) and throughput (events applied per second).

export interface Counters {
  kafkaBatches: number;
  messages: number;
  applied: number;
  duplicateEvents: number;
  redeliveries: number;
  deadLetters: number;
  deadLettersPublished: number;
  leaseEvents: number;
  held: number;
  /** Consumer restarts after a stalled partition (stall-watch.ts). */
  consumerRestarts: number;
}

/** Kafka header with the correlation id of the request behind a lease or usage message. */
export const HEADER_CORRELATION_ID = 'x-correlation-id';

/** Kafka header of lease events with the lease's originating correlation id (its order's). */
export const HEADER_LEASE_CORRELATION_ID = 'x-lease-correlation-id';

/** Dead letters recorded so far (all instances: read from the table), by reason. */
export interface ReasonCount {
  reason: string;
  count: number;
}

export interface LagSample {
  topic: string;
  partition: number;
  lag: number;
}

/** Events applied per second over a sliding window of periodic samples. */
export class RateMeter {
  private samples: { at: number; total: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}

  sample(total: number, at = Date.now()): void {
    this.samples.push({ at, total });
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowMs) this.samples.shift();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.at === a.at ? 0 : ((b.total - a.total) * 1000) / (b.at - a.at);
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderMetrics(input: {
  counters: Counters;
  batchSeconds: { sum: number; count: number };
  lag: LagSample[];
  eventsPerSecond: number;
  deadLettersByReason?: ReasonCount[];
}): string {
  const c = input.counters;
  const out: string[] = [];
  const counter = (name: string, help: string, value: number) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
  counter('metering_ingest_kafka_batches_total', 'Kafka batches applied.', c.kafkaBatches);
  counter('metering_ingest_messages_total', 'Usage messages (batches) consumed.', c.messages);
  counter('metering_ingest_events_applied_total', 'Usage events applied.', c.applied);
  counter('metering_ingest_events_duplicate_total', 'Duplicate events.', c.duplicateEvents);
  counter('metering_ingest_redeliveries_total', 'Redelivered batches.', c.redeliveries);
  counter('metering_ingest_dead_letters_total', 'Dead letters recorded.', c.deadLetters);
  counter(
    'metering_ingest_dead_letters_published_total',
    'Dead letters published to the DLQ topic.',
    c.deadLettersPublished,
  );
  counter('metering_ingest_lease_events_total', 'Lease events consumed.', c.leaseEvents);
  counter(
    'metering_ingest_batches_held_total',
    'Kafka batches held back while waiting for a lease event.',
    c.held,
  );
  counter(
    'metering_ingest_consumer_restarts_total',
    'Consumer restarts after a partition had lag and no progress (a stalled consumer).',
    c.consumerRestarts,
  );
  out.push(
    '# HELP metering_ingest_batch_seconds Time to apply one Kafka batch (one transaction).',
    '# TYPE metering_ingest_batch_seconds summary',
    `metering_ingest_batch_seconds_sum ${input.batchSeconds.sum}`,
    `metering_ingest_batch_seconds_count ${input.batchSeconds.count}`,
    '# HELP metering_ingest_events_per_second Usage events applied per second (last 10 s).',
    '# TYPE metering_ingest_events_per_second gauge',
    `metering_ingest_events_per_second ${input.eventsPerSecond.toFixed(1)}`,
    '# HELP metering_ingest_consumer_lag Messages not yet committed (high watermark − committed).',
    '# TYPE metering_ingest_consumer_lag gauge',
  );
  for (const l of input.lag) {
    out.push(
      `metering_ingest_consumer_lag{topic="${esc(l.topic)}",partition="${l.partition}"} ${l.lag}`,
    );
  }
  out.push(
    '# HELP metering_dead_letters Dead letters stored (every instance), by reason.',
    '# TYPE metering_dead_letters gauge',
  );
  for (const d of input.deadLettersByReason ?? []) {
    out.push(`metering_dead_letters{reason="${esc(d.reason)}"} ${d.count}`);
  }
  return out.join('\n') + '\n';
}
