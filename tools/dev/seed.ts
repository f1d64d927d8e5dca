// Seeds the local exchange with demo data through the public API (so it exercises the same
// rules as real users), writes the demo agents' config for the simulated metering agent,
// and prints the logins. Safe to run again: an existing demo is reused.
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OfferView, ResourceView, SessionView } from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import { Money, toMinorUnits } from '@suanli/money';
import { checkoutSession, deliverStripeEvent, stripeEvent } from './stripe-events.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const api = process.env.MARKET_API_URL ?? 'http://127.0.0.1:3100';
const agentsFile = process.env.AGENT_CONFIG_FILE ?? join(root, '.local', 'demo', 'agents.json');

export const DEMO_LOGINS = {
  operator: {
    email: process.env.BOOTSTRAP_OPERATOR_EMAIL ?? 'operator@suanli.local',
    password: process.env.BOOTSTRAP_OPERATOR_PASSWORD ?? 'operator-demo-2026',
  },
  seller: { email: 'seller@suanli.local', password: 'seller-demo-2026' },
  buyer: { email: 'buyer@suanli.local', password: 'buyer-demo-2026' },
  assessor: { email: 'assessor@suanli.local', password: 'assessor-demo-2026' },
};

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  idempotencyKey?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function must<T>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function login(who: keyof typeof DEMO_LOGINS): Promise<SessionView | null> {
  const r = await call<SessionView>('POST', '/v1/auth/login', DEMO_LOGINS[who]);
  return r.status === 200 ? r.body : null;
}

async function agentToken(agentId: string, jwk: JWK): Promise<string> {
  const key = await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
    .setIssuer(agentId)
    .setSubject(agentId)
    .setAudience('suanli-market')
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key);
}

/**
 * Funds the demo buyer the way buyers fund themselves: a top-up. In test mode (no Stripe key) it
 * is credited at once; with Stripe (stripe-mock under `npm start`) it is paid as the checkout
 * stand-in pays it, with a signed `checkout.session.completed` to the webhook. Operator credits
 * are refused once Stripe is configured (docs/security.md).
 */
async function fundBuyer(token: string, currency: string, amount: string): Promise<void> {
  const topUp = await must(
    call<{ id: string; testMode: boolean; status: string }>(
      'POST',
      '/v1/wallet/top-ups',
      { currency, amount },
      token,
      randomUUID(),
    ),
    'fund wallet (top-up)',
  );
  if (topUp.testMode || topUp.status === 'paid') return;
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new Error('fund wallet: Stripe is on but STRIPE_WEBHOOK_SECRET is not set');
  const payload = stripeEvent(
    'checkout.session.completed',
    checkoutSession({
      topUpId: topUp.id,
      amountTotal: toMinorUnits(Money.of(amount, currency)),
      currency,
    }),
  );
  const paid = await deliverStripeEvent(`${api}/v1/stripe/webhook`, payload, secret);
  const outcome = (paid.body as { outcome?: string } | null)?.outcome;
  if (paid.status !== 200 || outcome !== 'credited') {
    throw new Error(`fund wallet (payment): HTTP ${paid.status} ${JSON.stringify(paid.body)}`);
  }
}

interface DemoAgent {
  agentId: string;
  privateJwk: JWK;
  resourceCri: string;
  class: 'GEN' | 'AI' | 'HPC';
}

