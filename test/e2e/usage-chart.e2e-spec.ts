// The storefront's usage views on the real stack: the buyer's lease page draws the metered usage
// (server-rendered SVG, refreshed periodically) with exact totals; the seller sees per-resource
// usage and its dead letters.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { startMarketApi } from '../support/market-api.js';
import { runSkeletonScenario } from '../support/scenario.js';
import { startWeb } from '../support/web.js';

jest.setTimeout(180_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Scenario = Awaited<ReturnType<typeof runSkeletonScenario>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

describe('storefront usage views', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let scenario: Scenario;

  beforeAll(async () => {
    api = await startMarketApi();
    scenario = await runSkeletonScenario(api);
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  async function login(page: Page, email: string, password: string, next: string) {
    if (!web) throw new Error('setup failed');
    await page.goto(`${web.url}${next}`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${web.url}${next}`);
  }

  it('shows the buyer a usage chart of the lease and the seller its usage and dead letters', async () => {
    if (!browser || !web) throw new Error('setup failed');
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await login(page, scenario.buyer.email, scenario.buyer.password, '/leases');
    await page.getByTestId('lease-link').first().click();
    await page.waitForURL(`${web.url}/leases/${scenario.leaseId}`);
    const chart = page.getByTestId('usage-chart');
    await chart.waitFor();
    expect(await chart.locator('g[data-unit="scu.ai"] path').count()).toBe(1);
    // 60 one-minute windows of 180 H200-seconds: 2.967 scu.ai in all, exactly.
    expect(await page.getByTestId('usage-total').allInnerTexts()).toContain('2.967000000');
    await page.getByRole('link', { name: 'per hour' }).click();
    await page.waitForURL(/granularity=hour/);
    await chart.locator('g[data-unit="scu.ai"] circle').first().waitFor();
    expect(await chart.locator('g[data-unit="scu.ai"] circle').count()).toBe(1);

    const seller = await browser.newContext({ locale: 'en-US' });
    const sp = await seller.newPage();
    sp.setDefaultTimeout(20_000);
    await login(sp, scenario.seller.email, scenario.seller.password, '/seller/usage');
    // The page streams in behind its loading state: wait for the chart before counting.
    await sp.getByTestId('resource-usage').waitFor();
    expect(await sp.getByTestId('resource-usage').count()).toBe(1);
    expect(
      await sp.getByTestId('resource-usage').locator('g[data-unit="scu.ai"] path').count(),
    ).toBe(1);
    expect(await sp.getByRole('heading', { name: 'Dead letters', exact: true }).count()).toBe(1);
    await context.close();
    await seller.close();
  });
});
