import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signUpActor } from '../support/actors.js';
import { launchChromium } from '../support/browser.js';
import { DESKTOP, PHONE } from '../support/journey.js';
import { apiClient } from '../support/http.js';
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

  // Issue #18, item 8: a Server Action posted from another origin answered 500.
  it('refuses a Server Action posted from another origin with 403 (a form and a fetch action)', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    try {
      // A page on evil.example that posts a multipart form (what a no-JS action is) to the
      // storefront's log-in page as soon as it loads.
      await ctx.route(
        (url) => url.hostname === EVIL,
        (route) =>
          route.fulfill({
            status: 200,
            contentType: 'text/html',
            body:
              `<form id="f" method="post" enctype="multipart/form-data" action="${web.url}/login">` +
              '<input name="email" value="victim@suanli.test"></form>' +
              '<script>document.getElementById("f").submit()</script>',
          }),
      );
      const page = await ctx.newPage();
      const answered = page.waitForResponse(
        (r) => r.url() === `${web.url}/login` && r.request().method() === 'POST',
        { timeout: 60_000 },
      );
      await page.goto(`http://${EVIL}/csrf`);
      const response = await answered;
      expect((await response.request().allHeaders()).origin).toBe(`http://${EVIL}`);
      expect(response.status()).toBe(403);
    } finally {
      await ctx.close();
    }
    // What the storefront's own client sends for an action, from the wrong origin.
    for (const origin of [`https://${EVIL}`, 'null']) {
      const r = await fetch(`${web.url}/login`, {
        method: 'POST',
        headers: {
          origin,
          'next-action': '7f'.repeat(21),
          'content-type': 'text/plain;charset=UTF-8',
        },
        body: '[]',
      });
      expect(r.status).toBe(403);
    }
  });

  for (const [label, viewport, lang, logOut] of [
    ['390 px, en', PHONE, 'en', 'Log out'],
    ['desktop, zh', DESKTOP, 'zh', '退出'],
  ] as const) {
    it(`log-out revokes the session at the API, not only the cookies (${label})`, async () => {
      const buyer = await signUpActor(api, ['buyer']);
      const { ctx, page } = await context(viewport, 'en-US');
      try {
        await page.goto(`${web.url}/login?next=%2Fwallet`);
        await page.getByLabel('Email').fill(buyer.email);
        await page.getByLabel('Password').fill(buyer.password);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL(`${web.url}/wallet`);
        await page.goto(`${web.url}/lang/${lang}?next=%2Fwallet`);
        await page.waitForURL(`${web.url}/wallet`);
        const refreshToken = (await ctx.cookies()).find((c) => c.name === 'sx_refresh')?.value;
        expect(refreshToken).toBeTruthy();

        await page.getByRole('button', { name: logOut }).click();
        await page.waitForURL(`${web.url}/`);
        expect((await ctx.cookies()).map((c) => c.name)).not.toContain('sx_refresh');
        // The stolen copy of the cookie is dead too: the API revoked its family.
        const refreshed = await apiClient(api.url).post<{ error: { code: string } }>(
          '/v1/auth/refresh',
          { refreshToken },
        );
        expect(refreshed.status).toBe(401);
      } finally {
        await ctx.close();
      }
    });
  }
});
