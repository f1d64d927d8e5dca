import type { Producer } from 'kafkajs';
import {
  HEADER_EVENT_ID,
  HEADER_SCHEMA_VERSION,
  TOPICS,
  USAGE_EVENT_TYPE,
  type UsageBatch,
  type UsageEvent,
} from '@suanli/contracts';
import { computeUnits } from '@suanli/units';
import { batchHash, signBatch, type Jwk } from '../shared/signing.js';
import { ulid } from '../shared/ulid.js';
import { loadState, saveState, type AgentState } from './state.js';
import type { UsageSample } from './types.js';

export interface MeteringAgentOptions {
  agentId: string;
  privateJwk: Jwk;
  /** A kafkajs producer created with `idempotent: true`. */
  producer: Producer;
  topic?: string;
  /** JSON file keeping seq/prev (and an unsent batch) across restarts. */
  stateFile?: string;
  /** Send attempts per batch before `sendBatch` gives up (the batch stays pending). Default 8. */
  maxAttempts?: number;
  /** First retry delay in ms, doubled per attempt (capped at 5 s). Default 200. */
  retryDelayMs?: number;
  now?: () => Date;
}

export interface SentBatch {
  batchId: string;
  seq: number;
  jws: string;
  events: UsageEvent[];
}

/**
 * The metering agent's sending side: turns usage samples into CloudEvents, signs them as one
 * chained batch and sends it to Kafka. A batch, once signed, is persisted as pending and resent
 * unchanged (same seq, same JWS) until Kafka acknowledges it: a retry never mints a new seq.
 */
export class MeteringAgent {
  readonly agentId: string;
  private readonly topic: string;
  private state: AgentState | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MeteringAgentOptions) {
    this.agentId = options.agentId;
    this.topic = options.topic ?? TOPICS.usage;
  }

  /** The chain position: the next seq and the `prev` it will carry. */
  async chainState(): Promise<AgentState> {
    return { ...(await this.loadedState()) };
  }

  /** Builds, signs and sends one batch with one event per sample. Calls are serialized. */
  sendBatch(samples: UsageSample[]): Promise<SentBatch> {
    const run = this.queue.then(() => this.doSend(samples));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resends a batch left pending by a failed send or a crash; no-op when there is none. */
  flushPending(): Promise<void> {
    const run = this.queue.then(() => this.doFlush());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Builds the CloudEvent of one sample (units from the lease's pinned catalog and class). */
  buildEvent(sample: UsageSample, time: Date): UsageEvent {
    const { lease, window, usage } = sample;
    const units = computeUnits(usage, {
      catalog: lease.catalogVersion,
      class: lease.class,
      ...(lease.cpuModel !== undefined ? { cpuModel: lease.cpuModel } : {}),
    });
    return {
      specversion: '1.0',
      id: ulid(time.getTime()),
      source: this.agentId,
      type: USAGE_EVENT_TYPE,
      subject: lease.leaseId,
      time: time.toISOString(),
      datacontenttype: 'application/json',
      data: {
        cri: lease.cri,
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
        usage,
        units: units as Record<string, string>,
        catalog: lease.catalogVersion,
      },
    };
  }

  private async loadedState(): Promise<AgentState> {
    if (this.state === null) this.state = await loadState(this.options.stateFile);
    return this.state;
  }

  private async doFlush(): Promise<void> {
    const state = await this.loadedState();
    if (state.pending === null) return;
    await this.deliver(state.pending.batchId, state.pending.jws);
    state.pending = null;
    await saveState(this.options.stateFile, state);
  }

  private async doSend(samples: UsageSample[]): Promise<SentBatch> {
    if (samples.length === 0) throw new Error('sendBatch needs at least one sample');
    await this.doFlush();
    const state = await this.loadedState();
    const now = this.options.now?.() ?? new Date();
    const events = samples.map((s) => this.buildEvent(s, now));
    const batchId = ulid(now.getTime());
    const payload: UsageBatch = {
      schemaVersion: 1,
      batchId,
      agent: this.agentId,
      seq: state.nextSeq,
      prev: state.prev,
      events,
    };
    const jws = await signBatch(payload, this.options.privateJwk);
    // Commit to this batch before sending: after a crash it is resent, never re-minted.
    const next: AgentState = {
      nextSeq: state.nextSeq + 1,
      prev: batchHash(jws),
      pending: { batchId, seq: payload.seq, jws },
    };
    await saveState(this.options.stateFile, next);
    this.state = next;
    await this.deliver(batchId, jws);
    next.pending = null;
    await saveState(this.options.stateFile, next);
    return { batchId, seq: payload.seq, jws, events };
  }

  private async deliver(batchId: string, jws: string): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    let delay = this.options.retryDelayMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.producer.send({
          topic: this.topic,
          messages: [
            {
              key: this.agentId,
              value: jws,
              headers: { [HEADER_EVENT_ID]: batchId, [HEADER_SCHEMA_VERSION]: '1' },
            },
          ],
        });
        return;
      } catch (err) {
        if (attempt >= maxAttempts) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}
