// The load the drills put on the exchange, through the load balancer like real clients:
// buyers topping up their wallets and placing orders (each request retried with the same
// Idempotency-Key until it gets an answer), and metering agents sending signed usage to Kafka.
// Afterwards, `verify*` check that no request failed, nothing was lost or doubled, and the
// ledger balances.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import type {
  OfferView,
  OrderView,
  ResourceView,
  SessionView,
  WalletView,
} from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { Decimal } from '@suanli/money';
import { minuteRowsSql } from '@suanli/units';
import { MeteringAgent } from '../../apps/metering/src/agent/agent.js';
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';
import type { UsageSample } from '../../apps/metering/src/agent/types.js';
import { OPERATOR } from './exchange.js';
import { sleep, waitFor } from './processes.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Answer<T> {
  status: number;
  body: T;
  attempts: number;
}

/** Calls the API; on no answer, 5xx or 409 "in progress" retries with the same key. */
export async function call<T>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; key?: string; deadlineMs?: number } = {},
): Promise<Answer<T>> {
  const deadline = Date.now() + (opts.deadlineMs ?? 90_000);
  let attempts = 0;
  let delay = 100;
  for (;;) {
    attempts++;
    let status: number;
    let text = '';
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.key ? { 'idempotency-key': opts.key } : {}),
        },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
      status = res.status;
      text = await res.text();
    } catch {
      status = 0; // no answer: retry
    }
    const body = (text ? JSON.parse(text) : null) as T;
    const inProgress =
      status === 409 &&
      (body as { error?: { details?: { idempotency?: string } } } | null)?.error?.details
        ?.idempotency !== 'outcome_unknown' &&
      /in progress/.test(text);
    const retry = status === 0 || status >= 500 || inProgress;
    // Only requests with a key (or reads) are safe to retry.
    if (!retry || (method !== 'GET' && !opts.key) || Date.now() > deadline) {
      return { status, body, attempts };
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}

export interface Buyer {
  orgId: string;
  token: string;
  funding: string;
}

export interface Op {
  kind: 'top-up' | 'order';
  buyer: Buyer;
  key: string;
  status: number;
  attempts: number;
  id?: string;
  ms: number;
}

export interface Market {
  operatorToken: string;
  sellerToken: string;
  offer: OfferView;
  resource: ResourceView;
  agent: { id: string; privateJwk: Record<string, unknown> };
  buyers: Buyer[];
}