async function seed(): Promise<void> {
  const operator = await login('operator');
  if (!operator)
    throw new Error(
      'the bootstrap operator cannot log in: start market-api with BOOTSTRAP_OPERATOR_EMAIL/PASSWORD',
    );

  if (await login('seller')) {
    if (!existsSync(agentsFile))
      throw new Error(`demo data exists but ${agentsFile} is missing: reset the local database`);
    const agents = (JSON.parse(readFileSync(agentsFile, 'utf8')) as { agents: DemoAgent[] }).agents;
    writeAgents(agents);
    printLogins('reused existing demo data');
    return;
  }

  const seller = await must(
    call<SessionView>('POST', '/v1/auth/signup', {
      ...DEMO_LOGINS.seller,
      displayName: 'Demo seller',
      organization: {
        name: '南方算力中心 South China Compute Centre',
        roles: ['seller'],
        industry: 'I',
      },
    }),
    'seller sign-up',
  );
  const buyer = await must(
    call<SessionView>('POST', '/v1/auth/signup', {
      ...DEMO_LOGINS.buyer,
      displayName: 'Demo buyer',
      organization: { name: '星河 AI 实验室 Galaxy AI Lab', roles: ['buyer'], industry: 'M' },
    }),
    'buyer sign-up',
  );
  await must(
    call(
      'POST',
      '/v1/admin/organizations',
      {
        ...DEMO_LOGINS.assessor,
        displayName: 'Demo assessor',
        organization: {
          name: '可信算力评测院 Trusted Compute Assessment Institute',
          roles: ['assessor'],
          industry: 'M',
        },
      },
      operator.accessToken,
    ),
    'assessor admission',
  );

  const resources: { req: object; offer: (id: string) => object; klass: DemoAgent['class'] }[] = [
    {
      klass: 'AI',
      req: {
        name: 'Guangzhou GA1 H200 node',
        class: 'AI',
        form: 'CTR',
        location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
        spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
        capacity: 4,
      },
      offer: (resourceId) => ({
        resourceId,
        title: 'H200 ×8 容器 · Guangzhou',
        currency: 'CNY',
        capacity: 4,
        pricingModel: 'fixed',
        prices: [
          { unit: 'slot_h', price: '5.00' },
          { unit: 'scu.ai', price: '12.00' },
        ],
        minHours: 1,
        maxHours: 720,
      }),
    },
    {
      klass: 'GEN',
      req: {
        name: 'Beijing HD1 general VM',
        class: 'GEN',
        form: 'VM',
        location: { country: 'CN', subdivision: 'BJ', site: 'HD1' },
        spec: { cpu: 32, memGiB: 128, storageGiB: 1000 },
        capacity: 16,
      },
      offer: (resourceId) => ({
        resourceId,
        title: 'General VM 32 vCPU · Beijing',
        currency: 'USD',
        capacity: 16,
        pricingModel: 'fixed',
        prices: [{ unit: 'slot_h', price: '0.80' }],
        minHours: 1,
        maxHours: 2160,
      }),
    },
  ];

  const agents: DemoAgent[] = [];
  const offers: OfferView[] = [];
  for (const r of resources) {
    const res = await must(
      call<ResourceView>('POST', '/v1/resources', r.req, seller.accessToken),
      'register resource',
    );
    const key = await generateSigningKey();
    const privateJwk = { ...key.privateJwk, kid: key.kid };
    const agent = await must(
      call<{ id: string }>(
        'POST',
        `/v1/resources/${res.id}/agents`,
        { publicJwk: key.publicJwk },
        seller.accessToken,
      ),
      'enrol agent',
    );
    await must(
      call('GET', '/v1/agents/me/leases', undefined, await agentToken(agent.id, privateJwk)),
      'agent reports in',
    );
    // Online before the demo leases are ordered (the simulated agent beats from then on).
    await must(
      call(
        'POST',
        '/v1/agents/me/heartbeats',
        { status: 'online' },
        await agentToken(agent.id, privateJwk),
      ),
      'heartbeat',
    );
    offers.push(
      await must(
        call<OfferView>('POST', '/v1/offers', r.offer(res.id), seller.accessToken),
        'publish offer',
      ),
    );
    agents.push({ agentId: agent.id, privateJwk, resourceCri: res.cri, class: r.klass });
  }

  for (const [currency, amount] of [
    ['CNY', '20000.00'],
    ['USD', '2000.00'],
  ]) {
    await fundBuyer(buyer.accessToken, currency, amount);
  }
  // Demo leases, so the simulated agent has something to meter from the first minute.
  await must(
    call(
      'POST',
      '/v1/orders',
      { offerId: offers[0].id, slots: 1, hours: 8 },
      buyer.accessToken,
      randomUUID(),
    ),
    'demo order 1',
  );
  await must(
    call(
      'POST',
      '/v1/orders',
      { offerId: offers[1].id, slots: 2, hours: 24 },
      buyer.accessToken,
      randomUUID(),
    ),
    'demo order 2',
  );

  writeAgents(agents);
  printLogins('seeded demo data');
}

function writeAgents(agents: DemoAgent[]): void {
  mkdirSync(dirname(agentsFile), { recursive: true });
  writeFileSync(
    agentsFile,
    JSON.stringify(
      { marketApiUrl: api, stateDir: join(dirname(agentsFile), 'agent-state'), agents },
      null,
      2,
    ),
    { mode: 0o600 },
  );
}

function printLogins(what: string): void {
  console.log(what);
  for (const [role, l] of Object.entries(DEMO_LOGINS)) {
    console.log(JSON.stringify({ role, email: l.email, password: l.password }));
  }
}

await seed();
