import { metricsAuthorized, webMetrics } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

/**
 * `GET /metrics`: the storefront's metrics in Prometheus text format, for a scraper that sends
 * `Authorization: Bearer $WEB_METRICS_TOKEN`. Without the token configured it does not exist.
 */
export async function GET(request: Request): Promise<Response> {
  const allowed = metricsAuthorized(request.headers.get('authorization'));
  if (allowed === 'off') return new Response('Not Found\n', { status: 404 });
  if (!allowed) {
    return new Response('Unauthorized\n', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="metrics"' },
    });
  }
  const { registry } = webMetrics();
  return new Response(await registry.metrics(), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
}