async function signUp(base: string, who: string, roles: ('buyer' | 'seller')[]) {
  const r = await call<SessionView>(base, 'POST', '/v1/auth/signup', {
    body: {
      email: `${who}-${randomUUID().slice(0, 8)}@drills.local`,
      password: `${who}-password-2026`,
      displayName: who,
      organization: { name: `${who} org`, roles, industry: 'I' },
    },
    key: randomUUID(),
  });
  if (r.status !== 201) throw new Error(`sign-up ${who}: ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.accessToken, orgId: r.body.organization.id };
}

/** A seller with a connected resource, its agent and an offer; funded buyers. */
export async function setUpMarket(base: string, buyers = 4): Promise<Market> {
  const login = await call<{ accessToken: string }>(base, 'POST', '/v1/auth/login', {
    body: OPERATOR,
    key: randomUUID(),
  });
  if (login.status !== 200 && login.status !== 201) {
    throw new Error(`operator login: ${login.status} ${JSON.stringify(login.body)}`);
  }
  const operatorToken = login.body.accessToken;
  const seller = await signUp(base, 'seller', ['seller']);
  const resource = await call<ResourceView>(base, 'POST', '/v1/resources', {
    token: seller.token,
    key: randomUUID(),
    body: {
      name: 'drill node',
      class: 'AI',
      form: 'BM',
      location: { country: 'CN', subdivision: 'SH', site: 'PD1' },
      spec: { cpu: 64, memGiB: 512, accel: { count: 8, model: 'H100' } },
      capacity: 100_000,
    },
  });
  if (resource.status !== 201) throw new Error(`resource: ${JSON.stringify(resource.body)}`);
  const key = await generateSigningKey();
  const privateJwk = { ...key.privateJwk, kid: key.kid };
  const agent = await call<{ id: string }>(
    base,
    'POST',
    `/v1/resources/${resource.body.id}/agents`,
    { token: seller.token, key: randomUUID(), body: { publicJwk: key.publicJwk } },
  );
  if (agent.status !== 201) throw new Error(`agent: ${JSON.stringify(agent.body)}`);
  await call(base, 'GET', '/v1/agents/me/leases', {
    token: await agentToken(agent.body.id, privateJwk),
  });
  // Online, so it can be ordered.
  await call(base, 'POST', '/v1/agents/me/heartbeats', {
    token: await agentToken(agent.body.id, privateJwk),
    body: { status: 'online' },
  });
  const offer = await call<OfferView>(base, 'POST', '/v1/offers', {
    token: seller.token,
    key: randomUUID(),
    body: {
      resourceId: resource.body.id,
      title: 'H100 drill capacity',
      currency: 'CNY',
      capacity: 100_000,
      pricingModel: 'fixed',
      prices: [
        { unit: 'slot_h', price: '1.00' },
        { unit: 'scu.ai', price: '0.50' },
      ],
    },
  });
  if (offer.status !== 201) throw new Error(`offer: ${JSON.stringify(offer.body)}`);
  const list: Buyer[] = [];
  for (let i = 0; i < buyers; i++) {
    const b = await signUp(base, `buyer${i + 1}`, ['buyer']);
    const funded = await call(base, 'POST', `/v1/admin/wallets/${b.orgId}/credits`, {
      token: operatorToken,
      key: randomUUID(),
      body: { currency: 'CNY', amount: '1000.00', memo: 'drill funding' },
    });
    if (funded.status !== 201) throw new Error(`funding: ${JSON.stringify(funded.body)}`);
    list.push({ ...b, funding: '1000.00' });
  }
  return {
    operatorToken,
    sellerToken: seller.token,
    offer: offer.body,
    resource: resource.body,
    agent: { id: agent.body.id, privateJwk },
    buyers: list,
  };
}

/** Every trading request of this run, all drills together (wallets are checked cumulatively). */
const ALL_OPS: Op[] = [];

/** Buyers topping up and ordering in a loop, one request at a time each, until stopped. */
export class TradingLoad {
  readonly ops: Op[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly base: string,
    private readonly market: Market,
  ) {}

  start(): void {
    this.running = this.market.buyers.map((b) => this.loop(b));
  }

  private async loop(b: Buyer): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const topUp = i % 2 === 0;
      const key = randomUUID();
      const t = Date.now();
      const r = topUp
        ? await call<{ id: string }>(this.base, 'POST', '/v1/wallet/top-ups', {
            token: b.token,
            key,
            body: { currency: 'CNY', amount: '10.00' },
          })
        : await call<OrderView>(this.base, 'POST', '/v1/orders', {
            token: b.token,
            key,
            body: { offerId: this.market.offer.id, slots: 1, hours: 1 },
          });
      const op: Op = {
        kind: topUp ? 'top-up' : 'order',
        buyer: b,
        key,
        status: r.status,
        attempts: r.attempts,
        id: (r.body as { id?: string } | null)?.id,
        ms: Date.now() - t,
      };
      this.ops.push(op);
      ALL_OPS.push(op);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  summary(): string {
    const ok = this.ops.filter((o) => o.status >= 200 && o.status < 300);
    const retried = this.ops.filter((o) => o.attempts > 1);
    const maxMs = Math.max(0, ...this.ops.map((o) => o.ms));
    return (
      `${this.ops.length} requests (${this.ops.filter((o) => o.kind === 'order').length} orders, ` +
      `${this.ops.filter((o) => o.kind === 'top-up').length} top-ups): ${ok.length} answered 2xx, ` +
      `${retried.length} needed retries (max ${Math.max(0, ...this.ops.map((o) => o.attempts))} attempts, ` +
      `slowest ${maxMs} ms with its retries)`
    );
  }
}

/** Metering agents sending signed usage batches for their leases until stopped. */
export class UsageLoad {
  readonly leases: { id: string; startsAt: string }[] = [];
  readonly agentIds: string[] = [];
  private agents: MeteringAgent[] = [];
  private producers: Producer[] = [];
  private stopped = false;
  private running: Promise<void>[] = [];
  readonly expected = new Map<string, Map<string, Decimal>>();
  readonly eventIds = new Map<string, number>();
  batches = 0;
  sendErrors = 0;

  constructor(
    private readonly base: string,
    private readonly brokers: string[],
    private readonly market: Market,
  ) {}

  /** Orders `count` leases (by the first buyer) and starts one sender per lease. */
  async start(count = 2): Promise<void> {
    const b = this.market.buyers[0];
    for (let i = 0; i < count; i++) {
      const r = await call<OrderView>(this.base, 'POST', '/v1/orders', {
        token: b.token,
        key: randomUUID(),
        body: { offerId: this.market.offer.id, slots: 1, hours: 1 },
      });
      if (r.status !== 201) throw new Error(`usage lease: ${JSON.stringify(r.body)}`);
      this.leases.push({ id: r.body.lease.id, startsAt: r.body.lease.startsAt });
      // Each sender is an agent of its own (an agent's batches form one signed chain).
      const key = await generateSigningKey();
      const privateJwk = { ...key.privateJwk, kid: key.kid };
      const enrolled = await call<{ id: string }>(
        this.base,
        'POST',
        `/v1/resources/${this.market.resource.id}/agents`,
        { token: this.market.sellerToken, key: randomUUID(), body: { publicJwk: key.publicJwk } },
      );
      if (enrolled.status !== 201) throw new Error(`agent: ${JSON.stringify(enrolled.body)}`);
      this.agentIds.push(enrolled.body.id);
      const kafka = new Kafka({
        clientId: `drill-agent-${i}`,
        brokers: this.brokers,
        logLevel: logLevel.NOTHING,
        retry: { retries: 8, initialRetryTime: 200 },
      });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      this.producers.push(producer);
      const agent = new MeteringAgent({
        agentId: enrolled.body.id,
        privateJwk,
        producer,
        maxAttempts: 3,
        retryDelayMs: 200,
      });
      this.agents.push(agent);
      const lease = {
        leaseId: r.body.lease.id,
        cri: this.market.resource.cri,
        class: 'AI' as const,
        catalogVersion: r.body.lease.catalogVersion,
      };
      this.running.push(this.loop(agent, lease, new Date(r.body.lease.startsAt)));
    }
  }

  private async loop(
    agent: MeteringAgent,
    lease: UsageSample['lease'],
    startsAt: Date,
  ): Promise<void> {
    let minute = 0;
    const totals = new Map<string, Decimal>();
    this.expected.set(lease.leaseId, totals);
    while (!this.stopped) {
      const samples: UsageSample[] = Array.from({ length: 20 }, () => {
        const start = new Date(startsAt.getTime() + (minute++ % 55) * 60_000);
        return {
          lease,
          window: { start, end: new Date(start.getTime() + 60_000) },
          usage: { duration_s: '60', acc_s: { H100: '60' } },
        };
      });
      // Signed and spooled first (what counts as sent), then delivered; a failed delivery
      // stays in the spool and goes with the next drain, in order, unchanged.
      const batch = await agent.spoolBatch(samples);
      this.batches++;
      for (const e of batch.events) {
        this.eventIds.set(lease.leaseId, (this.eventIds.get(lease.leaseId) ?? 0) + 1);
        for (const [unit, q] of Object.entries(e.data.units)) {
          totals.set(unit, (totals.get(unit) ?? new Decimal(0)).plus(q));
        }
      }
      try {
        await agent.drain();
      } catch {
        this.sendErrors++;
      }
      await sleep(150);
    }
  }

  /** Stops producing and delivers whatever is still spooled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
    for (const agent of this.agents) {
      await waitFor(
        'agent spool drained',
        async () => {
          await agent.drain();
          return (await agent.stats()).spooled === 0 ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    }
    await Promise.all(this.producers.map((p) => p.disconnect().catch(() => undefined)));
  }

  get events(): number {
    return [...this.eventIds.values()].reduce((a, b) => a + b, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// checks

async function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** No request failed; each one took effect exactly once; wallets and the ledger add up. */
export async function verifyTrading(
  base: string,
  dbUrl: string,
  market: Market,
  ops: Op[],
): Promise<Check[]> {
  const checks: Check[] = [];
  const failed = ops.filter((o) => o.status < 200 || o.status >= 300);
  checks.push({
    name: 'no request failed (after client retries with the same Idempotency-Key)',
    ok: failed.length === 0,
    detail:
      failed.length === 0
        ? `${ops.length} of ${ops.length} answered 2xx`
        : `${failed.length} failed: ${failed
            .slice(0, 5)
            .map((f) => `${f.kind} ${f.status}`)
            .join(', ')}`,
  });
  const ok = ops.filter((o) => o.status >= 200 && o.status < 300);
  const orderIds = ok.filter((o) => o.kind === 'order').map((o) => o.id ?? '');
  const topUpIds = ok.filter((o) => o.kind === 'top-up').map((o) => o.id ?? '');
  const stored = await withDb(dbUrl, async (c) => {
    const orgs = market.buyers.map((b) => b.orgId);
    const orders = await c.query<{ id: string }>(
      'SELECT id FROM orders WHERE buyer_org_id = ANY($1::uuid[]) AND id = ANY($2::uuid[])',
      [orgs, orderIds],
    );
    const topUps = await c.query<{ id: string }>(
      'SELECT id FROM top_ups WHERE id = ANY($1::uuid[])',
      [topUpIds],
    );
    return { orders: orders.rowCount ?? 0, topUps: topUps.rowCount ?? 0 };
  });
  checks.push({
    name: 'every acknowledged order and top-up is stored (nothing committed lost)',
    ok: stored.orders === orderIds.length && stored.topUps === topUpIds.length,
    detail: `orders ${stored.orders}/${orderIds.length}, top-ups ${stored.topUps}/${topUpIds.length}`,
  });
  checks.push({
    name: 'one effect per Idempotency-Key (no doubled order or top-up)',
    ok: new Set(orderIds).size === orderIds.length && new Set(topUpIds).size === topUpIds.length,
    detail: `${new Set(orderIds).size} distinct orders for ${orderIds.length} keys, ${new Set(topUpIds).size} distinct top-ups for ${topUpIds.length} keys`,
  });
  // Each buyer's wallet total = funding + its top-ups − what settlement charged it.
  const wrong: string[] = [];
  for (const b of market.buyers) {
    const w = await call<WalletView>(base, 'GET', '/v1/wallet', { token: b.token });
    const total = w.body.balances.find((x) => x.currency === 'CNY')?.total ?? '0';
    const [counts] = await withDb(
      dbUrl,
      async (c) =>
        (
          await c.query<{ topups: string; orders: string; charged: string }>(
            // paid (credited) top-ups; an attempt cut off between creating its top-up and crediting
            // it leaves an unpaid one behind, which moves no money
            `SELECT (SELECT COUNT(*) FROM top_ups t
                    WHERE t.org_id = $1 AND t.paid_at IS NOT NULL)::text AS topups,
                  (SELECT COUNT(*) FROM orders o WHERE o.buyer_org_id = $1)::text AS orders,
                  (SELECT COALESCE(SUM(d.gross), 0) FROM debit_notes d
                     JOIN leases l ON l.id = d.lease_id WHERE l.buyer_org_id = $1)::text AS charged`,
            [b.orgId],
          )
        ).rows,
    );
    const myTopUps = ALL_OPS.filter(
      (o) => o.kind === 'top-up' && o.buyer === b && o.status >= 200 && o.status < 300,
    ).length;
    const expected = new Decimal(b.funding)
      .plus(new Decimal('10.00').times(myTopUps))
      .minus(counts.charged);
    if (!new Decimal(total).equals(expected) || Number(counts.topups) !== myTopUps) {
      wrong.push(
        `${b.orgId.slice(0, 8)}: wallet ${total}, expected ${expected.toFixed(2)} (paid top-ups stored ${counts.topups}, acknowledged ${myTopUps})`,
      );
    }
  }
  checks.push({
    name: 'no money lost or doubled (each wallet = funding + all acknowledged top-ups − charges)',
    ok: wrong.length === 0,
    detail: wrong.length === 0 ? `${market.buyers.length} wallets exact` : wrong.join('; '),
  });
  checks.push(await verifyLedger(base, market));
  return checks;
}

export async function verifyLedger(base: string, market: Market): Promise<Check> {
  const tb = await call<{ balanced: boolean; currencies: { currency: string; entries: string }[] }>(
    base,
    'GET',
    '/v1/admin/ledger/trial-balance',
    { token: market.operatorToken },
  );
  return {
    name: 'the ledger balances (trial balance zero in every currency)',
    ok: tb.status === 200 && tb.body.balanced,
    detail:
      tb.status === 200
        ? tb.body.currencies.map((c) => `${c.currency} Σ=${c.entries}`).join(', ')
        : `HTTP ${tb.status}`,
  };
}

/** Every usage event the agents sent is counted exactly once. */
export async function verifyUsage(dbUrl: string, load: UsageLoad): Promise<Check[]> {
  const leaseIds = load.leases.map((l) => l.id);
  const counted = await waitFor(
    'ingest caught up',
    async () => {
      const rows = await withDb(
        dbUrl,
        async (c) =>
          (
            await c.query<{ lease_id: string; n: string }>(
              `SELECT lease_id, COUNT(*)::text AS n FROM usage_events
              WHERE lease_id = ANY($1::uuid[]) GROUP BY lease_id`,
              [leaseIds],
            )
          ).rows,
      );
      const n = rows.reduce((a, r) => a + Number(r.n), 0);
      return n >= load.events ? n : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  ).catch(() => -1);
  const checks: Check[] = [
    {
      name: 'every usage event sent is stored once',
      ok: counted === load.events,
      detail: `${load.events} events in ${load.batches} signed batches sent, ${counted} stored (${load.sendErrors} sends retried from the spool)`,
    },
  ];
  const mismatches: string[] = [];
  await withDb(dbUrl, async (c) => {
    for (const [leaseId, totals] of load.expected) {
      const rows = (
        await c.query<{ unit: string; q: string }>(
          `SELECT unit, SUM(quantity)::text AS q FROM ${minuteRowsSql()} u
            WHERE lease_id = $1 GROUP BY unit`,
          [leaseId],
        )
      ).rows;
      const hours = (
        await c.query<{ unit: string; q: string }>(
          'SELECT unit, SUM(quantity)::text AS q FROM usage_hours WHERE lease_id = $1 GROUP BY unit',
          [leaseId],
        )
      ).rows;
      for (const [unit, want] of totals) {
        const got = rows.find((r) => r.unit === unit)?.q ?? '0';
        const agg = hours.find((r) => r.unit === unit)?.q ?? '0';
        if (!want.equals(got) || !want.equals(agg)) {
          mismatches.push(
            `${leaseId.slice(0, 8)} ${unit}: sent ${want.toFixed()}, by minute ${got}, hourly ${agg}`,
          );
        }
      }
    }
  });
  checks.push({
    name: 'usage per minute and per hour equals what was sent (exactly once)',
    ok: mismatches.length === 0,
    detail:
      mismatches.length === 0
        ? [...load.expected.entries()]
            .map(
              ([id, t]) =>
                `${id.slice(0, 8)}: ${[...t.entries()].map(([u, q]) => `${q.toFixed()} ${u}`).join(', ')}`,
            )
            .join('; ')
        : mismatches.join('; '),
  });
  // By reason, with one example detail each: a failed check says why the ingest refused them.
  const deadRows = await withDb(
    dbUrl,
    async (c) =>
      (
        await c.query<{ reason: string; n: string; detail: string }>(
          `SELECT reason, COUNT(*)::text AS n, min(detail) AS detail FROM usage_dead_letters
            WHERE lease_id = ANY($1::uuid[]) OR agent_id = ANY($2::text[]) GROUP BY reason`,
          [leaseIds, load.agentIds],
        )
      ).rows,
  );
  const dead = deadRows.reduce((a, r) => a + Number(r.n), 0);
  // Where a lease stopped on its way to the ingest: the market's outbox (written, relayed to
  // Kafka) or the ingest's read model (metering_leases). Says which side to look at.
  const leasePath =
    dead === 0
      ? ''
      : ` — leases: ${(
          await withDb(
            dbUrl,
            async (c) =>
              (
                await c.query<{ id: string; outbox: string; published: string; known: boolean }>(
                  `SELECT l.id, COUNT(o.id)::text AS outbox,
                          COUNT(o.published_at)::text AS published,
                          EXISTS (SELECT 1 FROM metering_leases m WHERE m.id = l.id) AS known
                     FROM unnest($1::uuid[]) AS l(id)
                     LEFT JOIN lease_events_outbox o ON o.lease_id = l.id
                    GROUP BY l.id`,
                  [leaseIds],
                )
              ).rows,
          )
        )
          .map(
            (r) =>
              `${r.id.slice(0, 8)} outbox ${r.outbox} (${r.published} published), ${r.known ? 'known' : 'unknown'} to the ingest`,
          )
          .join('; ')}`;
  checks.push({
    name: 'no dead letters for these leases and agents',
    ok: dead === 0,
    detail:
      dead === 0
        ? '0'
        : `${dead}: ${deadRows.map((r) => `${r.reason} × ${r.n} (e.g. ${r.detail})`).join('; ')}${leasePath}`,
  });
  return checks;
}
