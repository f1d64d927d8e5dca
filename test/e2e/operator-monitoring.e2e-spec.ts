// The operator's compute monitoring page in Debian Chromium against the real market API:
// per seller and per resource, live status, utilization, SLA attainment and incidents, in
// English and Chinese. axe-core: no serious or critical violations.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Browser } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { sellerWithOffer } from '../support/actors.js';
import { launchChromium } from '../support/browser.js';
import { logIn, newJourneyContext, ready, seriousA11yViolations } from '../support/journey.js';
import { startMarketApi } from '../support/market-api.js';
import { startWeb } from '../support/web.js';

jest.setTimeout(300_000);

type Api = Awaited<ReturnType<typeof startMarketApi>>;
type Web = Awaited<ReturnType<typeof startWeb>>;

const OPERATOR = { email: 'operator@suanli.test', password: 'operator-password-1' };
const MIN = 60_000;

describe('operator compute monitoring', () => {
  let api: Api | undefined;
  let web: Web | undefined;
  let browser: Browser | undefined;
  let handles: { up: string; down: string } | undefined;

  beforeAll(async () => {
    api = await startMarketApi();
    const up = await sellerWithOffer(api, { capacity: 2 });
    const down = await sellerWithOffer(api, { capacity: 1 });
    const db = api.app.get<DataSource>(getDataSourceToken());
    // The real clock drives the page: heartbeats around now, one resource silent for an hour.
    const now = Date.now();
    await db.query('DELETE FROM resource_heartbeats');
    for (let m = 60; m >= 0; m--) {
      await db.query(
        `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status, utilization)
         VALUES ($1, $2, $3, 'online', 0.4)`,
        [up.resource.id, new Date(now - m * MIN), up.agent.id],
      );
    }
    await db.query(
      `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status)
       VALUES ($1, $2, $3, 'online')`,
      [down.resource.id, new Date(now - 60 * MIN), down.agent.id],
    );
    api.clock.set(new Date(now));
    handles = { up: up.resource.handle, down: down.resource.handle };
    await api.operatorToken();
    web = await startWeb(api.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await api?.close();
  });

  it('shows sellers and resources with status, SLA and incidents', async () => {
    if (!browser || !web || !api || !handles) throw new Error('setup failed');
    const { context, page } = await newJourneyContext(browser);
    try {
      await logIn(page, web.url, OPERATOR, '/operator/monitoring');
      await ready(page);
      await expect(
        page.getByRole('heading', { name: 'Compute monitoring' }).isVisible(),
      ).resolves.toBe(true);
      const upRow = page.getByTestId(`monitoring-resource-${handles.up}`);
      await expect(upRow.textContent()).resolves.toMatch(
        /Up.*50 %.*1 \/ 2 slots|Up.*0 \/ 2 slots/s,
      );
      await expect(upRow.textContent()).resolves.toContain('40 %');
      const downRow = page.getByTestId(`monitoring-resource-${handles.down}`);
      await expect(downRow.textContent()).resolves.toMatch(/Down.*No heartbeat.*ongoing/s);
      await expect(page.getByTestId('monitoring-sellers').textContent()).resolves.toContain(
        '1 open',
      );
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.goto(`${web.url}/lang/zh?next=/operator/monitoring`);
      await ready(page);
      await expect(page.getByRole('heading', { name: '算力运行监测' }).isVisible()).resolves.toBe(
        true,
      );
      await expect(
        page.getByTestId(`monitoring-resource-${handles.down}`).textContent(),
      ).resolves.toContain('离线');
    } finally {
      await context.close();
    }
  });
});
