// Delivery end to end on real components (docs/delivery.md): the real market API and
// PostgreSQL, the agent's control loop over its enrolment key (HTTP long-poll, reports) with the
// real SSH provisioner, a real sshd and the real `ssh` client. A buyer adds a key, orders a VM
// lease, logs in; its wallet runs dry and SSH is refused; a top-up lets it back in; the end
// removes the account. Then an API lease through the agent's gateway: the buyer's token reaches
// the seller's service, the calls go through the signed usage stream (real Kafka, the ingest)
// onto the invoice, and the end refuses the token.
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  InvoiceView,
  LeaseAccessView,
  LeaseDeliveryEventView,
  LeaseView,
  OrderView,
} from '@suanli/contracts';
import {
  startAgentDelivery,
  type AgentDelivery,
} from '../../apps/metering/src/agent/delivery/setup.js';
import { FixedClock } from '../../apps/market-api/src/common/clock.js';
import { MeteringAgent } from '../../apps/metering/src/agent/agent.js';
import { fetchActiveLeases } from '../../apps/metering/src/agent/lease-client.js';
import { startSshd, type RunningSshd } from '../../tools/dev/sshd.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../support/actors.js';
import { buyerKey, ROOT, runId, sshRun } from '../support/delivery.js';
import { expectEventually } from '../support/eventually.js';
import { apiClient } from '../support/http.js';
import { minuteRowsSql } from '@suanli/units';
import { kafkaBrokers } from '../support/kafka.js';
import type { TestMarketApi } from '../support/market-api.js';
import { startUsageStack, type UsageStack } from '../support/usage-stack.js';
import { Kafka, logLevel, type Producer } from 'kafkajs';

jest.setTimeout(180_000);

const RUN = runId();
const MINUTE = 60_000;
const SOON = { timeoutMs: 60_000, intervalMs: 200 };

/** Orders `slots` × `hours` of the offer; the new lease's id. */
async function orderLease(
  client: ReturnType<typeof apiClient>,
  offerId: string,
  slots: number,
  hours: number,
): Promise<string> {
  const order = await client.postIdempotent<OrderView>('/v1/orders', { offerId, slots, hours });
  expect(order.status).toBe(201);
  return order.body.lease.id;
}

/** The real `suanli` CLI as a child process (asynchronous: the API answers from this process). */
function suanli(args: string[], token: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'tools', 'cli', 'suanli.mjs'), ...args],
      { env: { ...process.env, SUANLI_TOKEN: token }, timeout: 60_000 },
      (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    );
  });
}

