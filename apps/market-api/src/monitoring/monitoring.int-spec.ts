import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { buyerWithLease, sellerWithOffer } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { scrapeMetrics } from '../../../../test/support/metrics.js';
import type { ResourceMonitoringView, SellerMonitoringView } from './monitoring.service.js';

const MIN = 60_000;
let api: TestMarketApi;
let db: DataSource;

beforeAll(async () => {
  api = await startMarketApi();
  db = api.app.get<DataSource>(getDataSourceToken());
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('monitoring of the compute being sold', () => {
  it('reports status, utilization, SLA attainment and incidents per resource and per seller', async () => {
    const { seller, resource, offer, agent } = await sellerWithOffer(api, { capacity: 2 });
    const quiet = await sellerWithOffer(api, { capacity: 1 });
    const { buyer } = await buyerWithLease(api, offer.id, { hours: 2 });
    // Heartbeats every minute for the last 2 hours, except 30 minutes without any.
    const now = api.clock.now().getTime();
    await db.query('DELETE FROM resource_heartbeats WHERE resource_id = ANY($1::uuid[])', [
      [resource.id, quiet.resource.id],
    ]);
    for (let m = 120; m >= 0; m--) {
      if (m > 60 && m < 90) continue;
      await db.query(
        `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status, utilization)
         VALUES ($1, $2, $3, 'online', 0.5)`,
        [resource.id, new Date(now - m * MIN), agent.id],
      );
    }
    // The other resource was last seen an hour ago: down, with an open incident.
    for (let m = 120; m >= 60; m--) {
      await db.query(
        `INSERT INTO resource_heartbeats (resource_id, at, agent_id, status)
         VALUES ($1, $2, $3, 'online')`,
        [quiet.resource.id, new Date(now - m * MIN), quiet.agent.id],
      );
    }

    const op = apiClient(api.url, await api.operatorToken());
    const all = await op.get<{ items: ResourceMonitoringView[] }>('/v1/admin/monitoring/resources');
    expect(all.status).toBe(200);
    const r = all.body.items.find((x) => x.id === resource.id)!;
    expect(r.live).toBe('up');
    expect(r.utilization).toEqual({ slotsLeased: 1, slotsOffered: 2, ratio: 0.5, measured: 0.5 });
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({ kind: 'no_heartbeat', minutes: 30 });
    expect(r.sla.downtimeMinutes).toBe(30);
    expect(r.sla.attainment).toBeCloseTo(1 - 30 / 120, 3);
    expect(r.sla.met).toBe(false);
    const q = all.body.items.find((x) => x.id === quiet.resource.id)!;
    expect(q.live).toBe('down');
    expect(q.incidents).toEqual([expect.objectContaining({ end: null, minutes: 60 })]);
    expect(q.sla.attainment).toBeCloseTo(0.5, 3);

    const sellers = await op.get<{ items: SellerMonitoringView[] }>('/v1/admin/monitoring/sellers');
    const s = sellers.body.items.find((x) => x.sellerOrgId === seller.orgId)!;
    expect(s).toMatchObject({
      resources: 1,
      live: { up: 1, degraded: 0, down: 0, unknown: 0 },
      utilization: { slotsLeased: 1, slotsOffered: 2, ratio: 0.5 },
      sla: { breaches: 1 },
      openIncidents: 0,
      incidents: 1,
    });

    // A seller sees its own resources only; a buyer sees none of it.
    const mine = await seller.client.get<{ items: ResourceMonitoringView[] }>(
      '/v1/monitoring/resources',
    );
    expect(mine.body.items.map((x) => x.id)).toEqual([resource.id]);
    expect((await buyer.client.get('/v1/admin/monitoring/resources')).status).toBe(403);
    expect((await op.get('/v1/admin/monitoring/resources?windowHours=0')).status).toBe(400);

    const metrics = await (await scrapeMetrics(api.url)).text();
    expect(metrics).toMatch(/suanli_resources\{live="down"\} [1-9]/);
    expect(metrics).toMatch(
      /suanli_sla_attainment_ratio\{resource="[^"]+",seller="[^"]+"\} 0\.\d+/,
    );
  }, 60_000);
});
