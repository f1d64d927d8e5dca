// The buyer's whole journey in Debian Chromium against the real market API, PostgreSQL, Kafka and
// stripe-mock, one buyer from start to end: sign up → top up through Stripe Checkout → search →
// compare → order → watch the lease's usage arrive (real metering agent → Kafka → ingest) →
// settlement → download the invoice and verify its proof. Every page on the way is checked with
// axe-core (no serious or critical violations) and at 390 px width.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { InvoiceView, LeaseView, SessionView } from '@suanli/contracts';
import { launchChromium } from '../support/browser.js';
import { apiClient } from '../support/http.js';
import {
  phoneOverflow,
  ready,
  newJourneyContext,
  screenshots,
  seriousA11yViolations,
} from '../support/journey.js';
import { sellerWithOffer } from '../support/actors.js';
import { startMarketApi } from '../support/market-api.js';
import { meterLease } from '../support/scenario.js';
import { startWeb } from '../support/web.js';
import { formatMoney } from '../../apps/web/lib/format.js';
import { checkoutSession, deliverStripeEvent, stripeEvent } from '../../tools/dev/stripe-events.js';

const WEBHOOK_SECRET = 'whsec_buyer_journey';
const HOUR = 3600_000;

// next build (when the storefront changed) and a busy machine: minutes, not seconds.
jest.setTimeout(600_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

describe('buyer journey', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let dearer: Awaited<ReturnType<typeof sellerWithOffer>>;
  let cheaper: Awaited<ReturnType<typeof sellerWithOffer>>;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Stripe on (stripe-mock at STRIPE_API_BASE): top-ups go through Checkout and are credited
    // by the signed webhook only.
    if (!process.env.STRIPE_API_BASE) throw new Error('STRIPE_API_BASE is not set (npm test)');
    process.env.STRIPE_SECRET_KEY = 'sk_test_buyerjourney';
    process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
    process.env.PAYOUT_SCHEDULER = 'off';
    api = await startMarketApi();
    dearer = await sellerWithOffer(api, {
      title: `H100 ×8 Shanghai ${Date.now()}`,
      prices: [
        { unit: 'slot_h', price: '5.00' },
        { unit: 'scu.ai', price: '12.00' },
      ],
    });
    cheaper = await sellerWithOffer(api, {
      title: `H100 ×8 Pudong value ${Date.now()}`,
      prices: [
        { unit: 'slot_h', price: '0.50' },
        { unit: 'scu.ai', price: '1.00' },
      ],
    });
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
    process.env = saved;
  });

  it('buyer journey: sign up, top up, search, compare, order, usage, invoice', async () => {
    if (!browser || !web || !api) throw new Error('setup failed');
    const market = api;
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
      // 1. Sign up: fields validate as they are typed, then the API creates the account.
      await page.goto(`${base}/`);
      await page.getByRole('link', { name: 'Sign up' }).click();
      await page.waitForURL(`${base}/signup`);
      await ready(page);
      const email = page.getByLabel('Email');
      await email.fill('not-an-email');
      expect(await page.locator('.field-error').first().innerText()).toContain('e-mail address');
      await page.getByLabel('Password').fill('short');
      expect(await page.getByText('At least 10 characters.').count()).toBeGreaterThan(0);
      await a11y('signup');
      await screenshots(page, 'signup');
      const who = `buyer-${Date.now()}@journey.test`;
      await email.fill(who);
      await page.getByLabel('Password').fill('journey-password-1');
      await page.getByLabel('Your name').fill('Journey Buyer');
      await page.getByLabel('Organization').fill('Journey Labs');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${base}/wallet`);
      await ready(page);

      // A second sign-up with the same e-mail shows the API's error on the e-mail field.
      const other = await browser.newContext({ locale: 'en-US' });
      const op = await other.newPage();
      await op.goto(`${base}/signup`);
      await op.getByLabel('Email').fill(who);
      await op.getByLabel('Password').fill('journey-password-1');
      await op.getByLabel('Your name').fill('Someone');
      await op.getByLabel('Organization').fill('Other');
      await op.getByRole('button', { name: 'Create account' }).click();
      await op.getByTestId('form-error').waitFor();
      expect(await op.getByTestId('form-error').innerText()).toContain('already exists');
      expect(await op.locator('.field-invalid input[name="email"]').count()).toBe(1);
      await other.close();

      // 2. Top up the wallet through Stripe Checkout. stripe-mock hosts no checkout page, so this
      // test plays Stripe's part there: the payment completes with a signed
      // `checkout.session.completed` delivery to the API's webhook, then the buyer returns to the
      // success URL the API gave Checkout.
      expect(await page.locator('.empty').first().innerText()).toMatch(/./);
      const buyerToken = (
        await apiClient(market.url).post<SessionView>('/v1/auth/login', {
          email: who,
          password: 'journey-password-1',
        })
      ).body.accessToken;
      const asBuyer = apiClient(market.url, buyerToken);
      const checkout: string[] = [];
      await page.route('https://checkout.stripe.com/**', async (route) => {
        checkout.push(route.request().url());
        await route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><html lang="en"><title>Checkout</title><h1>Stripe Checkout</h1></html>',
        });
      });
      await page.getByLabel('Amount').fill('500.00');
      await page.getByLabel('Currency').selectOption('CNY');
      await page.getByRole('button', { name: 'Top up', exact: true }).click();
      await page.waitForURL(/^https:\/\/checkout\.stripe\.com\//);
      expect(checkout).toHaveLength(1);
      const topUps = await asBuyer.get<{
        items: { id: string; status: string; amount: string; provider: string }[];
      }>('/v1/wallet/top-ups');
      expect(topUps.body.items).toMatchObject([
        { status: 'open', amount: '500.00', provider: 'stripe' },
      ]);
      const topUpId = topUps.body.items[0].id;
      const payload = stripeEvent(
        'checkout.session.completed',
        checkoutSession({ topUpId, amountTotal: 50000, currency: 'cny' }),
        { created: Math.floor(market.clock.now().getTime() / 1000) },
      );
      const delivered = await deliverStripeEvent(
        `${market.url}/v1/stripe/webhook`,
        payload,
        WEBHOOK_SECRET,
      );
      expect(delivered.status).toBe(200);
      await page.goto(`${base}/wallet?top-up=${topUpId}&status=success`);
      await ready(page);
      expect(await page.getByTestId('topup-notice').innerText()).toBe('Top-up received.');
      expect(await page.getByTestId('available-CNY').innerText()).toBe(
        formatMoney('500.00', 'CNY'),
      );
      expect(await page.locator(`[data-top-up-id="${topUpId}"]`).getAttribute('data-status')).toBe(
        'paid',
      );
      await a11y('wallet');
      await screenshots(page, 'wallet');

      // 3. Search the catalog, 4. compare two offers by normalized price.
      await page.goto(`${base}/?class=AI`);
      await ready(page);
      await page.getByRole('checkbox', { name: `Compare ${dearer.offer.title}` }).check();
      await page.getByRole('checkbox', { name: `Compare ${cheaper.offer.title}` }).check();
      await a11y('catalog');
      await screenshots(page, 'catalog');
      await page.getByTestId('compare-submit').click();
      await page.waitForURL(/\/compare\?ids=/);
      await ready(page);
      const table = page.getByTestId('compare-table');
      expect(await table.locator('thead th[data-offer-id]').count()).toBe(2);
      expect(await page.getByTestId('compare-normalized').count()).toBe(2);
      const cheapestHeader = table.locator('thead th', { has: page.getByTestId('cheapest') });
      expect(await cheapestHeader.getAttribute('data-offer-id')).toBe(cheaper.offer.id);
      expect(await page.getByTestId('compare-chart').locator('li').count()).toBe(2);
      await a11y('compare');
      await screenshots(page, 'compare');

      // 5. Order the cheaper offer (one slot for an hour).
      await page.goto(`${base}/offers/${cheaper.offer.id}`);
      await ready(page);
      await a11y('offer');
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.getByText('Order accepted.').waitFor();
      await screenshots(page, 'offer');

      // 6. The lease: nothing metered yet.
      await page.getByRole('link', { name: 'View your leases' }).click();
      await page.waitForURL(`${base}/leases`);
      await ready(page);
      await a11y('leases');
      await page.getByTestId('lease-link').first().click();
      await page.waitForURL(/\/leases\/[0-9a-f-]{36}/);
      await ready(page);
      const leaseId = /\/leases\/([0-9a-f-]{36})/.exec(page.url())?.[1] ?? '';
      expect(await page.getByText('No usage metered yet.').count()).toBeGreaterThan(0);
      await a11y('lease-empty');

      // The seller's metering agent reports the hour (signed batches → Kafka → ingest); the open
      // lease page picks it up by itself.
      const lease = (await asBuyer.get<LeaseView>(`/v1/leases/${leaseId}`)).body;
      expect(lease).toMatchObject({ offerId: cheaper.offer.id, slots: 1 });
      await meterLease(market, {
        agentId: cheaper.agent.id,
        key: cheaper.key,
        lease: {
          leaseId,
          cri: lease.cri,
          class: 'AI',
          catalogVersion: lease.catalogVersion,
        },
        start: new Date(lease.startsAt),
        accelerator: 'H100',
        buyerToken,
        expectScuAi: '2.967000000',
      });
      const chart = page.getByTestId('usage-chart');
      // (attached, not visible: a constant rate draws a flat line, an empty bounding box)
      await chart
        .locator('g[data-unit="scu.ai"] path')
        .waitFor({ state: 'attached', timeout: 90_000 });
      expect(await chart.locator('g[data-unit="scu.ai"] path').count()).toBe(1);
      expect(await page.getByTestId('usage-total').allInnerTexts()).toContain('2.967000000');
      await a11y('lease-usage');
      await screenshots(page, 'lease-usage');

      // 7. The hour is over: settlement rates it and issues the lease's invoice.
      market.clock.set(new Date(new Date(lease.startsAt).getTime() + HOUR));
      const settled = await apiClient(market.url, await market.operatorToken()).post(
        '/v1/admin/settlement/run',
        {},
      );
      expect(settled.status).toBe(200);
      const invoice = (await asBuyer.get<{ items: InvoiceView[] }>('/v1/invoices')).body.items.find(
        (i) => i.leaseId === leaseId,
      );
      if (!invoice) throw new Error(`no invoice for lease ${leaseId}`);

      // 8. The buyer finds it, downloads it and verifies its proof.
      await page.goto(`${base}/invoices`);
      await ready(page);
      await a11y('invoices');
      await page.locator(`a[href="/invoices/${invoice.id}"]`).first().click();
      await page.waitForURL(`${base}/invoices/${invoice.id}`);
      await ready(page);
      const total = page.getByTestId('invoice-total');
      expect(await total.getAttribute('data-amount')).toBe(invoice.total);
      expect(await total.innerText()).toBe(formatMoney(invoice.total, 'CNY'));
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('download-pdf').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/\.pdf$/);
      expect(await page.getByTestId('verify-invoice').getAttribute('href')).toBe('#verify');
      await page.getByTestId('verify-invoice').click();
      const proof = page.getByTestId('proof');
      expect(await proof.getByTestId('proof-verified').innerText()).toContain('Verified');
      expect(await proof.getByTestId('proof-leaf-index').innerText()).toMatch(/^\d+$/);
      await a11y('invoice');
      await screenshots(page, 'invoice');
    } catch (error) {
      await screenshots(page, 'buyer-journey-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
