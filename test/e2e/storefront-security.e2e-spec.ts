import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signUpActor } from '../support/actors.js';
import { launchChromium } from '../support/browser.js';
import { DESKTOP, PHONE } from '../support/journey.js';
import { startMarketApi, type TestMarketApi } from '../support/market-api.js';
import { startWeb, type WebServer } from '../support/web.js';

// next build alone takes 20-60 s on a cold cache.
jest.setTimeout(240_000);

const EVIL = 'evil.example';

/**
 * Issue #18 in a real browser (Chromium): what the storefront does with hostile links. Where a
 * redirect would lead off the storefront, the browser is caught at the other origin (a route that
 * answers for evil.example), so the test sees where a victim would have landed.
 */
describe('storefront security (Chromium)', () => {
  let api: TestMarketApi;
  let web: WebServer;
  let browser: Browser;

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

  /** A context whose requests to evil.example are answered, and recorded, by the test. */
  async function context(
    viewport: { width: number; height: number },
    locale: string,
  ): Promise<{ ctx: BrowserContext; page: Page; evilHits: string[] }> {
    const ctx = await browser.newContext({ viewport, locale });
    const evilHits: string[] = [];
    await ctx.route(
      (url) => url.hostname === EVIL,
      async (route) => {
        evilHits.push(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>evil</h1>' });
      },
    );
    const page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    return { ctx, page, evilHits };
  }

  const HOSTILE = [
    '/%09/evil.example',
    '/%0a/evil.example',
    '/%0d/evil.example',
    '//evil.example',
    '/%5Cevil.example',
    '%5C%5Cevil.example',
    'https://evil.example/',
    '/%09/%09/evil.example',
  ];

  for (const [label, viewport] of [
    ['390 px', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`the language switch never leaves the storefront (${label}, zh and en)`, async () => {
      const { ctx, page, evilHits } = await context(viewport, 'en-US');
      try {
        for (const lang of ['en', 'zh']) {
          for (const next of HOSTILE) {
            await page.goto(`${web.url}/lang/${lang}?next=${next}`);
            expect(new URL(page.url()).origin).toBe(web.url);
          }
          // A real path is still honoured.
          await page.goto(`${web.url}/lang/${lang}?next=/login`);
          expect(page.url()).toBe(`${web.url}/login`);
          await page
            .locator(`html[lang="${lang === 'zh' ? 'zh-CN' : 'en'}"]`)
            .waitFor({ state: 'attached' });
        }
        expect(evilHits).toEqual([]);
      } finally {
        await ctx.close();
      }
    });
  }

  it('logging in with a hostile next lands on the storefront (390 px), a real next is kept', async () => {
    const buyer = await signUpActor(api, ['buyer']);
    const { ctx, page, evilHits } = await context(PHONE, 'en-US');
    try {
      for (const next of ['/%09/evil.example', '//evil.example', '/%5C/evil.example']) {
        await ctx.clearCookies();
        await page.goto(`${web.url}/login?next=${next}`);
        await page.getByLabel('Email').fill(buyer.email);
        await page.getByLabel('Password').fill(buyer.password);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL((u) => u.pathname !== '/login' || u.origin !== web.url);
        expect(new URL(page.url()).origin).toBe(web.url);
      }
      await ctx.clearCookies();
      await page.goto(`${web.url}/login?next=%2Fwallet`);
      await page.getByLabel('Email').fill(buyer.email);
      await page.getByLabel('Password').fill(buyer.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${web.url}/wallet`);
      expect(evilHits).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
