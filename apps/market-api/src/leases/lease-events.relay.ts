import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { HEADER_EVENT_ID, HEADER_SCHEMA_VERSION, TOPICS, type LeaseEvent } from '@suanli/contracts';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../observability/metrics.js';
import {
  HEADER_CORRELATION_ID,
  HEADER_LEASE_CORRELATION_ID,
  splitCorrelation,
} from '../observability/correlation-context.js';

/** Rejects when `p` has not settled within `ms`; the timer never keeps the process alive. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Publishes `lease_events_outbox` rows to Kafka in id order, then marks them published. */
@Injectable()
export class LeaseEventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('lease-events');
  private producer: Producer | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private failing = false;
  readonly topic: string;

  /**
   * How long connecting or one send may take before the relay gives up on it. kafkajs retries
   * within a send (30 s request timeout, 5 retries); past this the pass is rolled back, the
   * producer replaced, and the rows sent again on a later pass.
   */
  sendTimeoutMs = 60_000;

  /** Makes the Kafka producer; tests replace it to inject failures. */
  createProducer: () => Producer = () =>
    new Kafka({
      clientId: `market-api-lease-events-${process.pid}`,
      brokers: this.config.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.topic = process.env.LEASE_TOPIC ?? TOPICS.lease;
  }

  onApplicationBootstrap(): void {
    if (process.env.LEASE_EVENTS_RELAY === 'off') return;
    const ms = Number(process.env.LEASE_EVENTS_RELAY_MS ?? '200');
    this.timer = setInterval(() => void this.kick(), ms > 0 ? ms : 200);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** Runs one relay pass (serialized with the periodic ones); resolves when it is done. */
  kick(): Promise<void> {
    this.running = this.running.then(() =>
      this.publishPending().then(
        () => {
          if (this.failing) this.log.log('lease events relay recovered');
          this.failing = false;
        },
        (err: unknown) => {
          if (!this.failing) this.log.warn(`lease events relay: ${String(err)}`);
          this.failing = true;
        },
      ),
    );
    return this.running;
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.createProducer();
    try {
      await withTimeout(producer.connect(), this.sendTimeoutMs, 'connecting to Kafka');
    } catch (e) {
      void producer.disconnect().catch(() => undefined);
      throw e;
    }
    this.producer = producer;
    return producer;
  }

  /**
   * After a failed or timed-out send the producer is replaced: kafkajs keeps an idempotent
   * producer's sequence numbers across a send whose outcome it does not know, and the broker may
   * then refuse every later send of that producer id (out of order sequence) or take a new batch
   * for a duplicate of the lost one. A new producer id starts clean; re-sending rows that did reach
   * Kafka is harmless (the ingest applies lease events idempotently, by `occurredAt`).
   */
  dropProducer(): void {
    const p = this.producer;
    this.producer = null;
    void p?.disconnect().catch(() => undefined);
  }

  /** Publishes every unpublished row; one relay at a time (advisory lock) keeps the order. */
  async publishPending(chunk = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.db.transaction(async (m) => {
        const [{ locked }] = await m.query<{ locked: boolean }[]>(
          `SELECT pg_try_advisory_xact_lock(hashtext('lease_events_outbox')) AS locked`,
        );
        if (!locked) return 0;
        const rows = await m.query<{ id: string; lease_id: string; payload: LeaseEvent }[]>(
          `SELECT id, lease_id, payload FROM lease_events_outbox
            WHERE published_at IS NULL ORDER BY id LIMIT $1`,
          [chunk],
        );
        if (rows.length === 0) return 0;
        const producer = await this.connected();
        const sent = producer.send({
          topic: this.topic,
          acks: -1,
          messages: rows.map((r) => {
            const { event, correlationId, leaseCorrelationId } = splitCorrelation(r.payload);
            return {
              key: r.lease_id,
              value: JSON.stringify(event),
              headers: {
                [HEADER_EVENT_ID]: r.payload.eventId,
                [HEADER_SCHEMA_VERSION]: '1',
                ...(correlationId ? { [HEADER_CORRELATION_ID]: correlationId } : {}),
                ...(leaseCorrelationId
                  ? { [HEADER_LEASE_CORRELATION_ID]: leaseCorrelationId }
                  : {}),
              },
            };
          }),
        });
        try {
          await withTimeout(sent, this.sendTimeoutMs, 'publishing lease events');
        } catch (e) {
          this.metrics.leaseEventsRelayed.inc({ outcome: 'failed' }, rows.length);
          this.dropProducer();
          throw e;
        }
        this.metrics.leaseEventsRelayed.inc({ outcome: 'published' }, rows.length);
        await m.query(
          'UPDATE lease_events_outbox SET published_at = now() WHERE id = ANY($1::bigint[])',
          [rows.map((r) => r.id)],
        );
        return rows.length;
      });
      total += n;
      if (n < chunk) return total;
    }
  }
}
