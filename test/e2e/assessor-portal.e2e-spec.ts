import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { generateSigningKey, signJws } from '@suanli/crypto';
import { apiClient } from '../support/http.js';
import { sellerWithOffer } from '../support/actors.js';
import { startMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

// next build alone takes 20-60 s on a cold cache.
jest.setTimeout(300_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;
type Market = Awaited<ReturnType<typeof sellerWithOffer>>;

const SCREENSHOTS = fileURLToPath(new URL('../../.local/screenshots/', import.meta.url));

describe('assessor portal', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let market: Market;
  let dir: string;
  const assessor = {
    email: `portal-assessor-${Date.now()}@suanli.test`,
    password: 'assessor-password-1',
    orgId: '',
  };

  beforeAll(async () => {
    api = await startMarketApi();
    // The portal's form signs with the storefront's own clock: keep the API's clock on it.
    api.clock.set(new Date());
    market = await sellerWithOffer(api);
    const created = await apiClient(api.url, await api.operatorToken()).post<{
      organization: { id: string };
    }>('/v1/admin/organizations', {
      email: assessor.email,
      password: assessor.password,
      displayName: 'Portal assessor',
      organization: { name: 'Portal Lab', roles: ['assessor'], industry: 'M' },
    });
    if (created.status !== 201) throw new Error(`admit: ${created.status}`);
    assessor.orgId = created.body.organization.id;
    web = await startWeb(api.url);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'suanli-portal-'));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  }

  it('assessor portal: keys, publish (pasted, file, form), refusal, revoke, retire; scores in the catalog', async () => {
    if (!browser || !web || !api) throw new Error('setup failed');
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const base = web.url;
    const key = await generateSigningKey();
    const now = Math.floor(api.clock.now().getTime() / 1000);
    const payload = (over: Record<string, unknown> = {}) => ({
      iss: assessor.orgId,
      sub: market.resource.cri,
      iat: now,
      exp: now + 30 * 86400,
      jti: randomUUID(),
      method: 'uptime-probe.v1',
      metrics: { availability: '0.999' },
      ...over,
    });
    const notice = () => page.getByTestId('assessor-notice').innerText();
    const historyRows = () => page.locator('[data-testid="assessor-history"] tbody tr');

    try {
      // Without a session the portal sends the visitor to log in, then back.
      await page.goto(`${base}/assessor`);
      await page.waitForURL(/\/login\?next=%2Fassessor$/);
      await page.getByLabel('Email').fill(assessor.email);
      await page.getByLabel('Password').fill(assessor.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/assessor`);
      expect(await page.locator('h1').innerText()).toBe('Assessor portal');
      expect(await page.getByRole('link', { name: 'Assessor', exact: true }).count()).toBe(1);
      expect(await page.getByText('No keys registered yet.').count()).toBe(1);

      // Register the public key.
      await page.getByLabel('Public JWK (JSON)').fill(JSON.stringify(key.publicJwk));
      await page.getByRole('button', { name: 'Register key' }).click();
      await page.waitForURL(/notice=keyRegistered/);
      expect(await notice()).toBe('Key registered.');
      expect(await page.locator(`[data-kid="${key.kid}"]`).innerText()).toContain('active');

      // Publish a pasted JWS.
      const pasted = await signJws(payload(), key.privateJwk);
      await page.getByLabel('Compact JWS').fill(pasted);
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.waitForURL(/notice=published/);
      expect(await notice()).toBe('Evaluation published.');
      expect(await historyRows().count()).toBe(1);

      // Publish from a .jws file.
      const file = join(dir, 'bench.jws');
      writeFileSync(
        file,
        `${await signJws(payload({ method: 'suanli.bench.v1', metrics: { perf_ratio: '0.95' } }), key.privateJwk)}\n`,
      );
      await page.goto(`${base}/assessor`);
      await page.getByLabel('or a .jws file').setInputFiles(file);
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.waitForURL(/notice=published/);
      await historyRows().nth(1).waitFor();
      expect(await historyRows().count()).toBe(2);

      // Sign and publish with the form, the private key pasted for this request only.
      await page.goto(`${base}/assessor`);
      await page
        .getByLabel('Subject (CRI, handle or seller organization id)')
        .fill(market.resource.handle);
      await page.locator('select[name="method"]').selectOption('security-audit.v1');
      await page.locator('select[name="security"]').selectOption('pass');
      await page.getByLabel('Summary').fill('annual audit, no findings');
      await page.getByLabel('Private JWK (JSON)').fill(JSON.stringify(key.privateJwk));
      // the form signs with the storefront's clock (now): the API's may lag on a busy machine
      api?.clock.set(new Date());
      await page.getByRole('button', { name: 'Sign and publish' }).click();
      await page.waitForURL(/notice=published/);
      await historyRows().nth(2).waitFor();
      expect(await historyRows().count()).toBe(3);
      expect(await page.locator('[data-testid="assessor-history"]').innerText()).toContain(
        'security=pass',
      );
      await screenshot(page, 'assessor-portal-en');

      // A replayed JWS is refused with its code, shown in place.
      await page.getByLabel('Compact JWS').fill(pasted);
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.waitForURL(/error=jti_replayed/);
      expect(await page.locator('.notice-error').innerText()).toContain(
        'Evaluation already submitted',
      );

      // Revoke the first evaluation: it stays in the history as revoked.
      const first = (
        await apiClient(api.url).get<{ items: { id: string; jws: string }[] }>(
          `/v1/evaluations?assessor=${assessor.orgId}`,
        )
      ).body.items.find((e) => e.jws === pasted);
      if (!first) throw new Error('pasted evaluation not found');
      const row = page.locator(`[data-evaluation-id="${first.id}"]`);
      await row.getByLabel('Reason').fill('probe misconfigured');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await page.waitForURL(/notice=revoked/);
      expect(await notice()).toBe('Evaluation revoked.');
      expect(
        await page
          .locator(`[data-evaluation-id="${first.id}"] [data-testid="evaluation-status"]`)
          .innerText(),
      ).toBe('revoked');
      expect(await historyRows().count()).toBe(3);

      // Retire the key.
      await page.locator(`[data-kid="${key.kid}"]`).getByRole('button', { name: 'Retire' }).click();
      await page.waitForURL(/notice=keyRetired/);
      expect(await page.locator(`[data-kid="${key.kid}"]`).innerText()).toContain('retired');

      // Buyers see the score in the catalog (with the filter) and its breakdown on the offer.
      await page.goto(`${base}/?minCredibility=50`);
      const offerRow = page.locator(`tr[data-offer-id="${market.offer.id}"]`);
      expect(await offerRow.getByTestId('credibility-score').innerText()).toMatch(/^\d+\.\d/);
      expect(await page.locator('select[name="minCredibility"]').inputValue()).toBe('50');
      await screenshot(page, 'catalog-credibility-en');
      await page.goto(`${base}/?minCredibility=90`);
      expect(await page.locator(`tr[data-offer-id="${market.offer.id}"]`).count()).toBe(0);
      await page.goto(`${base}/offers/${market.offer.id}`);
      const panel = page.getByTestId('credibility-panel');
      expect(await panel.getByTestId('credibility-panel-score').innerText()).toMatch(/^\d+\.\d$/);
      // Two evaluations count (bench 0.95, audit pass; the revoked probe does not), each worth
      // 5 observations × 0.5 (accreditation level 1): r = 2.5·0.95 + 2.5 = 4.875, s = 0.125.
      const evaluations = panel
        .getByTestId('credibility-breakdown')
        .locator('tbody tr', { hasText: 'Signed evaluations' })
        .locator('td');
      expect(await evaluations.allInnerTexts()).toEqual([
        'Signed evaluations',
        '4.875',
        '0.125',
        '2',
      ]);
      expect(await panel.getByTestId('credibility-panel-score').innerText()).toBe('83.9');
      await screenshot(page, 'offer-credibility-en');
    } finally {
      await context.close();
    }
  });
});
