// The API gateway on real HTTP: a real upstream service on loopback, the buyer's calls through
// the gateway with its lease token; the counted calls go through the agent's signed usage stream
// (real Kafka) into the real ingest and PostgreSQL, where they are `api.call` units.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { generateSigningKey } from '@suanli/crypto';
import { Decimal, toFixedHalfEven } from '@suanli/money';
import { minuteRowsSql } from '@suanli/units';
import { createTestDatabase, type TestDatabase } from '../../../../../test/support/db.js';
import { expectEventually } from '../../../../../test/support/eventually.js';
import { createTestTopics, kafkaBrokers } from '../../../../../test/support/kafka.js';
import { startIngest, type RunningIngest } from '../../ingest/ingest.js';
import { MeteringAgent } from '../agent.js';
import type { ActiveLease } from '../types.js';
import { ApiGateway } from './api-gateway.js';
import type { LeaseGrant } from './provisioner.js';

const egressGib = (bytes: number) =>
  toFixedHalfEven(new Decimal(bytes).div(new Decimal(2).pow(30)), 9);

let upstream: Server;
let upstreamUrl: string;
let gateway: ApiGateway;
let stateDir: string;
const seen: { headers: Record<string, unknown>; url: string }[] = [];

/** The seller's service: echoes, waits, or streams forever. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ headers: req.headers, url: req.url ?? '' });
    if (url.pathname.endsWith('/slow')) {
      setTimeout(() => res.end('slow done'), Number(url.searchParams.get('ms') ?? '500'));
    } else if (url.pathname.endsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => clearInterval(t));
    } else {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        res.end(JSON.stringify({ path: url.pathname, body }));
      });
    }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** A call with Node's fetch (undici): what a buyer's client does. */
async function call(path: string, token?: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${gateway.endpoint}${path}`, {
    ...init,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });
  return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
}

/** Starts a streaming call; resolves when it ends (cut or not), with what arrived. */
function streaming(token: string): Promise<{ complete: boolean; received: string }> & {
  started: Promise<void>;
} {
  let received = '';
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((r) => (onStart = r));
  const done = new Promise<{ complete: boolean; received: string }>((resolve) => {
    const req = request(`${gateway.endpoint}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      res.on('data', (c: Buffer) => {
        received += c.toString();
        onStart();
      });
      res.on('end', () => resolve({ complete: true, received }));
      res.on('error', () => resolve({ complete: false, received }));
      res.on('close', () => resolve({ complete: res.complete, received }));
    });
    req.on('error', () => resolve({ complete: false, received }));
    req.end();
  });
  return Object.assign(done, { started });
}

const api = (slots = 1, leaseId: string = randomUUID()): LeaseGrant => ({
  leaseId,
  form: 'API',
  slots,
  spec: { cpu: 1 },
});

async function grantToken(lease: LeaseGrant): Promise<string> {
  const access = await gateway.grant(lease);
  if (access.kind !== 'http') throw new Error('not http');
  return access.token;
}