describe('delivery end to end (real API, ingest, Kafka, agent loop, sshd, ssh client)', () => {
  let stack: UsageStack;
  let api: TestMarketApi;
  let producer: Producer;
  let upstream: Server;
  const agents: AgentDelivery[] = [];
  let sshd: RunningSshd;
  const clientDir = mkdtempSync(join(tmpdir(), 'sl-ssh-client-'));
  const sshdDir = join(ROOT, '.local', 'sshd', `e2e-${RUN}`);

  beforeAll(async () => {
    const clock = new FixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    [stack, sshd] = await Promise.all([
      startUsageStack('delivery-e2e', { clock }),
      startSshd({ dir: sshdDir }),
    ]);
    api = stack.api;
    producer = new Kafka({
      clientId: 'delivery-e2e',
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
    }).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // the seller's service behind the gateway
    upstream = createServer((req, res) =>
      res.end(`served ${req.url} for ${String(req.headers['x-suanli-lease-id'])}`),
    );
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    // whatever the run left on the host goes: nothing of this agent is wanted any more
    for (const a of agents) {
      await a.loop.stop();
      await a.delivery.reconcile([]);
      await a.close();
    }
    await sshd?.stop();
    await producer?.disconnect();
    upstream?.closeAllConnections();
    upstream?.close();
    await stack?.close();
    rmSync(sshdDir, { recursive: true, force: true });
    rmSync(clientDir, { recursive: true, force: true });
  });

  it('API lease: token through the gateway, calls metered into the invoice, end refuses the token', async () => {
    const {
      offer,
      agent: enrolled,
      key,
    } = await sellerWithOffer(api, {
      form: 'API',
      prices: [
        { unit: 'slot_h', price: '1.00' },
        { unit: 'api.call', price: '0.01' },
      ],
    });
    const jwk = { ...key.privateJwk, kid: key.kid };
    const agent = await startAgentDelivery({
      agentId: enrolled.id,
      privateJwk: jwk,
      marketApiUrl: api.url,
      stateDir: join(clientDir, 'agent-state-api'),
      config: {
        intervalSeconds: 5,
        apiGateway: {
          upstream: `http://127.0.0.1:${(upstream.address() as { port: number }).port}`,
          host: '127.0.0.1',
          port: 0,
        },
      },
    });
    agents.push(agent);
    expect(await agent.loop.reportCapabilities()).toEqual({ forms: ['API'] });
    agent.loop.start();

    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '100.00');
    const leaseId = await orderLease(buyer.client, offer.id, 2, 1);
    await expectEventually(
      async () =>
        expect((await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body.state).toBe(
          'active',
        ),
      SOON,
    );
    const { access } = (await buyer.client.get<LeaseAccessView>(`/v1/leases/${leaseId}/access`))
      .body;
    if (access?.kind !== 'http') throw new Error(`no HTTP access: ${JSON.stringify(access)}`);
    expect(access.concurrency).toBe(2);
    const call = (path: string, token = access.token) =>
      fetch(`${access.endpoint}${path}`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) {
      const r = await call(`/v1/echo/${i}`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(`served /v1/echo/${i} for ${leaseId}`);
    }
    expect((await call('/v1/echo', 'sl_not-a-token')).status).toBe(401); // not a call of the lease

    // The agent's window: the gateway's counts, signed, through Kafka into the ingest.
    const [lease] = (await fetchActiveLeases(api.url, enrolled.id, jwk)).filter(
      (l) => l.leaseId === leaseId,
    );
    const end = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await new Promise((r) => setTimeout(r, end.getTime() - Date.now() + 5));
    const window = { start: new Date(lease.startsAt), end };
    const usage = await agent.gateway!.meter.sample(lease, window);
    expect(usage.api_calls).toBe('3');
    await new MeteringAgent({
      agentId: enrolled.id,
      privateJwk: jwk,
      producer,
      topic: stack.topics.topics['exchange.usage.v1'],
    }).sendBatch([{ lease, window, usage }]);
    await expectEventually(async () => {
      const { rows } = await stack.pool.query<{ q: string }>(
        `SELECT sum(quantity)::text AS q FROM ${minuteRowsSql()} u WHERE lease_id = $1 AND unit = 'api.call'`,
        [leaseId],
      );
      expect(rows[0]?.q).toBe('3.000000000');
    }, SOON);

    // The end: the token is refused at once after the agent revokes; the invoice bills the calls.
    api.clock.set(new Date(Math.ceil((Date.now() + 1000) / 1000) * 1000));
    expect((await buyer.client.post(`/v1/leases/${leaseId}/cancel`, {})).status).toBe(200);
    await expectEventually(async () => expect((await call('/v1/echo')).status).toBe(401), SOON);
    // settlement invoices an ended lease once late usage can no longer arrive
    api.clock.set(new Date(api.clock.now().getTime() + 120 * MINUTE));
    const operator = apiClient(api.url, await api.operatorToken());
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const invoice = (
      await buyer.client.get<{ items: InvoiceView[] }>('/v1/invoices')
    ).body.items.find((i) => i.leaseId === leaseId);
    expect(invoice?.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          unit: 'api.call',
          quantity: expect.stringMatching(/^3(\.0+)?$/),
          amount: '0.03',
        }),
      ]),
    );
  });

  it('key → VM lease → login → wallet dry: refused → top-up: back in → end: account gone', async () => {
    // Settlement periods are whole hours: the lease starts at the next hour, where the agent
    // reports in (the clock only moves forward, after the API test's real time).
    api.clock.set(new Date(Math.ceil((api.clock.now().getTime() + 1) / 3_600_000) * 3_600_000));
    const {
      offer,
      agent: enrolled,
      key,
      seller,
    } = await sellerWithOffer(api, {
      form: 'VM',
      prices: [{ unit: 'slot_h', price: '10.00' }],
    });
    const agent = await startAgentDelivery({
      agentId: enrolled.id,
      privateJwk: { ...key.privateJwk, kid: key.kid },
      marketApiUrl: api.url,
      stateDir: join(clientDir, 'agent-state'),
      config: {
        intervalSeconds: 5,
        ssh: {
          host: sshd.host,
          port: sshd.port,
          keysDir: sshd.keysDir,
          sshdConfig: sshd.configFile,
          hostKeyFiles: [sshd.hostKeyPub],
        },
      },
    });
    agents.push(agent);
    // The probe passes on this host: the market learns the resource delivers VM over SSH.
    expect(await agent.loop.reportCapabilities()).toEqual({ forms: ['BM', 'VM'] });
    agent.loop.start();

    // The buyer: exactly one hour's money, and an SSH key in its profile.
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '10.00');
    const k = buyerKey(clientDir, `buyer-${RUN}`);
    expect(
      (await buyer.client.post('/v1/ssh-keys', { name: 'laptop', publicKey: k.publicKey })).status,
    ).toBe(201);
    const leaseId = await orderLease(buyer.client, offer.id, 1, 3);
    const leaseState = async () =>
      (await buyer.client.get<LeaseView>(`/v1/leases/${leaseId}`)).body.state;

    // The agent learns of it over the long-poll, grants, reports: active, with access.
    await expectEventually(async () => expect(await leaseState()).toBe('active'), SOON);
    const { access } = (await buyer.client.get<LeaseAccessView>(`/v1/leases/${leaseId}/access`))
      .body;
    if (access?.kind !== 'ssh') throw new Error(`no SSH access: ${JSON.stringify(access)}`);
    expect(access).toMatchObject({ host: sshd.host, port: sshd.port });
    expect(
      await sshRun(sshd, access.user, k.file, 'id -un; echo ok > ~/kept; cat ~/kept'),
    ).toMatchObject({ code: 0, stdout: `${access.user}\nok\n` });
    // The CLI shows the buyer the same login; the seller gets nothing.
    const cli = await suanli(['lease', 'access', leaseId, '--api', api.url], buyer.token);
    expect(cli).toMatchObject({ code: 0 });
    expect(cli.stdout).toContain(
      `ssh -p ${sshd.port} ${access.user}@${sshd.host}\nhost key: SHA256:`,
    );
    expect((await seller.client.get(`/v1/leases/${leaseId}/access`)).status).toBe(403);

    // The wallet runs dry: after the first hour settlement cannot hold the next one.
    const operator = apiClient(api.url, await api.operatorToken());
    api.clock.set(new Date(api.clock.now().getTime() + 61 * MINUTE));
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect(await leaseState()).toBe('suspended');
    await expectEventually(async () => {
      const r = await sshRun(sshd, access.user, k.file, 'true');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied/);
    }, SOON);

    // A top-up: the next settlement run resumes the lease, the same login works again.
    await fundWallet(api, buyer.orgId, 'CNY', '20.00');
    api.clock.set(new Date(api.clock.now().getTime() + MINUTE));
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect(await leaseState()).toBe('active');
    await expectEventually(
      async () =>
        expect(await sshRun(sshd, access.user, k.file, 'cat ~/kept')).toMatchObject({
          code: 0,
          stdout: 'ok\n',
        }),
      SOON,
    );

    // The end: the buyer cancels; the agent removes the account and its files.
    expect((await buyer.client.post(`/v1/leases/${leaseId}/cancel`, {})).status).toBe(200);
    await expectEventually(async () => {
      expect(spawnSync('getent', ['passwd', access.user]).status).not.toBe(0);
      expect(existsSync(`/home/${access.user}`)).toBe(false);
    }, SOON);
    const refused = await sshRun(sshd, access.user, k.file, 'true');
    expect(refused.code).toBe(255);

    // Every step is recorded once, with its time, for buyer and seller alike.
    const steps = await expectEventually(async () => {
      const items = (
        await buyer.client.get<{ items: LeaseDeliveryEventView[] }>(
          `/v1/leases/${leaseId}/delivery`,
        )
      ).body.items.map((e) => e.step);
      expect(items).toContain('revoked');
      return items;
    }, SOON);
    expect(steps).toEqual(['provisioning', 'granted', 'suspended', 'resumed', 'revoked']);
  });
});
