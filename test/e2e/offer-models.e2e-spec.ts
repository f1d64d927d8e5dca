import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { LeaseView } from '@suanli/contracts';
import { fundWallet, sellerWithOffer, signUpActor } from '../support/actors.js';
import { launchChromium } from '../support/browser.js';
import { startMarketApi, type TestMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

jest.setTimeout(180_000);

describe('offer page: pricing models, SLA and bids', () => {
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

  it('shows tiers, the SLA and the bid floor, and orders an interruptible offer with a bid', async () => {
    const tiered = await sellerWithOffer(api, {
      pricingModel: 'tiered',
      prices: [
        {
          unit: 'slot_h',
          tiers: [
            { upTo: '100', price: '30.00' },
            { upTo: null, price: '25.00' },
          ],
        },
      ],
    });
    const spot = await sellerWithOffer(api, {
      pricingModel: 'interruptible',
      prices: [{ unit: 'slot_h', price: '20.00' }],
      sla: {
        target: '99.9',
        schedule: [
          { below: '99.9', credit: '10' },
          { below: '99', credit: '25' },
        ],
      },
    });
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '500.00');

    const page = await browser!.newPage({
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
    });
    page.setDefaultTimeout(20_000);
    const base = web!.url;
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(buyer.email);
    await page.getByLabel('Password').fill(buyer.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));

    // Tiered: the graduated tiers and the platform's default SLA.
    await page.goto(`${base}/offers/${tiered.offer.id}`);
    expect(await page.getByTestId('offer-model').textContent()).toBe('Tiered (graduated)');
    const tiers = await page.getByTestId('offer-tiers').locator('li').allTextContents();
    expect(tiers).toEqual(['up to 100: ¥30.00', 'beyond: ¥25.00']);
    expect(await page.getByTestId('offer-sla').textContent()).toContain('platform default');
    expect(await page.getByLabel('Your bid per slot-hour').count()).toBe(0);

    // Interruptible: the seller's SLA, the floor, and an order carrying a bid above it.
    await page.goto(`${base}/offers/${spot.offer.id}`);
    expect(await page.getByTestId('offer-model').textContent()).toBe('Interruptible (bids)');
    const sla = await page.getByTestId('offer-sla').textContent();
    expect(sla).toContain('Availability target 99.9 %');
    expect(sla).toContain('below 99 %: 25 % credit');
    expect(sla).not.toContain('platform default');
    const bid = page.getByLabel('Your bid per slot-hour');
    expect(await bid.inputValue()).toBe('20.00');
    await bid.fill('22.50');
    await page.getByLabel('Hours').fill('2');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('Order accepted.').waitFor();

    const leases = await buyer.client.get<{ items: LeaseView[] }>('/v1/leases');
    expect(leases.body.items).toHaveLength(1);
    expect(leases.body.items[0]).toMatchObject({ offerId: spot.offer.id, bid: '22.50' });
    await page.close();
  });
});
