import { Kafka, logLevel } from 'kafkajs';
import {
  TOPICS,
  type InvoiceView,
  type OfferView,
  type OrderView,
  type ResourceView,
  type SessionView,
  type WalletView,
} from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { MeteringAgent } from '../../apps/metering/src/agent/agent.js';
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';
import { startIngest } from '../../apps/metering/src/ingest/ingest.js';
import { expectEventually } from './eventually.js';
import { apiClient } from './http.js';
import { createTestTopics, kafkaBrokers } from './kafka.js';
import type { TestMarketApi } from './market-api.js';

const HOUR = 3600_000;

export interface SkeletonResult {
  buyer: { email: string; password: string; token: string; orgId: string };
  seller: { email: string; password: string; token: string; orgId: string };
  operatorToken: string;
  resource: ResourceView;
  offerId: string;
  offerTitle: string;
  leaseId: string;
  invoiceId: string;
  invoiceNumber: string;
  invoiceTotal: string;
  currency: string;
  /** JWS strings the agent sent (the duplicate re-send included once). */
  batchesSent: number;
}

async function signUp(url: string, who: string, roles: ('buyer' | 'seller')[]) {
  const email = `${who}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@suanli.test`;
  const password = `${who}-password-123`;
  const r = await apiClient(url).post<SessionView>('/v1/auth/signup', {
    email,
    password,
    displayName: who,
    organization: { name: `${who} org`, roles, industry: 'I' },
  });
  if (r.status !== 201) throw new Error(`signup ${who}: ${r.status} ${JSON.stringify(r.body)}`);
  return { email, password, token: r.body.accessToken, orgId: r.body.organization.id };
}

