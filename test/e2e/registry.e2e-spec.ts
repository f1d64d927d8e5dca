import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import type { ResourceDetailView, SessionView } from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import { agentToken } from '../../apps/metering/src/agent/lease-client.js';
import { apiClient } from '../support/http.js';
import { startMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

// next build alone takes 20-60 s on a cold cache.
jest.setTimeout(240_000);

const SCREENSHOTS = fileURLToPath(new URL('../../.local/screenshots/', import.meta.url));

describe('storefront: CRI resolver and seller resources', () => {
  let api: Awaited<ReturnType<typeof startMarketApi>> | undefined;
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let browser: Browser | undefined;
  const email = `seller-${Date.now()}@suanli.test`;
  const password = 'seller-password-123';
  let online: ResourceDetailView;
  let idle: ResourceDetailView;

  beforeAll(async () => {
    api = await startMarketApi();
    const signup = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email,
      password,
      displayName: 'Seller',
      organization: { name: 'GZ compute', roles: ['seller'], industry: 'I' },
    });
    const seller = apiClient(api.url, signup.body.accessToken);
    online = (
      await seller.post<ResourceDetailView>('/v1/resources', {
        name: 'Guangzhou H200',
        class: 'AI',
        form: 'CTR',
        location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
        spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
        capacity: 8,
      })
    ).body;
    idle = (
      await seller.post<ResourceDetailView>('/v1/resources', {
        name: 'Beijing VM',
        class: 'GEN',
        form: 'VM',
        location: { country: 'CN', subdivision: 'BJ', site: 'HD1' },
        spec: { cpu: 8, memGiB: 32 },
      })
    ).body;
    const key = await generateSigningKey();
    const agent = (
      await seller.post<{ id: string }>(`/v1/resources/${online.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    const beat = await apiClient(
      api.url,
      await agentToken(agent.id, { ...key.privateJwk, kid: key.kid }),
    ).post('/v1/agents/me/heartbeats', { status: 'online', utilization: 0.5 });
    if (beat.status !== 202) throw new Error(`heartbeat: ${beat.status}`);
    web = await startWeb(api.url);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  }

  it('resolver: segment errors inline for a bad code, online status for a good one; seller resources with QR codes', async () => {
    if (!browser || !web) throw new Error('setup failed');
    const context = await browser.newContext({
      locale: 'en-US',
      viewport: { width: 1280, height: 860 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const base = web.url;
    try {
      // A good code, pasted into the resolver form: the resource and its live status.
      await page.goto(`${base}/cri`);
      await page.getByLabel('CRI').fill(online.cri);
      await page.getByRole('button', { name: 'Resolve' }).click();
      await page.waitForURL(/\/cri\/CRI1/);
      expect(await page.getByTestId('resolved-cri').innerText()).toBe(online.cri);
      const status = page.getByTestId('live-status');
      expect(await status.getAttribute('data-status')).toBe('online');
      expect(await status.innerText()).toBe('Online');
      await screenshot(page, 'cri-online-en');

      // A wrong check character: the check segment is marked, the expected one named.
      const last = online.cri.slice(-1);
      const wrong = `${online.cri.slice(0, -1)}${last === '0' ? '1' : '0'}`;
      await page.getByLabel('CRI').fill(wrong);
      await page.getByRole('button', { name: 'Resolve' }).click();
      const error = page.getByTestId('cri-segment-error');
      await error.waitFor();
      expect(await error.getAttribute('data-segment')).toBe('check');
      expect(await error.locator('mark').innerText()).toBe(last === '0' ? '1' : '0');
      expect(await error.innerText()).toContain(`expected check character: ${last}`);

      // Spec tokens out of order: the spec segment is marked.
      await page.goto(
        `${base}/cri/${encodeURIComponent(online.cri.replace('C96.M1536', 'M1536.C96'))}`,
      );
      expect(await page.getByTestId('cri-segment-error').getAttribute('data-segment')).toBe('spec');
      expect(await page.locator('.cri-bad').innerText()).toBe('M1536.C96.G8-H200');
      await screenshot(page, 'cri-invalid-en');

      // The seller's resources: log in, each resource with its CRI, QR code, lifecycle, status.
      await page.goto(`${base}/seller/resources`);
      await page.waitForURL(/\/login\?next=%2Fseller%2Fresources$/);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/seller/resources`);
      const rows = page.getByTestId('seller-resource');
      await rows.nth(1).waitFor();
      expect(await rows.count()).toBe(2);
      const first = page.locator(`[data-testid="seller-resource"][data-handle="${online.handle}"]`);
      expect(await first.getByTestId('seller-resource-cri').innerText()).toBe(online.cri);
      expect(await first.getByTestId('seller-resource-state').innerText()).toBe('Connected');
      expect(await first.getByTestId('seller-resource-status').innerText()).toBe('Online');
      expect(await first.getByTestId('cri-qr').locator('svg').count()).toBe(1);
      expect(await first.getByTestId('cri-qr').getAttribute('aria-label')).toBe(
        `QR code of ${online.cri}`,
      );
      const second = page.locator(`[data-testid="seller-resource"][data-handle="${idle.handle}"]`);
      expect(await second.getByTestId('seller-resource-state').innerText()).toBe('Prepared');
      expect(await second.getByTestId('seller-resource-status').innerText()).toBe('Offline');
      expect(await page.getByRole('link', { name: 'My resources' }).count()).toBe(1);
      await screenshot(page, 'seller-resources-en');

      // The CRI links to the resolver.
      await first.getByTestId('seller-resource-cri').click();
      await page.waitForURL(/\/cri\/CRI1/);
      expect(await page.getByTestId('lifecycle').innerText()).toBe('Connected');
    } catch (error) {
      await screenshot(page, 'registry-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
