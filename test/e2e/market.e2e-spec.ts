import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import type { LeaseView, OfferView, Page as ApiPage } from '@suanli/contracts';
import { fundWallet, sellerWithOffer } from '../support/actors.js';
import { apiClient } from '../support/http.js';
import { startMarketApi, type TestMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

jest.setTimeout(180_000);

describe('market storefront', () => {
  let api: TestMarketApi;
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    api = await startMarketApi();
    web = await startWeb(api.url);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  it('search → offer → order: filters and sorts the catalog, orders the cheapest H100', async () => {
    // Two H100 ×8 offers at different prices (4.00 and 8.00 per scu.ai at full load).
    const cheap = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '31.65' }] });
    const dear = await sellerWithOffer(api, { prices: [{ unit: 'slot_h', price: '63.30' }] });
    const email = `market-buyer-${Date.now()}@suanli.test`;
    await apiClient(api.url, await api.operatorToken()).post('/v1/admin/organizations', {
      email,
      password: 'market-buyer-pass-1',
      displayName: 'Market buyer',
      organization: { name: 'Market buyer org', roles: ['buyer'], industry: 'M' },
    });
    const me = await apiClient(api.url).post<{ organization: { id: string } }>('/v1/auth/login', {
      email,
      password: 'market-buyer-pass-1',
    });
    await fundWallet(api, me.body.organization.id, 'CNY', '500.00');

    const page = await browser!.newPage({
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
    });
    page.setDefaultTimeout(20_000);
    const base = web!.url;
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('market-buyer-pass-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));

    // Search: H100, at least 8, sorted by normalized price.
    await page.goto(`${base}/`);
    await page.getByLabel('Accelerator').selectOption('H100');
    await page.getByLabel('At least').fill('8');
    await page.getByLabel('Sort by').selectOption('price');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/accelerator=H100/);
    // The results stream in behind the loading state of the client-side navigation.
    await page.waitForLoadState('networkidle');
    await page.locator(`tr[data-offer-id="${cheap.offer.id}"]`).waitFor();
    const rows = page.locator('tbody tr[data-offer-id]');
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-offer-id')));
    expect(ids.indexOf(cheap.offer.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(cheap.offer.id)).toBeLessThan(ids.indexOf(dear.offer.id));
    // The same search through the API agrees with the page.
    const viaApi = await apiClient(api.url).get<ApiPage<OfferView>>(
      '/v1/offers?accelerator=H100&minAccelerators=8&sort=price',
    );
    expect(viaApi.body.items.map((o) => o.id)).toEqual(ids);

    // Offer → order.
    await page.locator(`tr[data-offer-id="${cheap.offer.id}"] a.offer-title`).click();
    await page.waitForURL(`${base}/offers/${cheap.offer.id}`);
    await page.getByLabel('Hours').fill('2');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Order accepted.').waitFor();

    const leases = await apiClient(api.url).get<{ items: LeaseView[] }>('/v1/leases');
    expect(leases.status).toBe(401);
    const mine = await apiClient(
      api.url,
      (
        await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', {
          email,
          password: 'market-buyer-pass-1',
        })
      ).body.accessToken,
    ).get<{ items: LeaseView[] }>('/v1/leases');
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({
      offerId: cheap.offer.id,
      slots: 1,
      state: 'active',
    });
    await page.goto(`${base}/leases`);
    expect(await page.locator('tbody tr').count()).toBe(1);

    // The seller of the dearer offer pauses it from "My offers": it leaves the catalog.
    await page.context().clearCookies();
    await page.goto(`${base}/login?next=%2Fseller%2Foffers`);
    await page.getByLabel('Email').fill(dear.seller.email);
    await page.getByLabel('Password').fill(dear.seller.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/seller/offers`);
    const row = page.locator(`tr[data-offer-id="${dear.offer.id}"]`);
    expect(await row.getAttribute('data-status')).toBe('active');
    await row.getByRole('button', { name: 'Pause' }).click();
    await page.locator(`tr[data-offer-id="${dear.offer.id}"][data-status="paused"]`).waitFor();
    await page.goto(`${base}/?accelerator=H100&sort=price`);
    expect(await page.locator(`tr[data-offer-id="${dear.offer.id}"]`).count()).toBe(0);
    await page.close();
  });
});
