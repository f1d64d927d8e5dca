/** The scrape token the test market APIs and ingests are given (METRICS_TOKEN). */
export const TEST_METRICS_TOKEN = 'test-metrics-scrape-token';

/** `GET <base>/metrics` the way Prometheus scrapes it: with the bearer scrape token. */
export function scrapeMetrics(base: string): Promise<Response> {
  return fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
}
