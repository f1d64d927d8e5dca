import { CompressionTypes, type Producer } from 'kafkajs';
import {
  HEADER_EVENT_ID,
  HEADER_SCHEMA_VERSION,
  TOPICS,
  USAGE_EVENT_TYPE,
  type UsageBatch,
  type UsageEvent,
} from '@suanli/contracts';
import { computeUnits } from '@suanli/units';
import { registerLz4Codec } from '../shared/lz4-codec.js';
import { batchHash, signBatch, type Jwk } from '../shared/signing.js';
import { ulid, ulidTime } from '../shared/ulid.js';
import { Spool, type SpooledBatch } from './spool.js';
import { loadState, saveState, type AgentState } from './state.js';
import type { UsageSample } from './types.js';

export interface MeteringAgentOptions {
  agentId: string;
  privateJwk: Jwk;
  /** A kafkajs producer created with `idempotent: true`. */
  producer: Producer;
  topic?: string;
  /** JSON file keeping the chain position and the acknowledged seq across restarts. */
  stateFile?: string;
  /**
   * The append-only spool of signed batches (default: the state file's name with `.spool`).
   * Without a state file the spool lives in memory only.
   */
  spoolFile?: string;
  /** Send attempts per batch before `sendBatch`/`drain` give up (the batch stays spooled). Default 8. */
  maxAttempts?: number;
  /** First retry delay in ms, doubled per attempt (capped at 5 s). Default 200. */
  retryDelayMs?: number;
  now?: () => Date;
  /** Told about spooled batches, acknowledged sends and failed attempts (the agent's metrics). */
  observer?: SendObserver;
}

/** Hooks for the agent's metrics (apps/metering/src/agent/metrics.ts). */
export interface SendObserver {
  /** One batch was signed and written to the spool. */
  spooled(): void;
  /** Kafka acknowledged `batches` batches holding `events` events. */
  sent(batches: number, events: number): void;
  /** A produce attempt failed; `willRetry` false when this call gives up (the batches stay). */
  failed(willRetry: boolean): void;
}

export interface SentBatch {
  batchId: string;
  seq: number;
  jws: string;
  events: UsageEvent[];
}

export interface AgentStats {
  /** Batches Kafka acknowledged since start. */
  sent: number;
  /** Events in those batches. */
  sentEvents: number;
  /** Signed batches in the spool not yet acknowledged. */
  spooled: number;
  /** Bytes of those batches' JWS. */
  spooledBytes: number;
  /** Age in seconds of the oldest unacknowledged batch (0 when none). */
  lagSeconds: number;
}

/** Largest produce request the agent builds from spooled batches (Kafka's default is 1 MB). */
const MAX_SEND_BYTES = 900_000;

/**
 * The metering agent's sending side: turns usage samples into CloudEvents, signs them as one
 * chained batch, appends it to the on-disk spool and sends the spool to Kafka in order. A batch,
 * once signed, is sent unchanged (same seq, same JWS) until Kafka acknowledges it (acks from all
 * in-sync replicas); a retry never mints a new seq, and new batches are signed and spooled even
 * while Kafka is unreachable.
 */
export class MeteringAgent {
  readonly agentId: string;
  private readonly topic: string;
  private readonly spool: Spool;
  private state: AgentState | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private sending: Promise<unknown> = Promise.resolve();
  private counters = { sent: 0, sentEvents: 0 };
  private readonly eventCounts = new Map<number, number>();

  constructor(private readonly options: MeteringAgentOptions) {
    registerLz4Codec();
    this.agentId = options.agentId;
    this.topic = options.topic ?? TOPICS.usage;
    const spoolFile =
      options.spoolFile ??
      (options.stateFile === undefined
        ? undefined
        : `${options.stateFile.replace(/\.json$/, '')}.spool`);
    this.spool = new Spool(spoolFile);
  }

  /** The chain position: the next seq, the `prev` it will carry and the acknowledged seq. */
  async chainState(): Promise<AgentState> {
    const { nextSeq, prev, ackedSeq } = await this.loadedState();
    return { nextSeq, prev, ackedSeq };
  }

