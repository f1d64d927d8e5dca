// The seller's whole journey in Debian Chromium against the real market API, PostgreSQL and
// Kafka, one seller from start to end: sign up → register a resource → enrol its agent (the
// command shown once really works, and is the key that meters the lease) → publish an offer →
// a buyer orders it → the lease's usage flows agent → Kafka → ingest → settlement → the seller
// sees utilization and usage of their own resource, their earnings, and sets up payouts
// (Stripe Connect, test mode). axe-core on every page (no serious or critical violations),
// 390 px width checked.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { InvoiceView, OfferView, OrderView, SessionView } from '@suanli/contracts';
import type { EarningsView } from '../../apps/market-api/src/payments/payouts.service.js';
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';
import { launchChromium } from '../support/browser.js';
import { apiClient } from '../support/http.js';
import {
  phoneOverflow,
  ready,
  logIn,
  newJourneyContext,
  screenshots,
  seriousA11yViolations,
} from '../support/journey.js';
import { fundWallet, signUpActor } from '../support/actors.js';
import { startMarketApi } from '../support/market-api.js';
import { meterLease } from '../support/scenario.js';
import { startWeb } from '../support/web.js';
import { formatDecimal, formatMoney } from '../../apps/web/lib/format.js';

const HOUR = 3600_000;

