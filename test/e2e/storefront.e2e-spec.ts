import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { formatMoney } from '../../apps/web/lib/format.js';
import { startMarketApi } from '../support/market-api.js';
import { runSkeletonScenario } from '../support/scenario.js';
import { startWeb } from '../support/web.js';

// next build alone takes 20-60 s on a cold cache.
jest.setTimeout(180_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Scenario = Awaited<ReturnType<typeof runSkeletonScenario>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

const SCREENSHOTS = fileURLToPath(new URL('../../.local/screenshots/', import.meta.url));

describe('storefront', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let scenario: Scenario;

  beforeAll(async () => {
    api = await startMarketApi();
    scenario = await runSkeletonScenario(api);
    web = await startWeb(api.url);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  }

  it('storefront: catalog → offer → login → invoice, then switches to Chinese', async () => {
    if (!browser || !web) throw new Error('setup failed');
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 860 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const base = web.url;

    try {
      // Catalog: the scenario's offer is listed and links to its page.
      await page.goto(`${base}/`);
      expect(await page.locator('h1').innerText()).toBe('Compute catalog');
      await screenshot(page, 'catalog-en');
      // Its resource's live status from the agent's heartbeats (docs/decisions.md).
      const row = page.locator('tr', { hasText: scenario.offerTitle }).first();
      expect(await row.getByTestId('offer-live').innerText()).toBe('Online');
      const offerLink = page.getByRole('link', { name: scenario.offerTitle, exact: true });
      await offerLink.first().click();
      await page.waitForURL(`${base}/offers/${scenario.offerId}`);

      // Offer page: title, CRI (linking to the resolver) and a price in the offer's currency.
      expect(await page.locator('h1').innerText()).toContain(scenario.offerTitle);
      const cri = page.getByTestId('offer-cri');
      expect(await cri.innerText()).toMatch(/^CRI1:/);
      expect(await cri.getAttribute('href')).toMatch(/^\/cri\/CRI1:/);
      const price = await page.getByTestId('offer-price').first().innerText();
      expect(price).toMatch(/\d/);
      const currencyPrefix = formatMoney('0', scenario.currency).replace(/[\d.,]+$/, '');
      expect(price.startsWith(currencyPrefix)).toBe(true);
      expect(await page.getByTestId('offer-live').getAttribute('data-status')).toBe('online');
      expect(await page.getByTestId('offer-live').innerText()).toBe('Online');
      await screenshot(page, 'offer-en');

      // The CRI resolves through the public identifier gateway.
      const criText = await cri.innerText();
      await cri.click();
      await page.waitForURL(/\/cri\/CRI1:/);
      expect(await page.getByTestId('resolved-cri').innerText()).toBe(criText);

      // API errors are shown as a notice with the API's message, not a crash page.
      await page.goto(`${base}/cri/NOT-A-CRI`);
      expect(await page.locator('.notice-error').innerText()).toMatch(/Invalid|Not found/);

      // A buyer page without a session goes to /login and back after logging in.
      await page.goto(`${base}/invoices`);
      await page.waitForURL(/\/login\?next=%2Finvoices$/);
      await page.getByLabel('Email').fill(scenario.buyer.email);
      await page.getByLabel('Password').fill(`${scenario.buyer.password}-wrong`);
      await page.getByRole('button', { name: 'Log in' }).click();
      expect(await page.locator('.notice-error').innerText()).toContain('Login failed');
      await page.getByLabel('Password').fill(scenario.buyer.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/invoices`);

      // Invoices list → the scenario's invoice.
      await page.getByRole('link', { name: scenario.invoiceNumber, exact: true }).click();
      await page.waitForURL(`${base}/invoices/${scenario.invoiceId}`);
      expect(await page.getByTestId('invoice-number').innerText()).toBe(scenario.invoiceNumber);
      const total = page.getByTestId('invoice-total');
      expect(await total.getAttribute('data-amount')).toBe(scenario.invoiceTotal);
      expect(await total.innerText()).toBe(formatMoney(scenario.invoiceTotal, scenario.currency));
      expect(await page.getByRole('columnheader', { name: 'Unit price' }).count()).toBe(1);
      await screenshot(page, 'invoice-en');

      // Switch to Chinese: same page, Chinese labels, same amount.
      await page.getByRole('link', { name: '中文' }).click();
      await page.locator('html[lang="zh-CN"]').waitFor({ state: 'attached' });
      expect(page.url()).toBe(`${base}/invoices/${scenario.invoiceId}`);
      // The Chinese page streams in behind its loading state.
      await page.getByRole('columnheader', { name: '单价' }).waitFor();
      expect(await page.getByRole('columnheader', { name: '单价' }).count()).toBe(1);
      expect(await page.getByRole('link', { name: '发票', exact: true }).count()).toBe(1);
      expect(await page.getByTestId('invoice-total').innerText()).toBe(
        formatMoney(scenario.invoiceTotal, scenario.currency),
      );
      await screenshot(page, 'invoice-zh');

      // Still in Chinese: order one more slot-hour (Server Action with an Idempotency-Key).
      await page.goto(`${base}/offers/${scenario.offerId}`);
      expect(await page.getByTestId('offer-live').innerText()).toBe('在线');
      await page.getByRole('button', { name: '提交订单' }).click();
      await page.getByText('订单已受理。').waitFor();

      // An expired access cookie is renewed from the refresh token before the page renders,
      // also when two requests carry the same (rotating) refresh token at once, as when the
      // order notice's <Link> prefetch races the next navigation: neither signs the user out.
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'sx_access')?.httpOnly).toBe(true);
      const oldRefresh = cookies.find((c) => c.name === 'sx_refresh')?.value;
      expect(oldRefresh).toBeTruthy();
      await context.clearCookies({ name: 'sx_access' });
      const second = await context.newPage();
      try {
        await Promise.all([page.goto(`${base}/leases`), second.goto(`${base}/wallet`)]);
        expect(second.url()).toBe(`${base}/wallet`);
        expect(await second.locator('h1').innerText()).toBe('钱包');
      } finally {
        await second.close();
      }
      const renewed = await context.cookies();
      expect(renewed.find((c) => c.name === 'sx_access')?.value).toBeTruthy();
      const newRefresh = renewed.find((c) => c.name === 'sx_refresh')?.value;
      expect(newRefresh).toBeTruthy();
      expect(newRefresh).not.toBe(oldRefresh);
      expect(page.url()).toBe(`${base}/leases`);
      expect(await page.locator('tbody tr').count()).toBe(2);
      await screenshot(page, 'leases-zh');
      await page.goto(`${base}/wallet`);
      expect(await page.locator('h1').innerText()).toBe('钱包');
      await screenshot(page, 'wallet-zh');
    } catch (error) {
      await screenshot(page, 'storefront-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
