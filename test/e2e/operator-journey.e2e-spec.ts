// The operator's journey in Debian Chromium against the real market API and PostgreSQL:
// admit an organization and grant it roles → accredit an assessor → set the platform fee →
// reconciliation, dead letters and system health. axe-core on every page (no serious or
// critical violations), 390 px width checked.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { FeesView } from '@suanli/contracts';
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
import { startMarketApi } from '../support/market-api.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../support/actors.js';
import { startWeb } from '../support/web.js';

// next build (when the storefront changed) and a busy machine: minutes, not seconds.
jest.setTimeout(600_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

const OPERATOR = { email: 'operator@suanli.test', password: 'operator-password-1' };

describe('operator journey', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_WEBHOOK_SECRET;
    api = await startMarketApi();
    // Money moved (funding, an order's escrow): something for the ledger and reconciliation.
    const { offer } = await sellerWithOffer(api);
    const buyer = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyer.orgId, 'CNY', '500.00');
    await buyer.client.postIdempotent('/v1/orders', { offerId: offer.id, slots: 1, hours: 1 });
    await api.operatorToken(); // creates the operator account used below
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
    process.env = saved;
  });

  it('operator journey: members, assessors, fees, reconciliation, dead letters, health', async () => {
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
    try {
      await logIn(page, base, OPERATOR, '/operator');
      await a11y('operator');

      // Members: admit an assessor organization (a short password is flagged while typing).
      await page.getByRole('link', { name: 'Members' }).first().click();
      await page.waitForURL(`${base}/operator/members`);
      await ready(page);
      const admit = page.getByTestId('admit-form');
      await admit.getByLabel('Organization name').fill('Journey Assurance');
      await admit.getByRole('checkbox', { name: 'Buyer' }).uncheck();
      await admit.getByRole('checkbox', { name: 'Assessor' }).check();
      await admit.getByLabel('Member name').fill('Ada Assessor');
      await admit.getByLabel('Member e-mail').fill(`assurance-${Date.now()}@journey.test`);
      await admit.getByLabel('Initial password').fill('short');
      expect(await admit.getByText('At least 10 characters.').count()).toBe(1);
      await admit.getByLabel('Initial password').fill('assessor-password-1');
      await admit.getByRole('button', { name: 'Admit' }).click();
      await admit.getByTestId('form-notice').waitFor();
      expect(await admit.getByTestId('form-notice').innerText()).toBe(
        'Journey Assurance was admitted.',
      );
      await page.reload();
      const orgRow = page.locator('[data-testid="members"] tr', { hasText: 'Journey Assurance' });
      expect(await orgRow.getByTestId('member-roles').innerText()).toBe('Assessor');
      const orgId = (await orgRow.getAttribute('data-org-id')) ?? '';

      // Grant it the seller role too.
      const grant = page.getByTestId('grant-form');
      await grant.getByLabel('Organization').selectOption(orgId);
      await grant.getByRole('checkbox', { name: 'Seller' }).check();
      await grant.getByRole('button', { name: 'Grant roles' }).click();
      await grant.getByTestId('form-notice').waitFor();
      await page.reload();
      expect(
        await page.locator(`tr[data-org-id="${orgId}"]`).getByTestId('member-roles').innerText(),
      ).toBe('Assessor · Seller');
      await page.goto(`${base}/operator/members?role=assessor`);
      expect(await page.locator('[data-testid="members"] tbody tr').count()).toBe(1);
      await a11y('members');
      await screenshots(page, 'operator-members');

      // Assessors: accredit it at level 2.
      await page.getByRole('link', { name: 'Assessors' }).first().click();
      await page.waitForURL(`${base}/operator/assessors`);
      await ready(page);
      const accredit = page.getByTestId('accredit-form');
      await accredit.getByLabel('Organization').selectOption(orgId);
      await accredit.getByLabel('Accreditation level').fill('2');
      await accredit.getByRole('button', { name: 'Accredit' }).click();
      await accredit.getByTestId('form-notice').waitFor();
      await page.reload();
      expect(
        await page.locator(`tr[data-org-id="${orgId}"]`).getByTestId('assessor-level').innerText(),
      ).toBe('2');
      await a11y('assessors');

      // Fees: 5 % by default; a rate of 1 or more is refused while typing; 7 % is saved.
      await page.getByRole('link', { name: 'Fees' }).first().click();
      await page.waitForURL(`${base}/operator/fees`);
      await ready(page);
      expect(await page.getByTestId('take-rate').innerText()).toBe('5 %');
      const rate = page.getByLabel('New take rate');
      await rate.fill('1.5');
      expect(await page.locator('.field-invalid input[name="takeRate"]').count()).toBe(1);
      await rate.fill('0.07');
      await page.getByLabel('Note').fill('journey test');
      await page.getByRole('button', { name: 'Save take rate' }).click();
      await page.getByTestId('form-notice').waitFor();
      await page.reload();
      expect(await page.getByTestId('take-rate').innerText()).toBe('7 %');
      expect(await page.getByTestId('fee-history').innerText()).toContain('journey test');
      const fees = await apiClient(api.url, await api.operatorToken()).get<FeesView>(
        '/v1/admin/fees',
      );
      expect(fees.body.takeRate).toBe('0.07');
      await a11y('fees');
      await screenshots(page, 'operator-fees');

      // Reconciliation, dead letters, system health.
      await page.getByRole('link', { name: 'Reconciliation' }).first().click();
      await page.waitForURL(`${base}/operator/reconciliation`);
      await ready(page);
      await a11y('reconciliation');
      await screenshots(page, 'operator-reconciliation');
      await page.goto(`${base}/operator/dead-letters`);
      await page.waitForURL(`${base}/operator/dead-letters`);
      await ready(page);
      await a11y('dead-letters');
      await page.getByRole('link', { name: 'System health' }).first().click();
      await page.waitForURL(`${base}/operator/health`);
      await ready(page);
      expect(await page.getByTestId('health-status').innerText()).toBe('OK');
      expect(await page.getByTestId('trial-balance').innerText()).toBe('Balanced');
      await a11y('health');
      await screenshots(page, 'operator-health');

      // In Chinese.
      await page.goto(`${base}/lang/zh?next=/operator/fees`);
      await page.locator('html[lang="zh-CN"]').waitFor({ state: 'attached' });
      expect(await page.locator('h1').innerText()).toBe('费率');
      expect(await page.getByTestId('take-rate').innerText()).toBe('7%');
      await a11y('fees-zh');
      await screenshots(page, 'operator-fees-zh');
    } catch (error) {
      await screenshots(page, 'operator-journey-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
