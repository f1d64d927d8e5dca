import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerTokenMatches } from '../shared/signing.js';

export type Check = () => Promise<void>;

async function withTimeout(check: Check, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health/live`: 200 while the process runs. `/health/ready`: 200 when every check passes,
 * else 503 naming the failed ones: `{"status":"down","checks":{"postgres":"up","kafka":"…"}}`.
 */
export async function startHealthServer(
  port: number,
  checks: Record<string, Check>,
  extra: () => Record<string, unknown> = () => ({}),
  /**
   * `GET /metrics`: Prometheus text exposition format (0.0.4), only with `Authorization: Bearer
   * <token>` (401 without it); no token or no metrics: 404.
   */
  metrics?: { render: () => string; token: string | undefined },
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: { code: 'method_not_allowed' } });
    if (path === '/health/live') return send(200, { status: 'up', ...extra() });
    if (path === '/metrics' && metrics?.token !== undefined && metrics.token !== '') {
      if (!bearerTokenMatches(req.headers.authorization, metrics.token)) {
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Bearer realm="metrics"',
        });
        res.end(JSON.stringify({ error: { code: 'unauthorized' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
      return;
    }
    if (path === '/health/ready') {
      void (async () => {
        const results: Record<string, string> = {};
        await Promise.all(
          Object.entries(checks).map(async ([name, check]) => {
            try {
              await withTimeout(check, 3000);
              results[name] = 'up';
            } catch (err) {
              results[name] = `down: ${(err as Error).message}`;
            }
          }),
        );
        const ok = Object.values(results).every((r) => r === 'up');
        send(ok ? 200 : 503, { status: ok ? 'up' : 'down', checks: results });
      })();
      return;
    }
    send(404, { error: { code: 'not_found' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