// next build (when the storefront changed) and a busy machine: minutes, not seconds.
jest.setTimeout(600_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

describe('seller journey', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_WEBHOOK_SECRET;
    process.env.PAYOUT_SCHEDULER = 'off';
    api = await startMarketApi();
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
    process.env = saved;
  });

  it('seller journey: resource, agent, offer, utilization, earnings, payouts', async () => {
    if (!browser || !web || !api) throw new Error('setup failed');
    const base = web.url;
    const { context, page } = await newJourneyContext(browser);
    const a11y = async (name: string) => {
      expect({ page: name, violations: await seriousA11yViolations(page) }).toEqual({
        page: name,
        violations: [],
      });
      expect({ page: name, overflow: await phoneOverflow(page) }).toEqual({
        page: name,
        overflow: [],
      });
    };
    try {
      // Sign up as a seller only.
      const sellerEmail = `seller-${Date.now()}@journey.test`;
      const sellerPassword = 'journey-password-1';
      await page.goto(`${base}/signup`);
      await page.getByLabel('Email').fill(sellerEmail);
      await page.getByLabel('Password').fill(sellerPassword);
      await page.getByLabel('Your name').fill('Journey Seller');
      await page.getByLabel('Organization').fill('Journey Compute');
      await page.getByRole('checkbox', { name: 'Buy compute' }).uncheck();
      await page.getByRole('checkbox', { name: 'Sell compute' }).check();
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${base}/seller/resources`);
      await ready(page);
      await page.locator('.empty').waitFor();
      await a11y('seller-resources-empty');

      // Register a resource: a bad country code is flagged while typing.
      await page.getByRole('link', { name: 'Register a resource' }).first().click();
      await page.waitForURL(`${base}/seller/resources/new`);
      await ready(page);
      await page.getByLabel('Name').fill('Journey H200 node');
      const country = page.getByLabel('Country (ISO 3166-1)');
      await country.fill('C1');
      expect(await page.locator('.field-invalid input[name="location.country"]').count()).toBe(1);
      await country.fill('CN');
      expect(await page.locator('.field-invalid input[name="location.country"]').count()).toBe(0);
      await page.getByLabel('Province or state (ISO 3166-2 suffix)').fill('GD');
      await page.getByLabel('Site code').fill('GZ1');
      await page.getByLabel('vCPUs').fill('64');
      await page.getByLabel('Memory (GiB)').fill('512');
      await page.getByLabel('Accelerators', { exact: true }).fill('8');
      await page.getByLabel('Accelerator model').fill('H200');
      await page.getByLabel('Slots leased at once').fill('2');
      await a11y('resource-new');
      await screenshots(page, 'seller-resource-new');
      await page.getByRole('button', { name: 'Register', exact: true }).click();
      await page.waitForURL(/\/seller\/resources\/[0-9a-f-]{36}\/agent$/);
      await ready(page);
      const resourceId = /resources\/([0-9a-f-]{36})\/agent/.exec(page.url())?.[1] ?? '';
      expect(await page.getByTestId('agent-resource-cri').innerText()).toMatch(/^CRI1:/);

      // Enrol the agent: the command with its private key is shown once.
      await page.getByRole('button', { name: 'Generate key and enrol' }).click();
      const command = await page.getByTestId('agent-command').locator('pre').innerText();
      expect(command).toContain('npx suanli agent --agent-id');
      expect(command).toContain('--resource-cri');
      const agentId = await page.getByTestId('agent-id').innerText();
      const jwk = JSON.parse(command.split('\n')[1]) as Record<string, string>;
      expect(jwk).toMatchObject({
        kty: 'OKP',
        crv: 'Ed25519',
        d: expect.any(String),
        kid: expect.any(String),
      });
      await a11y('agent');
      await screenshots(page, 'seller-agent');
      // What the command does first: the agent reports in with that key.
      const agentApi = apiClient(
        api.url,
        await agentToken(agentId, jwk as unknown as Parameters<typeof agentToken>[1]),
      );
      const reported = await agentApi.get('/v1/agents/me/leases');
      expect(reported.status).toBe(200);
      // …and beats: its resource is online, so it can be ordered.
      expect((await agentApi.post('/v1/agents/me/heartbeats', { status: 'online' })).status).toBe(
        202,
      );
      // The key is not shown again.
      await page.reload();
      expect(await page.getByTestId('agent-command').count()).toBe(0);

      // Publish an offer: a malformed price is flagged while typing.
      await page.goto(`${base}/seller/offers`);
      await page.getByRole('link', { name: 'Publish an offer' }).click();
      await page.waitForURL(`${base}/seller/offers/new`);
      await ready(page);
      await page.getByLabel('Resource').selectOption(resourceId);
      await page.getByLabel('Title').fill('Journey H200 x8');
      await page.getByLabel('Slots on offer').fill('2');
      const slotPrice = page.getByLabel('Price per slot-hour');
      await slotPrice.fill('1.2.3');
      expect(await page.getByText('A decimal amount such as 12.50.').count()).toBeGreaterThan(0);
      await slotPrice.fill('12.50');
      await page.getByLabel('Price per SCU (AI)').fill('12.00');
      await a11y('offer-new');
      await screenshots(page, 'seller-offer-new');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.waitForURL(`${base}/seller/offers?created=1`);
      await ready(page);
      const row = page.locator('tr', { hasText: 'Journey H200 x8' });
      expect(await row.getByTestId('offer-utilization').innerText()).toBe('0 of 2 slots in use');
      const offerId = (await row.getAttribute('data-offer-id')) ?? '';

      // A buyer orders one slot for an hour: utilization follows.
      const buyer = await signUpActor(api, ['buyer']);
      await fundWallet(api, buyer.orgId, 'CNY', '1000.00');
      const order = await buyer.client.postIdempotent<OrderView>('/v1/orders', {
        offerId,
        slots: 1,
        hours: 1,
      });
      expect(order.status).toBe(201);
      const lease = order.body.lease;
      expect(lease.resourceId).toBe(resourceId);
      await page.reload();
      expect(
        await page
          .locator('tr', { hasText: 'Journey H200 x8' })
          .getByTestId('offer-utilization')
          .innerText(),
      ).toBe('1 of 2 slots in use');
      await a11y('seller-offers');
      await screenshots(page, 'seller-offers');

      // A tiered offer: the tiers' format is checked while typing; the API's own rule (bounds
      // ascend) comes back under the field.
      await page.goto(`${base}/seller/offers/new`);
      await ready(page);
      await page.getByLabel('Resource').selectOption(resourceId);
      await page.getByLabel('Title').fill('Journey H200 tiered');
      await page.getByLabel('Pricing model').selectOption('tiered');
      const tiers = page.getByLabel('Tiers per slot-hour');
      await tiers.fill('100:12.00,');
      expect(await page.locator('.field-invalid input[name="tiers.slot_h"]').count()).toBe(1);
      await tiers.fill('100:12.00, 50:11.00, 10.00');
      expect(await page.locator('.field-invalid input[name="tiers.slot_h"]').count()).toBe(0);
      await a11y('offer-new-tiered');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.getByTestId('form-error').waitFor();
      expect(
        await page
          .locator('.field-invalid', { has: page.locator('[name="tiers.slot_h"]') })
          .innerText(),
      ).toContain('tier bounds must ascend');
      await screenshots(page, 'seller-offer-new-tiered');
      await page.getByLabel('Tiers per slot-hour').fill('100:12.00, 500:11.00, 10.00');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.waitForURL(`${base}/seller/offers?created=1`);
      await ready(page);
      const tieredRow = page.locator('tr', { hasText: 'Journey H200 tiered' });
      expect(await tieredRow.getByTestId('offer-model').innerText()).toBe('Tiered (graduated)');

      // An interruptible offer: only the floor for bids per slot-hour is asked for.
      await page.goto(`${base}/seller/offers/new`);
      await ready(page);
      await page.getByLabel('Resource').selectOption(resourceId);
      await page.getByLabel('Title').fill('Journey H200 spot');
      await page.getByLabel('Pricing model').selectOption('interruptible');
      expect(await page.getByLabel('Price per SCU (AI)').count()).toBe(0);
      const floor = page.getByLabel('Minimum bid per slot-hour');
      await floor.fill('abc');
      expect(await page.getByText('A decimal amount such as 12.50.').count()).toBeGreaterThan(0);
      await floor.fill('3.00');
      await a11y('offer-new-interruptible');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.waitForURL(`${base}/seller/offers?created=1`);
      await ready(page);
      const spotRow = page.locator('tr', { hasText: 'Journey H200 spot' });
      expect(await spotRow.getByTestId('offer-model').innerText()).toBe('Interruptible (bids)');
      const spot = await apiClient(api.url).get<OfferView>(
        `/v1/offers/${(await spotRow.getAttribute('data-offer-id')) ?? ''}`,
      );
      expect(spot.body).toMatchObject({
        pricingModel: 'interruptible',
        prices: [expect.objectContaining({ unit: 'slot_h', price: '3.00' })],
      });
      const tieredOffer = await apiClient(api.url).get<OfferView>(
        `/v1/offers/${(await tieredRow.getAttribute('data-offer-id')) ?? ''}`,
      );
      expect(tieredOffer.body.prices[0].tiers).toEqual([
        { upTo: '100', price: '12.00' },
        { upTo: '500', price: '11.00' },
        { upTo: null, price: '10.00' },
      ]);

      // A reserved block: the API's rule (the block is cheaper than on demand) under its field.
      await page.goto(`${base}/seller/offers/new`);
      await ready(page);
      await page.getByLabel('Resource').selectOption(resourceId);
      await page.getByLabel('Title').fill('Journey H200 reserved');
      await page.getByLabel('Pricing model').selectOption('reserved');
      await page.getByLabel('On-demand price per slot-hour').fill('10.00');
      await page.getByLabel('Reserved slot-hour (quantity)').fill('100');
      const reservedPrice = page.getByLabel('Reserved price per slot-hour');
      await reservedPrice.fill('12.00');
      await a11y('offer-new-reserved');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.getByTestId('form-error').waitFor();
      expect(
        await page
          .locator('.field-invalid', { has: page.locator('[name="reserved.slot_h.price"]') })
          .innerText(),
      ).toContain('cheaper than the on-demand price');
      await page.getByLabel('Reserved price per slot-hour').fill('8.00');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      await page.waitForURL(`${base}/seller/offers?created=1`);
      await ready(page);
      expect(
        await page
          .locator('tr', { hasText: 'Journey H200 reserved' })
          .getByTestId('offer-model')
          .innerText(),
      ).toBe('Reserved block + on demand');
      await a11y('seller-offers-models');

      // The lease runs: this seller's agent, with the key from the command above, meters the
      // hour (signed batches → Kafka → ingest); then settlement rates it and issues the invoice.
      await meterLease(api, {
        agentId,
        key: { kid: jwk.kid, privateJwk: jwk },
        lease: {
          leaseId: lease.id,
          cri: lease.cri,
          class: 'AI',
          catalogVersion: lease.catalogVersion,
        },
        start: new Date(lease.startsAt),
        accelerator: 'H200',
        buyerToken: buyer.token,
        expectScuAi: '2.967000000',
      });
      api.clock.set(new Date(new Date(lease.startsAt).getTime() + HOUR));
      const settled = await apiClient(api.url, await api.operatorToken()).post(
        '/v1/admin/settlement/run',
        {},
      );
      expect(settled.status).toBe(200);
      const invoice = (
        await buyer.client.get<{ items: InvoiceView[] }>('/v1/invoices')
      ).body.items.find((i) => i.leaseId === lease.id);
      if (!invoice) throw new Error(`no invoice for lease ${lease.id}`);
      // 1 slot-hour × 12.50 + 2.967 scu.ai × 12.00 (35.604 → 35.60).
      expect(invoice.total).toBe('48.10');

      // The same seller comes back later: logs in, sees the metered usage of their own
      // resource, their earnings from that lease, and sets up payouts.
      await context.clearCookies();
      await page.goto(`${base}/login?next=%2Fseller%2Fusage`);
      await ready(page);
      await a11y('login');
      await logIn(page, base, { email: sellerEmail, password: sellerPassword }, '/seller/usage');
      const usage = page.getByTestId('resource-usage').filter({ hasText: 'Journey H200 node' });
      expect(await page.getByTestId('resource-usage').count()).toBe(1);
      await usage
        .getByTestId('usage-chart')
        .locator('g[data-unit="scu.ai"] path')
        .waitFor({ state: 'attached' });
      expect(await usage.innerText()).toContain(formatDecimal('2.967000000'));
      await a11y('seller-usage');
      await screenshots(page, 'seller-usage');

      const sellerToken = (
        await apiClient(api.url).post<SessionView>('/v1/auth/login', {
          email: sellerEmail,
          password: sellerPassword,
        })
      ).body.accessToken;
      const earnings = (await apiClient(api.url, sellerToken).get<EarningsView>('/v1/earnings'))
        .body;
      const cny = earnings.balances.find((b) => b.currency === 'CNY');
      // The lease's 48.10 less the exchange's fee at the lease's take rate (5 %: 2.405 → 2.40).
      expect(lease.takeRate).toBe('0.05');
      expect(cny?.payable).toBe('45.70');
      await page.goto(`${base}/seller/earnings`);
      await ready(page);
      expect(await page.locator('.balance .amount').first().innerText()).toBe(
        formatMoney(cny?.payable ?? '', 'CNY'),
      );
      await page.getByRole('button', { name: 'Set up payouts with Stripe' }).click();
      await page.waitForURL(`${base}/seller/earnings?connect=done`);
      await ready(page);
      expect(await page.getByText(/Stripe Connect account acct_/).count()).toBe(1);
      await a11y('seller-earnings');
      await screenshots(page, 'seller-earnings');

      // The same pages in Chinese.
      await page.goto(`${base}/lang/zh?next=/seller/offers`);
      await page.locator('html[lang="zh-CN"]').waitFor({ state: 'attached' });
      expect(await page.locator('h1').innerText()).toBe('我的报价');
      await ready(page);
      await a11y('seller-offers-zh');
      await screenshots(page, 'seller-offers-zh');
    } catch (error) {
      await screenshots(page, 'seller-journey-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