  /** Sent, spooled and lag figures (for the periodic stats line). */
  async stats(): Promise<AgentStats> {
    const state = await this.loadedState();
    const unacked = await this.spool.unacked(state.ackedSeq);
    const now = (this.options.now?.() ?? new Date()).getTime();
    const oldest = unacked[0];
    return {
      ...this.counters,
      spooled: unacked.length,
      spooledBytes: unacked.reduce((n, e) => n + e.jws.length, 0),
      lagSeconds:
        oldest === undefined
          ? 0
          : Math.max(0, Math.round((now - (ulidTime(oldest.batchId) || now)) / 1000)),
    };
  }

  /**
   * Builds, signs and spools one batch with one event per sample, then sends the spool up to
   * and including it. Calls are serialized. When Kafka does not acknowledge it after
   * `maxAttempts`, this rejects; the batch stays spooled and is sent by a later call.
   */
  sendBatch(samples: UsageSample[]): Promise<SentBatch> {
    const run = this.queue.then(async () => {
      const batch = await this.doSpool(samples);
      await this.doDrain();
      return batch;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Signs and spools one batch without waiting for Kafka (the agent's loop drains separately). */
  spoolBatch(samples: UsageSample[]): Promise<SentBatch> {
    const run = this.queue.then(() => this.doSpool(samples));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends every spooled, unacknowledged batch in order; resolves with how many were sent. */
  drain(): Promise<number> {
    const run = this.queue.then(() => this.doDrain());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends what a failed send or a crash left in the spool (kept for compatibility). */
  async flushPending(): Promise<void> {
    await this.drain();
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

  /**
   * The state file and the spool, reconciled: the spool is written first, so a batch spooled
   * just before a crash (state not yet saved) moves the chain head forward, never re-minted.
   */
  private async loadedState(): Promise<AgentState> {
    if (this.state !== null) return this.state;
    const state = await loadState(this.options.stateFile);
    const spooled = await this.spool.load();
    if (state.pending && !spooled.some((e) => e.seq === state.pending?.seq)) {
      await this.spool.append(state.pending);
    }
    const last = await this.spool.last();
    if (last !== undefined && last.seq >= state.nextSeq) {
      state.nextSeq = last.seq + 1;
      state.prev = batchHash(last.jws);
    }
    state.pending = null;
    this.state = state;
    return state;
  }

  private async doSpool(samples: UsageSample[]): Promise<SentBatch> {
    if (samples.length === 0) throw new Error('sendBatch needs at least one sample');
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
    await this.spool.append({ seq: payload.seq, batchId, jws });
    state.nextSeq = payload.seq + 1;
    state.prev = batchHash(jws);
    await saveState(this.options.stateFile, state);
    this.eventCounts.set(payload.seq, events.length);
    this.options.observer?.spooled();
    return { batchId, seq: payload.seq, jws, events };
  }

  private async doDrain(): Promise<number> {
    const state = await this.loadedState();
    const todo = await this.spool.unacked(state.ackedSeq);
    let sent = 0;
    while (sent < todo.length) {
      const chunk: SpooledBatch[] = [];
      let bytes = 0;
      for (const e of todo.slice(sent)) {
        if (chunk.length > 0 && bytes + e.jws.length > MAX_SEND_BYTES) break;
        chunk.push(e);
        bytes += e.jws.length;
      }
      await this.deliver(chunk);
      sent += chunk.length;
      state.ackedSeq = chunk[chunk.length - 1].seq;
      await saveState(this.options.stateFile, state);
      this.counters.sent += chunk.length;
      let events = 0;
      for (const e of chunk) {
        events += this.eventCounts.get(e.seq) ?? 0;
        this.eventCounts.delete(e.seq);
      }
      this.counters.sentEvents += events;
      this.options.observer?.sent(chunk.length, events);
    }
    if (sent > 0) await this.spool.compact(state.ackedSeq);
    return sent;
  }

  private async deliver(batches: SpooledBatch[]): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    let delay = this.options.retryDelayMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.producer.send({
          topic: this.topic,
          acks: -1,
          // A batch's JWS (base64url of JSON) shrinks ≈ 6× with LZ4 (shared/lz4-codec.ts):
          // Kafka writes, replicates and serves a sixth of the bytes, for little CPU.
          compression: CompressionTypes.LZ4,
          messages: batches.map((b) => ({
            key: this.agentId,
            value: b.jws,
            headers: { [HEADER_EVENT_ID]: b.batchId, [HEADER_SCHEMA_VERSION]: '1' },
          })),
        });
        return;
      } catch (err) {
        this.options.observer?.failed(attempt < maxAttempts);
        if (attempt >= maxAttempts) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}
