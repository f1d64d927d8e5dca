import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import {
  HEADER_EVENT_ID,
  HEADER_SCHEMA_VERSION,
  HEADER_USAGE_AUTH,
  TOPICS,
  type UnsignedUsageEnvelope,
} from '@suanli/contracts';
import { AppConfig } from '../config/app-config.js';
import { correlationHeader } from '../observability/correlation-context.js';

/** Produces unsigned usage envelopes (HTTP ingest) to `exchange.usage.v1`. */
@Injectable()
export class UsageProducer implements OnApplicationShutdown {
  private producer: Promise<Producer> | null = null;
  readonly topic = process.env.USAGE_TOPIC ?? TOPICS.usage;

  constructor(private readonly config: AppConfig) {}

  private connected(): Promise<Producer> {
    this.producer ??= (async () => {
      const kafka = new Kafka({
        clientId: `market-api-usage-${process.pid}`,
        brokers: this.config.kafkaBrokers,
        logLevel: logLevel.NOTHING,
      });
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await p.connect();
      return p;
    })().catch((err: unknown) => {
      this.producer = null;
      throw err;
    });
    return this.producer;
  }

  /** Sends one envelope (key = the organization) and resolves once all in-sync replicas have it. */
  async send(envelope: UnsignedUsageEnvelope, eventId: string): Promise<void> {
    const producer = await this.connected();
    await producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        {
          key: envelope.org,
          value: JSON.stringify(envelope),
          headers: {
            [HEADER_EVENT_ID]: eventId,
            [HEADER_SCHEMA_VERSION]: '1',
            [HEADER_USAGE_AUTH]: 'unsigned',
            ...correlationHeader(),
          },
        },
      ],
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await (await p.catch(() => null))?.disconnect().catch(() => undefined);
  }
}
