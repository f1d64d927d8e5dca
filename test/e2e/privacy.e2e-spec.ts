import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import type { InvoiceView, OrderView, Page as ApiPage, SessionView } from '@suanli/contracts';
import { reportOnline } from '../../apps/market-api/src/settlement/testing/settlement-fixtures.js';
import { fundWallet, sellerWithOffer } from '../support/actors.js';
import { launchChromium } from '../support/browser.js';
import { apiClient } from '../support/http.js';
import { startMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

// Storefront: the invoice's "verify proof" section, the market statistics page (charts, k = 5
// suppression) and the seller's pseudonymized settlement records.
jest.setTimeout(300_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;
const HOUR = 3_600_000;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Serious or critical WCAG 2.1 A/AA violations (axe-core) in the page's `<main>` (what these
 * pages add; the site header is the journey tests' concern), as `<id> <target>` lines.
 */
async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  // A string, not a function: the test project is compiled without the DOM library.
  const found = (await page.evaluate(
    `axe.run(document.querySelector('main') || document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)`,
  )) as { id: string; impact: string | null; nodes: { target: unknown[] }[] }[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} ${JSON.stringify(v.nodes[0]?.target)}`);
}

/** Elements sticking out of a 390 px viewport outside any scrolling box. */
async function phoneOverflow(page: Page): Promise<string[]> {
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 390, height: 844 });
  const out = (await page.evaluate(`(() => {
    const w = window.innerWidth;
    if (document.documentElement.scrollWidth <= w + 1) return [];
    const scrolls = (el) => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const found = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 1 && r.width > 0 && !scrolls(el)) found.push(el.tagName + '.' + el.className);
      if (found.length >= 5) break;
    }
    return found.length ? found : ['(document wider than the viewport)'];
  })()`)) as string[];
  await page.setViewportSize(size);
  return out;
}

const SCREENSHOTS = fileURLToPath(new URL('../../.local/screenshots/', import.meta.url));

describe('storefront: verifiable and private settlement records', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  const buyer = {
    email: `wang.fang.${Date.now()}@buyer-secret.test`,
    password: 'buyer-password-123',
    orgId: '',
  };
  let seller: { email: string; password: string };
  let invoiceId = '';

  beforeAll(async () => {
    process.env.PAYOUT_SCHEDULER = 'off';
    api = await startMarketApi();
    const ds = api.app.get(DataSource);
    const signup = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email: buyer.email,
      password: buyer.password,
      displayName: 'Wang Fang',
      organization: { name: 'Wang Fang Studio', roles: ['buyer'], industry: 'I' },
    });
    buyer.orgId = signup.body.organization.id;
    const asBuyer = apiClient(api.url, signup.body.accessToken);
    // Five sellers with five distinct buyers (the first is ours) make one visible CNY cell;
    // one USD trade stays suppressed.
    const t0 = api.clock.now();
    const trades: { offerId: string; client: ReturnType<typeof apiClient>; orgId: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const currency = i < 5 ? 'CNY' : 'USD';
      const s = await sellerWithOffer(api, {
        currency,
        prices: [{ unit: 'slot_h', price: `${10 + i}.00` }],
      });
      if (i === 0) seller = { email: s.seller.email, password: s.seller.password };
      let who = { client: asBuyer, orgId: buyer.orgId };
      if (i > 0) {
        const other = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
          email: `other-${i}-${Date.now()}@suanli.test`,
          password: 'other-password-123',
          displayName: `other ${i}`,
          organization: { name: `other ${i}`, roles: ['buyer'], industry: 'I' },
        });
        who = {
          client: apiClient(api.url, other.body.accessToken),
          orgId: other.body.organization.id,
        };
      }
      await fundWallet(api, who.orgId, currency, '100.00');
      trades.push({ offerId: s.offer.id, ...who });
    }
    for (const tr of trades) {
      const order = await tr.client.postIdempotent<OrderView>('/v1/orders', {
        offerId: tr.offerId,
        slots: 1,
        hours: 1,
      });
      if (order.status !== 201) throw new Error(`order: ${JSON.stringify(order.body)}`);
      const [{ resource_id: r }] = (await ds.query('SELECT resource_id FROM leases WHERE id = $1', [
        order.body.lease.id,
      ])) as { resource_id: string }[];
      await reportOnline(ds, r, t0, new Date(t0.getTime() + HOUR));
    }
    api.clock.advance(HOUR);
    await apiClient(api.url, await api.operatorToken()).post('/v1/admin/settlement/run', {});
    invoiceId = (await asBuyer.get<ApiPage<InvoiceView>>('/v1/invoices')).body.items[0].id;
    web = await startWeb(api.url);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000); // a storefront build on a loaded machine takes minutes

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  /** No serious accessibility violations, and the page fits a phone's width. */
  async function accessible(page: Page, name: string) {
    expect({ page: name, violations: await seriousA11yViolations(page) }).toEqual({
      page: name,
      violations: [],
    });
    expect({ page: name, overflow: await phoneOverflow(page) }).toEqual({
      page: name,
      overflow: [],
    });
  }

  async function login(page: Page, path: string, who: { email: string; password: string }) {
    await page.goto(`${web?.url}${path}`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${web?.url}${path}`);
  }

  it('shows the invoice proof verified, the statistics with suppressed cells, and pseudonyms to the seller', async () => {
    if (!browser || !web) throw new Error('setup failed');
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    try {
      await login(page, `/invoices/${invoiceId}`, buyer);
      const proof = page.getByTestId('proof');
      await expect(proof.getByTestId('proof-verified').innerText()).resolves.toContain('Verified');
      expect(await proof.getByTestId('proof-leaf-index').innerText()).toMatch(/^\d+$/);
      expect(await proof.innerText()).toContain('npx suanli verify record');
      await accessible(page, 'invoice-proof');
      await page.screenshot({ path: `${SCREENSHOTS}invoice-proof-en.png`, fullPage: true });

      await page.goto(`${web.url}/stats?bucket=day`);
      expect(await page.getByTestId('stats-k').innerText()).toContain('k = 5');
      expect(await page.getByTestId('stats-chart').count()).toBe(4); // price + volume × 2 currencies
      const rows = page.getByTestId('stats-table').locator('tbody tr');
      expect(await rows.count()).toBe(2);
      const cny = page.locator('[data-testid="stats-table"] tbody tr[data-suppressed="false"]');
      expect(await cny.innerText()).toContain('¥60.00'); // 10 + 11 + 12 + 13 + 14
      expect(await cny.innerText()).toContain('¥12.00');
      const usd = page.locator('[data-testid="stats-table"] tbody tr[data-suppressed="true"]');
      expect(await usd.innerText()).toContain('suppressed');
      expect(await usd.innerText()).not.toContain('15.00');
      await accessible(page, 'stats');
      await page.screenshot({ path: `${SCREENSHOTS}stats-en.png`, fullPage: true });

      const sellerContext = await browser.newContext({ locale: 'en-US' });
      const sp = await sellerContext.newPage();
      sp.setDefaultTimeout(30_000);
      await login(sp, '/seller/records', seller);
      const table = sp.getByTestId('seller-records');
      // The page streams in behind its loading state after the log-in redirect.
      await table.locator('tbody tr').nth(1).waitFor();
      expect(await table.locator('tbody tr').count()).toBe(2); // debit note + invoice
      for (const b of await sp.getByTestId('record-buyer').allInnerTexts()) {
        expect(b).toMatch(/^buyer-[0-9a-f]{16}$/);
      }
      const html = await sp.content();
      for (const secret of [buyer.email, buyer.orgId, 'Wang Fang']) {
        expect(html.includes(secret)).toBe(false);
      }
      await accessible(sp, 'seller-records');
      await sp.screenshot({ path: `${SCREENSHOTS}seller-records-en.png`, fullPage: true });
      await sellerContext.close();
    } catch (error) {
      await page
        .screenshot({ path: `${SCREENSHOTS}privacy-failure.png`, fullPage: true })
        .catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
