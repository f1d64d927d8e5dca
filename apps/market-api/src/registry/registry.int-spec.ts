import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { OfferView, ResourceView } from '@suanli/contracts';
import { parseCri } from '@suanli/cri';
import { generateSigningKey } from '@suanli/crypto';
import { agentToken } from '../../../metering/src/agent/lease-client.js';
import { signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(60_000);

describe('registry and identifier gateway (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const node = {
    name: 'Wulanchabu VM',
    class: 'GEN',
    form: 'VM',
    location: { country: 'CN', subdivision: 'NM', site: 'WLC' },
    spec: { cpu: 8, memGiB: 32 },
  };

  it('assigns serials in order and valid CRIs', async () => {
    const seller = await signUpActor(api, ['seller']);
    const a = await seller.client.post<ResourceView>('/v1/resources', node);
    const b = await seller.client.post<ResourceView>('/v1/resources', { ...node, name: 'second' });
    expect(a.status).toBe(201);
    expect(parseCri(a.body.cri).serial).toBe('000001');
    expect(parseCri(b.body.cri).serial).toBe('000002');
    expect(a.body.cri).toMatch(
      /^CRI1:86\.N00\.E[0-9A-Z]{5}:I:CN-NM\.WLC:GEN-VM:C8\.M32:000001:[0-9A-Z]$/,
    );
    expect(a.body.state).toBe('prepared');
    expect(a.body.liveStatus).toBe('offline');
  });

  it('resolves by CRI and by handle; 400 names the bad segment; 404 for an unknown code', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceView>('/v1/resources', node)).body;
    const pub = apiClient(api.url);
    expect((await pub.get<ResourceView>(`/v1/cri/${encodeURIComponent(r.cri)}`)).body.id).toBe(
      r.id,
    );
    expect((await pub.get<ResourceView>(`/v1/cri/${encodeURIComponent(r.handle)}`)).body.id).toBe(
      r.id,
    );
    const wrongCheck = r.cri.slice(0, -1) + (r.cri.endsWith('0') ? '1' : '0');
    const bad = await pub.get<{ error: { code: string; details: { segment: string } } }>(
      `/v1/cri/${encodeURIComponent(wrongCheck)}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_cri', details: { segment: 'check' } });
    const lower = await pub.get<{ error: { code: string } }>(
      `/v1/cri/${encodeURIComponent(r.cri.toLowerCase())}`,
    );
    expect(lower.status).toBe(400);
    const unknown = await pub.get(
      `/v1/cri/${encodeURIComponent('CRI1:86.N00.E00001:M:CN-BJ.HD1:HPC-JOB:C64.M256:00000A:0')}`,
    );
    expect(unknown.status).toBe(404);
  });

  it('refuses bad registrations with a 400 naming the field', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = await seller.client.post<{ error: { details: { issues: { path: string }[] } } }>(
      '/v1/resources',
      {
        ...node,
        location: { country: 'cn', subdivision: 'NM', site: 'WLC' },
        spec: {},
      },
    );
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['location.country', 'spec']),
    );
  });

  it('follows the lifecycle: no offer before an agent reports in; then connected → schedulable', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceView>('/v1/resources', node)).body;
    const offer = {
      resourceId: r.id,
      title: 'VM',
      currency: 'USD',
      capacity: 1,
      pricingModel: 'fixed',
      prices: [{ unit: 'slot_h', price: '0.40' }],
    };
    const early = await seller.client.post<{ error: { code: string } }>('/v1/offers', offer);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('invalid_state');
    const key = await generateSigningKey();
    const agent = (
      await seller.client.post<{ id: string }>(`/v1/resources/${r.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    expect(agent.id).toBe(`${r.handle}#a1`);
    const forged = await generateSigningKey();
    expect(
      (
        await apiClient(
          api.url,
          await agentToken(agent.id, { ...forged.privateJwk, kid: forged.kid }),
        ).get('/v1/agents/me/leases')
      ).status,
    ).toBe(401);
    expect(
      (
        await apiClient(
          api.url,
          await agentToken(agent.id, { ...key.privateJwk, kid: key.kid }),
        ).get('/v1/agents/me/leases')
      ).status,
    ).toBe(200);
    expect((await seller.client.get<ResourceView>(`/v1/resources/${r.id}`)).body.state).toBe(
      'connected',
    );
    const published = await seller.client.post<OfferView>('/v1/offers', offer);
    expect(published.status).toBe(201);
    // 8 vCPU per slot at 0.40/slot-hour: 0.05 per reference vCPU-hour.
    expect(published.body.normalizedPrice).toEqual({ unit: 'scu.gen', price: '0.05' });
    expect((await seller.client.get<ResourceView>(`/v1/resources/${r.id}`)).body.state).toBe(
      'schedulable',
    );
    const other = await signUpActor(api, ['seller']);
    expect((await other.client.get(`/v1/resources/${r.id}`)).status).toBe(404);
  });
});
