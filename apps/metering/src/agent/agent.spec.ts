import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Producer, ProducerRecord } from 'kafkajs';
import { usageBatchSchema, ZERO_HASH } from '@suanli/contracts';
import { generateSigningKey, sha256Hex, verifyJws, type SigningKey } from '@suanli/crypto';
import { MeteringAgent } from './agent.js';
import type { UsageSample } from './types.js';

const AGENT = '86.R03.E00042/000137#a1';
const LEASE = '22222222-2222-4222-8222-222222222222';

function fakeProducer(failures = 0): {
  producer: Producer;
  sent: ProducerRecord[];
  attempts: () => number;
} {
  const sent: ProducerRecord[] = [];
  let attempts = 0;
  let left = failures;
  const producer = {
    send: async (record: ProducerRecord) => {
      attempts++;
      if (left > 0) {
        left--;
        throw new Error('broker not available');
      }
      sent.push(record);
      return [];
    },
  } as unknown as Producer;
  return { producer, sent, attempts: () => attempts };
}

const sample = (minute: number): UsageSample => ({
  lease: { leaseId: LEASE, cri: 'CRI1:x', class: 'AI', catalogVersion: '2026.1' },
  window: {
    start: new Date(Date.UTC(2026, 10, 28, 8, minute)),
    end: new Date(Date.UTC(2026, 10, 28, 8, minute + 1)),
  },
  usage: { duration_s: '60', cpu_core_s: '5760', mem_gib_s: '92160', acc_s: { H200: '480' } },
});

