import { afterEach, describe, expect, it } from '@jest/globals';
import { metricsAuthorized, observeUpstream, routeMatcher, webMetrics } from './metrics';

describe('storefront metrics', () => {
  const routeOf = routeMatcher([
    '/',
    '/offers/[id]',
    '/cri/[...code]',
    '/cri',
    '/seller/resources/new',
    '/seller/resources/[id]/agent',
    '/icon.svg',
  ]);

  it('labels a path with its route pattern', () => {
    expect(routeOf('/')).toBe('/');
    expect(routeOf('/?class=AI')).toBe('/');
    expect(routeOf('/offers/5b0e6a3c-0000-4000-8000-000000000000')).toBe('/offers/[id]');
    expect(routeOf('/cri/CRI1:86.R03/x')).toBe('/cri/[...code]');
    expect(routeOf('/cri')).toBe('/cri');
    expect(routeOf('/seller/resources/new')).toBe('/seller/resources/new');
    expect(routeOf('/seller/resources/abc/agent')).toBe('/seller/resources/[id]/agent');
    expect(routeOf('/icon.svg')).toBe('/icon.svg');
    expect(routeOf('/_next/static/chunks/a.js')).toBe('/_next/static');
    expect(routeOf('/wp-login.php')).toBe('other');
    expect(routeOf('/offers/1/2')).toBe('other');
  });

  describe('the token', () => {
    const before = process.env.WEB_METRICS_TOKEN;
    afterEach(() => {
      if (before === undefined) delete process.env.WEB_METRICS_TOKEN;
      else process.env.WEB_METRICS_TOKEN = before;
    });

    it('is off without WEB_METRICS_TOKEN, else needs the bearer token', () => {
      delete process.env.WEB_METRICS_TOKEN;
      expect(metricsAuthorized('Bearer x')).toBe('off');
      process.env.WEB_METRICS_TOKEN = 's3cret';
      expect(metricsAuthorized('Bearer s3cret')).toBe(true);
      expect(metricsAuthorized('Bearer s3cre')).toBe(false);
      expect(metricsAuthorized('s3cret')).toBe(false);
      expect(metricsAuthorized(null)).toBe(false);
    });
  });

  it('counts upstream failures by reason', async () => {
    observeUpstream('GET', '/v1/offers', 0, performance.now());
    observeUpstream('GET', '/v1/offers', 503, performance.now());
    observeUpstream('GET', '/v1/offers', 404, performance.now());
    const text = await webMetrics().registry.metrics();
    expect(text).toContain(
      'suanli_web_upstream_errors_total{method="GET",route="/v1/offers",reason="network"} 1',
    );
    expect(text).toContain(
      'suanli_web_upstream_errors_total{method="GET",route="/v1/offers",reason="server"} 1',
    );
    expect(text).toContain(
      'suanli_web_upstream_request_duration_seconds_count{method="GET",route="/v1/offers",status="404"} 1',
    );
  });
});
