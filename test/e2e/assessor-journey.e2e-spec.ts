// The assessor's journey in Debian Chromium against the real market API and PostgreSQL: log in
// → register a key → publish a signed evaluation → see it in the history → revoke it. axe-core
// on every page (no serious or critical violations), 390 px width checked.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { generateSigningKey, signJws } from '@suanli/crypto';
import { launchChromium } from '../support/browser.js';
import { apiClient } from '../support/http.js';
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
import { startWeb } from '../support/web.js';

// next build (when the storefront changed) and a busy machine: minutes, not seconds.
jest.setTimeout(600_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

describe('assessor journey', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let market: Awaited<ReturnType<typeof sellerWithOffer>>;
  const assessor = {
    email: `journey-assessor-${Date.now()}@suanli.test`,
    password: 'assessor-password-1',
    orgId: '',
  };

  beforeAll(async () => {
    api = await startMarketApi();
    api.clock.set(new Date());
    market = await sellerWithOffer(api);
    const created = await apiClient(api.url, await api.operatorToken()).post<{
      organization: { id: string };
    }>('/v1/admin/organizations', {
      email: assessor.email,
      password: assessor.password,
      displayName: 'Journey assessor',
      organization: { name: 'Journey Lab', roles: ['assessor'], industry: 'M' },
    });
    if (created.status !== 201) throw new Error(`admit: ${created.status}`);
    assessor.orgId = created.body.organization.id;
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  it('assessor journey: keys, publish, history, revoke', async () => {
    if (!browser || !web || !api) throw new Error('setup failed');
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
    const key = await generateSigningKey();
    const now = Math.floor(api.clock.now().getTime() / 1000);
    const history = () => page.locator('[data-testid="assessor-history"] tbody tr');
    try {
      await logIn(page, base, assessor, '/assessor');
      await a11y('assessor-empty');

      // Register the public key.
      await page.getByLabel('Public JWK (JSON)').fill(JSON.stringify(key.publicJwk));
      await page.getByRole('button', { name: 'Register key' }).click();
      await page.waitForURL(/notice=keyRegistered/);
      await ready(page);
      expect(await page.locator(`[data-kid="${key.kid}"]`).innerText()).toContain('active');

      // Publish a signed evaluation of the seller's resource.
      const jws = await signJws(
        {
          iss: assessor.orgId,
          sub: market.resource.cri,
          iat: now,
          exp: now + 30 * 86400,
          jti: randomUUID(),
          method: 'uptime-probe.v1',
          metrics: { availability: '0.999' },
        },
        key.privateJwk,
      );
      await page.getByLabel('Compact JWS').fill(jws);
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.waitForURL(/notice=published/);
      await ready(page);
      expect(await history().count()).toBe(1);
      await a11y('assessor');
      await screenshots(page, 'assessor');

      // Revoke it: it stays in the history, marked revoked.
      const row = history().first();
      await row.getByLabel('Reason').fill('probe misconfigured');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await page.waitForURL(/notice=revoked/);
      await ready(page);
      expect(await page.getByTestId('evaluation-status').first().innerText()).toBe('revoked');
      expect(await history().count()).toBe(1);
      await a11y('assessor-revoked');

      // The catalog, where the evaluated resource is listed, also fits a phone.
      await page.goto(`${base}/`);
      await ready(page);
      expect(await page.locator('.offers-table tbody tr').count()).toBeGreaterThan(0);
      await a11y('catalog');
    } catch (error) {
      await screenshots(page, 'assessor-journey-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
