// The buyer's whole journey in Debian Chromium against the real market API, PostgreSQL and Kafka:
// sign up → top up → search → compare → order → watch usage → download an invoice. Every page on
// the way is checked with axe-core (no serious or critical violations) and at 390 px width.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import {
  phoneOverflow,
  ready,
  logIn,
  newJourneyContext,
  screenshots,
  seriousA11yViolations,
} from '../support/journey.js';
import { sellerWithOffer } from '../support/actors.js';
import { startMarketApi } from '../support/market-api.js';
import { runSkeletonScenario } from '../support/scenario.js';
import { startWeb } from '../support/web.js';
import { formatMoney } from '../../apps/web/lib/format.js';

// next build (when the storefront changed) and a busy machine: minutes, not seconds.
jest.setTimeout(600_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Scenario = Awaited<ReturnType<typeof runSkeletonScenario>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

describe('buyer journey', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let scenario: Scenario;
  let cheaper: Awaited<ReturnType<typeof sellerWithOffer>>;
  const saved = { ...process.env };

  beforeAll(async () => {
    // No Stripe key: the wallet's labelled test-mode top-up (credited at once).
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_WEBHOOK_SECRET;
    api = await startMarketApi();
    scenario = await runSkeletonScenario(api);
    cheaper = await sellerWithOffer(api, {
      currency: scenario.currency,
      prices: [{ unit: 'slot_h', price: '0.50' }],
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
    if (!browser || !web) throw new Error('setup failed');
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

      // 2. Top up the wallet.
      expect(await page.locator('.empty').first().innerText()).toMatch(/./);
      await page.getByLabel('Amount').fill('500.00');
      await page.getByLabel('Currency').selectOption(scenario.currency);
      await page.getByRole('button', { name: 'Top up', exact: true }).click();
      await page.waitForURL(`${base}/wallet?topup=success`);
      await ready(page);
      expect(await page.getByTestId(`available-${scenario.currency}`).innerText()).toBe(
        formatMoney('500.00', scenario.currency),
      );
      await a11y('wallet');
      await screenshots(page, 'wallet');

      // 3. Search the catalog, 4. compare two offers by normalized price.
      await page.goto(`${base}/?class=AI`);
      await page.getByRole('checkbox', { name: `Compare ${scenario.offerTitle}` }).check();
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

      // 5. Order the cheaper offer.
      await page.goto(`${base}/offers/${cheaper.offer.id}`);
      await page.getByRole('button', { name: 'Place order' }).click();
      await page.getByText('Order accepted.').waitFor();
      await a11y('offer');
      await screenshots(page, 'offer');

      // 6. The lease: its usage chart (nothing metered yet on this new lease).
      await page.getByRole('link', { name: 'View your leases' }).click();
      await page.waitForURL(`${base}/leases`);
      await ready(page);
      await a11y('leases');
      await page.getByTestId('lease-link').first().click();
      await page.waitForURL(/\/leases\/[0-9a-f-]{36}/);
      await ready(page);
      expect(await page.getByText('No usage metered yet.').count()).toBeGreaterThan(0);

      // The scenario's buyer has a lease with metered usage and an invoice.
      await context.clearCookies();
      await logIn(page, base, scenario.buyer, `/leases/${scenario.leaseId}`);
      const chart = page.getByTestId('usage-chart');
      expect(await chart.locator('g[data-unit="scu.ai"] path').count()).toBe(1);
      expect(await page.getByTestId('usage-total').allInnerTexts()).toContain('2.967000000');
      await a11y('lease-usage');
      await screenshots(page, 'lease-usage');

      // 7. The invoice: exact total, PDF download, and the link to its proof verification.
      await page.goto(`${base}/invoices/${scenario.invoiceId}`);
      const total = page.getByTestId('invoice-total');
      expect(await total.getAttribute('data-amount')).toBe(scenario.invoiceTotal);
      expect(await page.getByTestId('verify-invoice').getAttribute('href')).toBe('#verify');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('download-pdf').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/\.pdf$/);
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