function check<T>(r: { status: number; body: T }, expected: number, what: string): T {
  if (r.status !== expected)
    throw new Error(`${what}: expected ${expected}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The walking skeleton, on the real API, PostgreSQL and Kafka: a seller registers an H200
 * node and publishes a fixed-price offer, a funded buyer orders one slot for one hour, the
 * metering agent streams signed usage (one batch delivered twice), the ingest aggregates it,
 * settlement rates the hour and the lease's invoice is issued.
 *
 * Prices: 5.00 CNY per slot-hour + 12.00 CNY per scu.ai. Usage: sixty one-minute windows of
 * 180 H200-seconds each = 60 × 0.04945 = 2.967 scu.ai → lines 5.00 + 35.60 (35.604 rounded
 * half-even) = 40.60 gross, fee 2.03 (5 %), seller net 38.57.
 */
export async function runSkeletonScenario(api: TestMarketApi): Promise<SkeletonResult> {
  const t0 = api.clock.now();
  const operatorToken = await api.operatorToken();
  const seller = await signUp(api.url, 'seller', ['seller']);
  const buyer = await signUp(api.url, 'buyer', ['buyer']);
  const asSeller = apiClient(api.url, seller.token);
  const asBuyer = apiClient(api.url, buyer.token);
  const asOperator = apiClient(api.url, operatorToken);

  const resource = check(
    await asSeller.post<ResourceView>('/v1/resources', {
      name: 'Guangzhou H200 node 1',
      class: 'AI',
      form: 'CTR',
      location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
      spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
      capacity: 2,
    }),
    201,
    'register resource',
  );

  const key = await generateSigningKey();
  const agent = check(
    await asSeller.post<{ id: string }>(`/v1/resources/${resource.id}/agents`, {
      publicJwk: key.publicJwk,
    }),
    201,
    'enrol agent',
  );
  // The agent reports in: the resource becomes `connected`, so it can be listed.
  const agentApi = apiClient(
    api.url,
    await agentToken(agent.id, { ...key.privateJwk, kid: key.kid }),
  );
  check(await agentApi.get('/v1/agents/me/leases'), 200, 'agent reports in');
  // …and beats: an online resource can be ordered (docs/decisions.md, "Live status in the market").
  check(await agentApi.post('/v1/agents/me/heartbeats', { status: 'online' }), 202, 'heartbeat');

  const offerTitle = `H200 ×8 container, Guangzhou ${Date.now()}`;
  const offer = check(
    await asSeller.post<OfferView>('/v1/offers', {
      resourceId: resource.id,
      title: offerTitle,
      currency: 'CNY',
      capacity: 2,
      pricingModel: 'fixed',
      prices: [
        { unit: 'slot_h', price: '5.00' },
        { unit: 'scu.ai', price: '12.00' },
      ],
      minHours: 1,
      maxHours: 24,
    }),
    201,
    'publish offer',
  );

  check(
    await asOperator.postIdempotent(`/v1/admin/wallets/${buyer.orgId}/credits`, {
      currency: 'CNY',
      amount: '1000.00',
      memo: 'demo funding',
    }),
    201,
    'fund wallet',
  );

  const order = check(
    await asBuyer.postIdempotent<OrderView>('/v1/orders', {
      offerId: offer.id,
      slots: 1,
      hours: 1,
    }),
    201,
    'place order',
  );
  const leaseId = order.lease.id;

  // Metering: the real agent signs batches onto this test's own topic; the real ingest applies them.
  const batchesSent = await meterLease(api, {
    agentId: agent.id,
    key,
    lease: {
      leaseId,
      cri: resource.cri,
      class: 'AI',
      catalogVersion: order.lease.catalogVersion,
    },
    start: t0,
    accelerator: 'H200',
    buyerToken: buyer.token,
    expectScuAi: '2.967000000',
  });

  // The hour is over: settlement rates it and, the lease having ended, issues the invoice.
  api.clock.set(new Date(t0.getTime() + HOUR));
  check(await asOperator.post('/v1/admin/settlement/run', {}), 200, 'settlement run');
  // The agent still beats once a minute: the resource stays online, so it can be ordered again.
  check(
    await apiClient(api.url, await agentToken(agent.id, { ...key.privateJwk, kid: key.kid })).post(
      '/v1/agents/me/heartbeats',
      { status: 'online' },
    ),
    202,
    'heartbeat after the hour',
  );
  const invoices = check(
    await asBuyer.get<{ items: InvoiceView[] }>('/v1/invoices'),
    200,
    'invoices',
  );
  const invoice = invoices.items.find((i) => i.leaseId === leaseId);
  if (!invoice)
    throw new Error(`no invoice for lease ${leaseId}: ${JSON.stringify(invoices.items)}`);
  check(await asBuyer.get<WalletView>('/v1/wallet'), 200, 'wallet');

  return {
    buyer,
    seller,
    operatorToken,
    resource,
    offerId: offer.id,
    offerTitle,
    leaseId,
    invoiceId: invoice.id,
    invoiceNumber: invoice.number,
    invoiceTotal: invoice.total,
    currency: invoice.currency,
    batchesSent,
  };
}

/**
 * Meters one hour of a lease through the real path: the metering agent signs three batches of
 * twenty one-minute windows (180 accelerator-seconds each) onto a topic of this test's own, one
 * batch is delivered twice (it must count once), and the real ingest applies them. Resolves
 * with the number of batches sent once the lease's usage shows `expectScuAi` scu.ai.
 */
export async function meterLease(
  api: TestMarketApi,
  opts: {
    agentId: string;
    /** The agent's signing key (e.g. the JWK from the enrolment command, which carries `kid`). */
    key: Pick<Awaited<ReturnType<typeof generateSigningKey>>, 'kid' | 'privateJwk'>;
    lease: { leaseId: string; cri: string; class: 'AI'; catalogVersion: string };
    /** The first window's start (the lease's start). */
    start: Date;
    accelerator: string;
    /** Whose token reads `/v1/leases/:id/usage` while waiting. */
    buyerToken: string;
    expectScuAi: string;
  },
): Promise<number> {
  const { leaseId } = opts.lease;
  const asBuyer = apiClient(api.url, opts.buyerToken);
  const { topics, drop } = await createTestTopics({
    'exchange.usage.v1': 3,
    'exchange.usage.dlq.v1': 1,
  });
  const kafka = new Kafka({
    clientId: 'scenario',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const ingest = await startIngest({
    databaseUrl: api.databaseUrl,
    kafkaBrokers: kafkaBrokers(),
    usageTopic: topics['exchange.usage.v1'],
    dlqTopic: topics['exchange.usage.dlq.v1'],
    // The market API publishes its lease events to the shared topic; the ingest learns the
    // lease from there (and holds usage that arrives first until it has).
    leaseTopic: TOPICS.lease,
    leaseWaitMs: 30_000,
    groupId: `scenario-${leaseId}`,
    port: 0,
    lateGraceHours: 24,
  });
  let batchesSent = 0;
  try {
    const meter = new MeteringAgent({
      agentId: opts.agentId,
      privateJwk: { ...opts.key.privateJwk, kid: opts.key.kid },
      producer,
      topic: topics['exchange.usage.v1'],
      now: () => api.clock.now(),
    });
    let last;
    // Three batches of twenty one-minute windows: usage in every minute of the hour also
    // makes the resource 100 % available, so no SLA credit applies.
    for (let i = 0; i < 3; i++) {
      const samples = Array.from({ length: 20 }, (_, j) => {
        const start = new Date(opts.start.getTime() + (i * 20 + j) * 60_000);
        return {
          lease: opts.lease,
          window: { start, end: new Date(start.getTime() + 60_000) },
          usage: { duration_s: '60', acc_s: { [opts.accelerator]: '180' } },
        };
      });
      last = await meter.sendBatch(samples);
      batchesSent++;
    }
    // Kafka redelivery / agent retry: the very same signed batch again must count once.
    await producer.send({
      topic: topics['exchange.usage.v1'],
      messages: [{ key: opts.agentId, value: last!.jws }],
    });
    batchesSent++;

    await expectEventually(async () => {
      const usage = check(
        await asBuyer.get<{ items: { unit: string; quantity: string }[] }>(
          `/v1/leases/${leaseId}/usage`,
        ),
        200,
        'usage',
      );
      const scu = usage.items.filter((u) => u.unit === 'scu.ai').map((u) => u.quantity);
      if (scu.length !== 1 || scu[0] !== opts.expectScuAi)
        throw new Error(`scu.ai so far: ${JSON.stringify(scu)}`);
    });
  } finally {
    await ingest.stop();
    await producer.disconnect();
    await drop();
  }
  return batchesSent;
}
