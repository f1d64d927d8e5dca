import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { pdfText } from '../../apps/market-api/src/settlement/testing/pdf-text.js';
import { formatMoney } from '../../apps/web/lib/format.js';
import { startMarketApi } from '../support/market-api.js';
import { runSkeletonScenario } from '../support/scenario.js';
import { startWeb } from '../support/web.js';

// Storefront payments: a wallet top-up (the labelled test-mode provider: no Stripe key) and the
// invoice's PDF and CSV downloads, read back.
jest.setTimeout(240_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Scenario = Awaited<ReturnType<typeof runSkeletonScenario>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

const SCREENSHOTS = fileURLToPath(new URL('../../.local/screenshots/', import.meta.url));

describe('storefront payments', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let scenario: Scenario;
  const saved = { ...process.env };

  beforeAll(async () => {
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_WEBHOOK_SECRET;
    process.env.PAYOUT_SCHEDULER = 'off';
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
    process.env = saved;
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  }

  it('tops up the wallet and downloads the invoice as PDF and CSV', async () => {
    if (!browser || !web) throw new Error('setup failed');
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const base = web.url;
    try {
      await page.goto(`${base}/wallet`);
      await page.waitForURL(/\/login\?next=%2Fwallet$/);
      await page.getByLabel('Email').fill(scenario.buyer.email);
      await page.getByLabel('Password').fill(scenario.buyer.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/wallet`);
      const available = page.getByTestId(`available-${scenario.currency}`);
      const before = await available.innerText();

      // Top up 250.00 (test mode: credited at once, no real money).
      await page.getByLabel('Amount').fill('250.00');
      await page.getByLabel('Currency').selectOption(scenario.currency);
      await page.getByRole('button', { name: 'Top up', exact: true }).click();
      await page.waitForURL(`${base}/wallet?topup=success`);
      expect(await page.getByTestId('topup-notice').innerText()).toBe('Top-up received.');
      const after = await available.innerText();
      expect(after).not.toBe(before);
      const rows = page.getByTestId('topups').locator('tbody tr');
      expect(await rows.count()).toBe(1);
      expect(await rows.first().innerText()).toContain(formatMoney('250.00', scenario.currency));
      expect(await rows.first().innerText()).toContain('test mode');
      await screenshot(page, 'wallet-topup-en');

      // The invoice: PDF and CSV downloads through the storefront (the session's token).
      await page.goto(`${base}/invoices/${scenario.invoiceId}`);
      const [pdf] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('download-pdf').click(),
      ]);
      expect(pdf.suggestedFilename()).toBe(`${scenario.invoiceNumber}.pdf`);
      const pdfBytes = readFileSync(await pdf.path());
      expect(pdfBytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = (await pdfText(new Uint8Array(pdfBytes))).pages.join(' ');
      expect(text).toContain(scenario.invoiceNumber);
      expect(text).toContain(`Total ${scenario.invoiceTotal} ${scenario.currency}`);

      const [csv] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('download-csv').click(),
      ]);
      expect(csv.suggestedFilename()).toBe(`${scenario.invoiceNumber}.csv`);
      const csvText = readFileSync(await csv.path(), 'utf8');
      expect(csvText).toContain(`invoice,${scenario.invoiceNumber}\r\n`);
      expect(csvText).toContain(`total,${scenario.invoiceTotal}\r\n`);
      await screenshot(page, 'invoice-downloads-en');
    } catch (error) {
      await screenshot(page, 'payments-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
