// The storefront's /metrics (apps/web/app/metrics/route.ts): the built app against the real
// market API, and a second one against an API that is down; pages are requested, then scraped.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startMarketApi } from '../support/market-api.js';
import { freePort } from '../support/ports.js';
import { startWeb } from '../support/web.js';

// next build alone takes 20-60 s on a cold cache.
jest.setTimeout(240_000);

const TOKEN = 'metrics-test-token';

/** The value of one series (labels in prom-client's order), 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

describe('storefront metrics', () => {
  let api: Awaited<ReturnType<typeof startMarketApi>> | undefined;
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let down: Awaited<ReturnType<typeof startWeb>> | undefined;

  beforeAll(async () => {
    api = await startMarketApi();
    web = await startWeb(api.url, { WEB_METRICS_TOKEN: TOKEN });
    down = await startWeb(`http://127.0.0.1:${await freePort()}`, {
      WEB_METRICS_TOKEN: TOKEN,
    });
  });

  afterAll(async () => {
    await down?.close();
    await web?.close();
    await api?.close();
  });

  it('needs the token', async () => {
    if (!web) throw new Error('setup failed');
    expect((await fetch(`${web.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${web.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('counts page requests by route, market API calls and session refreshes', async () => {
    if (!web) throw new Error('setup failed');
    const home = await fetch(`${web.url}/`);
    expect(home.status).toBe(200);
    await home.text(); // the response is counted when it has been sent in full
    // An offer the API does not know (the page renders its "not found" state).
    await (await fetch(`${web.url}/offers/00000000-0000-4000-8000-000000000000`)).text();
    // An expired session: only the refresh cookie, which the API refuses.
    await (
      await fetch(`${web.url}/`, { headers: { cookie: 'sx_refresh=not-a-refresh-token' } })
    ).text();

    const text = await scrape(web.url);
    expect(
      value(
        text,
        'suanli_web_http_request_duration_seconds_count{method="GET",route="/",status="200"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    // One label per route pattern, not per offer id.
    expect(text).toMatch(
      /^suanli_web_http_request_duration_seconds_count\{method="GET",route="\/offers\/\[id\]",status="\d+"\} 1$/m,
    );
    expect(text).not.toContain('00000000-0000-4000-8000-000000000000');
    expect(
      value(
        text,
        'suanli_web_upstream_request_duration_seconds_count{method="GET",route="/v1/offers",status="200"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      value(
        text,
        'suanli_web_upstream_request_duration_seconds_count{method="GET",route="/v1/offers/{id}",status="404"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(value(text, 'suanli_web_session_refreshes_total{outcome="rejected"}')).toBe(1);
    expect(text).toContain('suanli_web_process_resident_memory_bytes');
    expect(text).not.toContain('suanli_web_upstream_errors_total{');
  });

  it('counts the market API as unreachable', async () => {
    if (!down) throw new Error('setup failed');
    await fetch(`${down.url}/`);
    await fetch(`${down.url}/`, { headers: { cookie: 'sx_refresh=some-refresh-token' } });
    const text = await scrape(down.url);
    expect(
      value(
        text,
        'suanli_web_upstream_errors_total{method="GET",route="/v1/offers",reason="network"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(value(text, 'suanli_web_session_refreshes_total{outcome="unavailable"}')).toBe(1);
    expect(
      value(
        text,
        'suanli_web_upstream_errors_total{method="POST",route="/v1/auth/refresh",reason="network"}',
      ),
    ).toBe(1);
  });
});
