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
});
