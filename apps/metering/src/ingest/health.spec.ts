import { describe, expect, it } from '@jest/globals';
import { startHealthServer } from './health.js';

describe('health server', () => {
  it('is live, and ready only when every check passes (503 naming the failed one)', async () => {
    let kafkaUp = true;
    const { server, port } = await startHealthServer(0, {
      postgres: async () => undefined,
      kafka: async () => {
        if (!kafkaUp) throw new Error('broker unreachable');
      },
    });
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect((await get('/health/live')).status).toBe(200);
      expect(await get('/health/ready')).toEqual({
        status: 200,
        body: { status: 'up', checks: { postgres: 'up', kafka: 'up' } },
      });
      kafkaUp = false;
      expect(await get('/health/ready')).toEqual({
        status: 503,
        body: { status: 'down', checks: { postgres: 'up', kafka: 'down: broker unreachable' } },
      });
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('serves /metrics only with the bearer scrape token, and not at all without one', async () => {
    const render = () => 'metering_up 1\n';
    const open = await startHealthServer(0, {}, undefined, { render, token: undefined });
    const guarded = await startHealthServer(0, {}, undefined, {
      render,
      token: 'scrape-token-0123456789',
    });
    try {
      const scrape = (port: number, authorization?: string) =>
        fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: authorization === undefined ? {} : { authorization },
        });
      expect((await scrape(open.port)).status).toBe(404);
      expect((await scrape(open.port, 'Bearer anything')).status).toBe(404);
      const anonymous = await scrape(guarded.port);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await anonymous.text()).not.toContain('metering_up');
      expect((await scrape(guarded.port, 'Bearer wrong-token-0123456789')).status).toBe(401);
      const ok = await scrape(guarded.port, 'Bearer scrape-token-0123456789');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('metering_up 1\n');
      // The probes stay open for the orchestrator.
      expect((await fetch(`http://127.0.0.1:${guarded.port}/health/live`)).status).toBe(200);
    } finally {
      for (const { server } of [open, guarded]) {
        await new Promise<void>((r) => server.close(() => r()));
      }
    }
  });
});