beforeAll(async () => {
  upstream = await startUpstream();
  const a = upstream.address();
  upstreamUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/svc`;
  stateDir = await mkdtemp(join(tmpdir(), 'sl-gateway-'));
  gateway = new ApiGateway({ upstream: upstreamUrl, stateDir });
  await gateway.start();
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((r) => upstream?.close(r));
  await rm(stateDir, { recursive: true, force: true });
});

describe('ApiGateway (real upstream on loopback)', () => {
  it('probes the upstream; a dead upstream says so', async () => {
    expect(await gateway.probe()).toMatchObject({ ok: true, forms: ['API'] });
    const dead = new ApiGateway({ upstream: 'http://127.0.0.1:1/' });
    const probe = await dead.probe();
    expect(probe.ok).toBe(false);
    expect(probe.checks.find((c) => c.name === 'upstream')).toMatchObject({ ok: false });
    await dead.close();
  });

  it('passes a lease’s calls to the service without the token; refuses others; keeps only hashes', async () => {
    const lease = api();
    const access = await gateway.grant(lease);
    expect(access).toMatchObject({ kind: 'http', endpoint: gateway.endpoint, concurrency: 1 });
    if (access.kind !== 'http') throw new Error('not http');
    expect(access.token).toMatch(/^sl_[A-Za-z0-9_-]{43}$/);

    const r = await call('/echo?x=1', access.token, { method: 'POST', body: 'hello' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ path: '/svc/echo', body: 'hello' });
    expect(r.headers['x-upstream']).toBe('yes');
    const last = seen[seen.length - 1];
    expect(last.url).toBe('/svc/echo?x=1');
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers['x-suanli-lease-id']).toBe(lease.leaseId);

    expect((await call('/echo')).status).toBe(401);
    const lastChar = access.token.slice(-1);
    const altered = `${access.token.slice(0, -1)}${lastChar === 'A' ? 'B' : 'A'}`;
    expect((await call('/echo', altered)).status).toBe(401);
    const wrongScheme = await call('/echo', undefined, {
      headers: { authorization: `Basic ${access.token}` },
    });
    expect(wrongScheme.status).toBe(401);
    expect(JSON.parse(wrongScheme.body)).toEqual({
      error: { code: 'unauthenticated', message: 'a valid lease token is required' },
    });

    const stored = await readFile(join(stateDir, 'gateway-tokens.json'), 'utf8');
    expect(stored).not.toContain(access.token);
    expect(stored).not.toContain(access.token.slice(3));
    expect(JSON.parse(stored)).toContainEqual(
      expect.objectContaining({
        leaseId: lease.leaseId,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    );
    expect(gateway.meter.pending(lease.leaseId).calls).toBe(1);
    await gateway.revoke(lease.leaseId);
  });

  it('runs as many requests at once as the lease has slots, refuses more with 429', async () => {
    const lease = api(2);
    const token = await grantToken(lease);
    const slow = [call('/slow?ms=800', token), call('/slow?ms=800', token)];
    await expectEventually(() => expect(gateway.running(lease.leaseId)).toBe(2));
    const third = await call('/echo', token);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(JSON.parse(third.body).error.code).toBe('concurrency_limit');
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    expect((await call('/echo', token)).status).toBe(200);
    // 3 answered by the service; the refused one is not a call
    expect(gateway.meter.pending(lease.leaseId).calls).toBe(3);
    await gateway.revoke(lease.leaseId);
  });

  it('suspension cuts requests in flight and refuses at once; resume; revoke cuts and refuses', async () => {
    const lease = api(2);
    const token = await grantToken(lease);
    const s1 = streaming(token);
    await s1.started;
    await gateway.suspend(lease.leaseId);
    const cut = await s1;
    expect(cut.complete).toBe(false);
    expect(cut.received).toMatch(/^tick\n/);
    const refused = await call('/echo', token);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe('lease_suspended');
    expect(await gateway.list()).toContainEqual({ leaseId: lease.leaseId, state: 'suspended' });
    await gateway.suspend(lease.leaseId);

    await gateway.resume(lease.leaseId);
    await gateway.resume(lease.leaseId);
    expect((await call('/echo', token)).status).toBe(200);
    // the cut stream counts as a call, with the bytes that reached the buyer
    const { calls, bytes } = gateway.meter.pending(lease.leaseId);
    expect(calls).toBe(2);
    expect(bytes).toBeGreaterThanOrEqual(cut.received.length);

    const s2 = streaming(token);
    await s2.started;
    await gateway.revoke(lease.leaseId);
    expect((await s2).complete).toBe(false);
    expect((await call('/echo', token)).status).toBe(401);
    expect((await gateway.list()).map((l) => l.leaseId)).not.toContain(lease.leaseId);
    await gateway.revoke(lease.leaseId);
  });

  it('a repeated grant issues a new token and the old one stops working', async () => {
    const lease = api();
    const first = await grantToken(lease);
    const second = await grantToken(lease);
    expect(second).not.toBe(first);
    expect((await call('/echo', first)).status).toBe(401);
    expect((await call('/echo', second)).status).toBe(200);
    await gateway.revoke(lease.leaseId);
  });

  it('answers 502 when the service is down, and counts no call', async () => {
    const lease = api();
    const down = new ApiGateway({ upstream: 'http://127.0.0.1:1/' });
    await down.start();
    const access = await down.grant(lease);
    if (access.kind !== 'http') throw new Error('not http');
    const res = await fetch(`${down.endpoint}/x`, {
      headers: { authorization: `Bearer ${access.token}` },
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'upstream_unavailable',
    );
    expect(down.meter.pending(lease.leaseId).calls).toBe(0);
    await down.close();
  });

  it('keeps tokens and suspensions across a restart; a revoked token stays refused', async () => {
    const kept = api();
    const gone = api();
    const suspended = api();
    const keptToken = await grantToken(kept);
    const goneToken = await grantToken(gone);
    const suspendedToken = await grantToken(suspended);
    await gateway.revoke(gone.leaseId);
    await gateway.suspend(suspended.leaseId);
    await gateway.close();

    gateway = new ApiGateway({ upstream: upstreamUrl, stateDir });
    await gateway.start();
    expect((await call('/echo', keptToken)).status).toBe(200);
    expect((await call('/echo', goneToken)).status).toBe(401);
    expect((await call('/echo', suspendedToken)).status).toBe(403);
    await gateway.revoke(kept.leaseId);
    await gateway.revoke(suspended.leaseId);
  });
});

describe('gateway usage in the signed usage stream (real Kafka, ingest, PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let topics: Awaited<ReturnType<typeof createTestTopics>>;
  let producer: Producer;
  let ingest: RunningIngest;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    topics = await createTestTopics({
      'exchange.usage.v1': 1,
      'exchange.usage.dlq.v1': 1,
      'exchange.lease.v1': 1,
    });
    const kafka = new Kafka({
      clientId: 'gw-int',
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    process.env.INGEST_QUIET = '1';
    ingest = await startIngest({
      databaseUrl: db.url,
      kafkaBrokers: kafkaBrokers(),
      usageTopic: topics.topics['exchange.usage.v1'],
      dlqTopic: topics.topics['exchange.usage.dlq.v1'],
      leaseTopic: topics.topics['exchange.lease.v1'],
      groupId: `gw-ingest-${randomUUID()}`,
      port: 0,
      lateGraceHours: 24,
    });
  }, 120_000);

  afterAll(async () => {
    await ingest?.stop();
    await producer?.disconnect();
    await pool?.end();
    await topics?.drop();
    await db?.drop();
  }, 60_000);

  it('meters each answered call as one api.call and the bytes as egress, signed and applied', async () => {
    const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C12.M192.G1-H200:000137:U';
    const org = randomUUID();
    const resourceId = randomUUID();
    await pool.query(
      `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Seller', '{seller}', 'I')`,
      [org],
    );
    await pool.query(
      `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                              country, subdivision, site, spec, state)
       VALUES ($1, '86.R03.E00042/000137', $2, 'API box', $3, '86.R03.E00042', '000137', 'I', 'AI', 'API',
               'CN', 'GZ', 'GA1', '{"cpu":1,"netGbps":1}', 'running')`,
      [resourceId, CRI, org],
    );
    const key = await generateSigningKey();
    const agentId = `86.R03.E00042/000137#${randomUUID().slice(0, 8)}`;
    await pool.query(
      'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
      [agentId, resourceId, key.kid, JSON.stringify(key.publicJwk)],
    );
    const now = Date.now();
    const lease: ActiveLease = {
      leaseId: randomUUID(),
      cri: CRI,
      class: 'AI',
      spec: { cpu: 1, netGbps: 1 },
      slots: 4,
      startsAt: new Date(now - 3600_000).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      catalogVersion: '2026.1',
    };
    await pool.query(
      `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                    starts_at, ends_at, invoiced_at, catalog_version, event_at, event_id)
       VALUES ($1, $2, $3, 'active', $4, 'AI', $5, 4, $6, $7, NULL, '2026.1', $6, $8)`,
      [
        lease.leaseId,
        resourceId,
        org,
        CRI,
        JSON.stringify(lease.spec),
        lease.startsAt,
        lease.endsAt,
        randomUUID(),
      ],
    );

    const token = await grantToken(api(4, lease.leaseId));
    let bytes = 0;
    for (let i = 0; i < 7; i++) {
      const r = await call(`/echo/${i}`, token, { method: 'POST', body: 'x'.repeat(i * 100) });
      expect(r.status).toBe(200);
      bytes += Buffer.byteLength(r.body);
    }
    expect((await call('/echo', 'sl_wrong')).status).toBe(401); // not a call of the lease
    expect(gateway.meter.pending(lease.leaseId)).toEqual({ calls: 7, bytes });

    // the agent's window: the whole seconds up to now (all calls are before its end)
    const end = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await new Promise((r) => setTimeout(r, end.getTime() - Date.now() + 5));
    const window = { start: new Date(end.getTime() - 60_000), end };
    const usage = await gateway.meter.sample(lease, window);
    expect(usage).toEqual({ duration_s: '60', api_calls: '7', egress_bytes: String(bytes) });
    expect(gateway.meter.pending(lease.leaseId)).toEqual({ calls: 0, bytes: 0 });
    // a resource without network capacity: calls only (the ingest would refuse its egress)
    const noNet = { ...lease, leaseId: randomUUID(), spec: { cpu: 1 } };
    gateway.meter.record(noNet.leaseId, 2, 500, end.getTime() - 2000);
    expect(await gateway.meter.sample(noNet, window)).toEqual({ duration_s: '60', api_calls: '2' });

    const agent = new MeteringAgent({
      agentId,
      privateJwk: key.privateJwk,
      producer,
      topic: topics.topics['exchange.usage.v1'],
    });
    const sent = await agent.sendBatch([{ lease, window, usage }]);
    expect(sent.events[0].data.units).toEqual({
      'api.call': '7.000000000',
      'net.egress_gib': egressGib(bytes),
    });
    await expectEventually(
      async () => {
        const dl = await pool.query('SELECT reason, detail FROM usage_dead_letters');
        expect(dl.rows).toEqual([]);
        const { rows } = await pool.query<{ unit: string; quantity: string }>(
          `SELECT unit, sum(quantity)::text AS quantity FROM ${minuteRowsSql()} u
            WHERE lease_id = $1 GROUP BY unit ORDER BY unit`,
          [lease.leaseId],
        );
        expect(rows).toEqual([
          { unit: 'api.call', quantity: '7.000000000' },
          { unit: 'net.egress_gib', quantity: egressGib(bytes) },
        ]);
      },
      { timeoutMs: 30_000 },
    );
    await gateway.revoke(lease.leaseId);
  }, 90_000);
});