let key: SigningKey;
let dir: string;
beforeAll(async () => {
  key = await generateSigningKey();
  dir = await mkdtemp(join(tmpdir(), 'agent-spec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('MeteringAgent', () => {
  it('sends one signed, schema-valid batch keyed by the agent with the headers', async () => {
    const { producer, sent } = fakeProducer();
    const agent = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      topic: 't',
    });
    const batch = await agent.sendBatch([sample(0), sample(1)]);
    expect(sent).toHaveLength(1);
    const msg = sent[0].messages[0];
    expect(sent[0].topic).toBe('t');
    expect(msg.key).toBe(AGENT);
    expect(msg.headers).toEqual({ 'event-id': batch.batchId, 'schema-version': '1' });
    const { payload } = await verifyJws(msg.value as string, [key.publicJwk]);
    const parsed = usageBatchSchema.parse(payload);
    expect(parsed).toMatchObject({ schemaVersion: 1, agent: AGENT, seq: 0, prev: ZERO_HASH });
    expect(parsed.events).toHaveLength(2);
    expect(parsed.events[0]).toMatchObject({
      specversion: '1.0',
      source: AGENT,
      subject: LEASE,
      type: 'exchange.usage.v1',
      data: {
        window: { start: '2026-11-28T08:00:00.000Z', end: '2026-11-28T08:01:00.000Z' },
        units: { 'scu.ai': '0.131866667', 'scu.gen': '1.600000000', 'mem.gib_h': '25.600000000' },
        catalog: '2026.1',
      },
    });
    expect(parsed.events[0].id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(parsed.events[0].id).not.toBe(parsed.events[1].id);
  });

  it('chains batches: seq increments and prev is the SHA-256 of the previous JWS', async () => {
    const { producer } = fakeProducer();
    const agent = new MeteringAgent({ agentId: AGENT, privateJwk: key.privateJwk, producer });
    const a = await agent.sendBatch([sample(0)]);
    const b = await agent.sendBatch([sample(1)]);
    const pb = usageBatchSchema.parse((await verifyJws(b.jws, [key.publicJwk])).payload);
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(pb.prev).toBe(sha256Hex(a.jws));
  });

  it('retries a failed send with the same JWS, never a new seq', async () => {
    const { producer, sent, attempts } = fakeProducer(2);
    const agent = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      retryDelayMs: 1,
    });
    const a = await agent.sendBatch([sample(0)]);
    expect(attempts()).toBe(3);
    expect(sent).toHaveLength(1);
    expect(sent[0].messages[0].value).toBe(a.jws);
    expect((await agent.chainState()).nextSeq).toBe(1);
  });

  it('spools a batch that could not be sent and resends it first, unchanged, after a restart', async () => {
    const stateFile = join(dir, 'pending.json');
    const { producer, sent } = fakeProducer(3);
    const agent = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
      maxAttempts: 2,
      retryDelayMs: 1,
    });
    await expect(agent.sendBatch([sample(0)])).rejects.toThrow('broker not available');
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as {
      nextSeq: number;
      ackedSeq: number;
    };
    expect(saved).toMatchObject({ nextSeq: 1, ackedSeq: -1 });
    const spooled = (await readFile(join(dir, 'pending.spool'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; jws: string });
    expect(spooled.map((e) => e.seq)).toEqual([0]);
    // A restarted agent (new instance, same files) sends the spooled batch before seq 1.
    const restarted = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
      retryDelayMs: 1,
    });
    const b = await restarted.sendBatch([sample(1)]);
    expect(b.seq).toBe(1);
    expect(sent.flatMap((r) => r.messages.map((m) => m.value))).toEqual([spooled[0].jws, b.jws]);
    expect(sent.every((r) => r.acks === -1)).toBe(true);
    const pb = usageBatchSchema.parse((await verifyJws(b.jws, [key.publicJwk])).payload);
    expect(pb.prev).toBe(sha256Hex(spooled[0].jws));
  });

  it('keeps signing and spooling while Kafka is down, then sends everything in order', async () => {
    const stateFile = join(dir, 'outage.json');
    let down = true;
    const sent: ProducerRecord[] = [];
    const producer = {
      send: async (record: ProducerRecord) => {
        if (down) throw new Error('broker not available');
        sent.push(record);
        return [];
      },
    } as unknown as Producer;
    const opts = { agentId: AGENT, privateJwk: key.privateJwk, producer, stateFile };
    const agent = new MeteringAgent({ ...opts, maxAttempts: 1, retryDelayMs: 1 });
    const spooled: string[] = [];
    for (let i = 0; i < 4; i++) spooled.push((await agent.spoolBatch([sample(i)])).jws);
    await expect(agent.drain()).rejects.toThrow('broker not available');
    expect((await agent.stats()).spooled).toBe(4);
    // The process restarts during the outage and spools one more window.
    const restarted = new MeteringAgent({ ...opts, retryDelayMs: 1 });
    spooled.push((await restarted.spoolBatch([sample(4)])).jws);
    down = false;
    expect(await restarted.drain()).toBe(5);
    expect(sent.flatMap((r) => r.messages.map((m) => m.value))).toEqual(spooled);
    expect((await restarted.stats()).spooled).toBe(0);
    expect(await restarted.chainState()).toEqual({
      nextSeq: 5,
      prev: sha256Hex(spooled[4]),
      ackedSeq: 4,
    });
    // Nothing is sent twice.
    expect(await restarted.drain()).toBe(0);
  });

  it('recovers the chain from the spool when it crashed before saving its state', async () => {
    const stateFile = join(dir, 'crash.json');
    const { producer } = fakeProducer();
    const agent = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
    });
    await agent.sendBatch([sample(0)]);
    const before = await readFile(stateFile, 'utf8');
    const b1 = await agent.spoolBatch([sample(1)]);
    // Simulate the crash: the state file as it was before seq 1 was spooled, a torn line after.
    await writeFile(stateFile, before);
    await appendFile(join(dir, 'crash.spool'), '{"seq":2,"batchId":"x","jw');
    const restarted = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
    });
    expect(await restarted.chainState()).toMatchObject({ nextSeq: 2, prev: sha256Hex(b1.jws) });
  });

  it('continues the chain from its state file after a restart', async () => {
    const stateFile = join(dir, 'restart.json');
    const { producer } = fakeProducer();
    const first = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
    });
    await first.sendBatch([sample(0)]);
    const last = await first.sendBatch([sample(1)]);
    const second = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
    });
    expect(await second.chainState()).toEqual({
      nextSeq: 2,
      prev: sha256Hex(last.jws),
      ackedSeq: 1,
    });
    expect((await second.sendBatch([sample(2)])).seq).toBe(2);
  });

  it('reads a state file with a pending batch (before the spool) and sends that batch first', async () => {
    const stateFile = join(dir, 'legacy.json');
    const { producer, sent } = fakeProducer();
    const a = new MeteringAgent({ agentId: AGENT, privateJwk: key.privateJwk, producer });
    const pending = await a.spoolBatch([sample(0)]);
    await writeFile(
      stateFile,
      JSON.stringify({
        nextSeq: 1,
        prev: sha256Hex(pending.jws),
        pending: { batchId: pending.batchId, seq: 0, jws: pending.jws },
      }),
    );
    const agent = new MeteringAgent({
      agentId: AGENT,
      privateJwk: key.privateJwk,
      producer,
      stateFile,
    });
    const b = await agent.sendBatch([sample(1)]);
    expect(sent.flatMap((r) => r.messages.map((m) => m.value))).toEqual([pending.jws, b.jws]);
  });
});
