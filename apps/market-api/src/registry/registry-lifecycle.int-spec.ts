import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type {
  HeartbeatView,
  ResolutionView,
  ResourceDetailView,
  SessionView,
} from '@suanli/contracts';
import { formatCri, parseCri } from '@suanli/cri';
import { generateSigningKey } from '@suanli/crypto';
import { agentToken } from '../../../metering/src/agent/lease-client.js';
import { signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';

jest.setTimeout(90_000);

type ErrorBody = {
  error: {
    code: string;
    message: string;
    details: {
      issues?: { path: string; message: string }[];
      segment?: string;
      state?: string;
      reason?: string;
      authority?: string;
      existing?: { id: string; cri: string };
    };
  };
};

const gpuNode = {
  name: 'Guangzhou H200',
  class: 'AI',
  form: 'CTR',
  location: { country: 'CN', subdivision: 'GZ', site: 'GA1' },
  spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
  capacity: 8,
};

async function patch<T>(url: string, token: string, body: unknown) {
  const res = await fetch(url, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('registry: registration, revisions, lifecycle, heartbeats (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });
  const resolve = <T>(code: string) =>
    apiClient(api.url).get<T>(`/v1/cri/${encodeURIComponent(code)}`);

  it('registers idempotently under an Idempotency-Key; a keyless duplicate is 409; nothing stored', async () => {
    const seller = await signUpActor(api, ['seller']);
    const first = await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode, {
      'idempotency-key': 'register-gz-h200-1',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ capacity: 8, revision: 1, state: 'prepared' });
    const replay = await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode, {
      'idempotency-key': 'register-gz-h200-1',
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.cri).toBe(first.body.cri);
    const reused = await seller.client.post<ErrorBody>(
      '/v1/resources',
      { ...gpuNode, capacity: 4 },
      { 'idempotency-key': 'register-gz-h200-1' },
    );
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_conflict');

    const dup = await seller.client.post<ErrorBody>('/v1/resources', gpuNode);
    expect(dup.status).toBe(409);
    expect(dup.body.error.details).toMatchObject({
      reason: 'duplicate_resource',
      existing: { id: first.body.id, cri: first.body.cri },
    });
    expect(
      (await seller.client.get<{ items: unknown[] }>('/v1/resources')).body.items,
    ).toHaveLength(1);

    // A fresh key states the intent to register a second identical machine.
    const second = await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode, {
      'idempotency-key': 'register-gz-h200-2',
    });
    expect(second.status).toBe(201);
    expect(parseCri(second.body.cri).serial).toBe('000002');
  });

  it('refuses impossible facts with a 400 naming the field, and stores nothing', async () => {
    const seller = await signUpActor(api, ['seller']);
    const cases: [unknown, string][] = [
      [
        { ...gpuNode, spec: { ...gpuNode.spec, accel: { count: 8, model: 'H900' } } },
        'spec.accel.model',
      ],
      [{ ...gpuNode, spec: { ...gpuNode.spec, cpu: 0 } }, 'spec.cpu'],
      [{ ...gpuNode, spec: { ...gpuNode.spec, memGiB: -512 } }, 'spec.memGiB'],
      [
        { ...gpuNode, spec: { ...gpuNode.spec, accel: { count: 5_000_000, model: 'H200' } } },
        'spec.accel.count',
      ],
      [{ ...gpuNode, spec: { ...gpuNode.spec, cpu: 2.5 } }, 'spec.cpu'],
      [{ ...gpuNode, location: { ...gpuNode.location, country: 'cn' } }, 'location.country'],
      [{ ...gpuNode, location: { ...gpuNode.location, country: 'QQ' } }, 'location.country'],
      [
        { ...gpuNode, location: { ...gpuNode.location, subdivision: 'GUANG' } },
        'location.subdivision',
      ],
      [{ ...gpuNode, capacity: 0 }, 'capacity'],
      [{ ...gpuNode, spec: {} }, 'spec'],
    ];
    for (const [body, path] of cases) {
      const r = await seller.client.post<ErrorBody>('/v1/resources', body);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
      expect(r.body.error.details.issues?.map((i) => i.path)).toContain(path);
    }
    expect(
      (await seller.client.get<{ items: unknown[] }>('/v1/resources')).body.items,
    ).toHaveLength(0);
  });

  it('resolves: facts, revision, lifecycle, live status and access path; foreign prefixes name their authority', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode)).body;
    const byCri = await resolve<ResolutionView>(r.cri);
    expect(byCri.status).toBe(200);
    expect(byCri.body).toMatchObject({
      id: r.id,
      handle: r.handle,
      resolved: { cri: r.cri, revision: 1, current: true, supersededAt: null },
      lifecycle: 'prepared',
      live: { status: 'offline', lastHeartbeatAt: null },
      accessPath: { region: 'CN-GZ', site: 'GA1', endpointKind: 'container' },
      spec: gpuNode.spec,
      capacity: 8,
    });
    expect((await resolve<ResolutionView>(r.handle)).body.id).toBe(r.id);

    const badHandle = await resolve<ErrorBody>(`${r.registrant}/00001`);
    expect(badHandle.status).toBe(400);
    expect(badHandle.body.error.details.segment).toBe('serial');
    const badSpec = await resolve<ErrorBody>(r.cri.replace('C96.M1536', 'M1536.C96'));
    expect(badSpec.status).toBe(400);
    expect(badSpec.body.error.details.segment).toBe('spec');

    const foreign = formatCri({
      ...parseCri(r.cri),
      registrant: { root: '86', platform: 'R07', entity: 'E00042' },
    });
    for (const code of [foreign, '86.R07.E00042/000001']) {
      const f = await resolve<ErrorBody>(code);
      expect(f.status).toBe(404);
      expect(f.body.error.details.authority).toBe('86.R07');
    }
  });

  it('a code-changing edit issues a new revision; the old CRI resolves as superseded', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode)).body;
    const renamed = await patch<ResourceDetailView>(
      `${api.url}/v1/resources/${r.id}`,
      seller.token,
      {
        name: 'renamed',
        capacity: 4,
      },
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ cri: r.cri, revision: 1, name: 'renamed', capacity: 4 });

    const upgraded = await patch<ResourceDetailView>(
      `${api.url}/v1/resources/${r.id}`,
      seller.token,
      {
        spec: { ...gpuNode.spec, accel: { count: 16, model: 'H200' } },
      },
    );
    expect(upgraded.status).toBe(200);
    expect(upgraded.body.revision).toBe(2);
    expect(upgraded.body.handle).toBe(r.handle);
    expect(upgraded.body.cri).toContain(':C96.M1536.G16-H200:');
    expect(parseCri(upgraded.body.cri).serial).toBe(parseCri(r.cri).serial);

    const old = await resolve<ResolutionView>(r.cri);
    expect(old.status).toBe(200);
    expect(old.body).toMatchObject({
      id: r.id,
      cri: upgraded.body.cri,
      revision: 2,
      resolved: { cri: r.cri, revision: 1, current: false },
    });
    expect(old.body.resolved.supersededAt).not.toBeNull();
    expect((await resolve<ResolutionView>(upgraded.body.cri)).body.resolved.current).toBe(true);

    // Moving back gives the first code again: it is current again.
    const back = await patch<ResourceDetailView>(`${api.url}/v1/resources/${r.id}`, seller.token, {
      spec: gpuNode.spec,
    });
    expect(back.body).toMatchObject({ cri: r.cri, revision: 3 });
    expect((await resolve<ResolutionView>(r.cri)).body.resolved).toMatchObject({
      current: true,
      revision: 3,
    });
    const bad = await patch<ErrorBody>(`${api.url}/v1/resources/${r.id}`, seller.token, {
      spec: { accel: { count: 1, model: 'NOPE1' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues?.[0]?.path).toBe('spec.accel.model');
  });

  it('refuses transitions out of order with 409 naming the state; retiring reserves the handle', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode)).body;
    const skip = await seller.client.post<ErrorBody>(`/v1/resources/${r.id}/lifecycle`, {
      to: 'schedulable',
    });
    expect(skip.status).toBe(409);
    expect(skip.body.error).toMatchObject({
      code: 'invalid_state',
      details: { state: 'prepared' },
    });
    const noAgent = await seller.client.post<ErrorBody>(`/v1/resources/${r.id}/lifecycle`, {
      to: 'connected',
    });
    expect(noAgent.status).toBe(409);
    expect(noAgent.body.error.details.state).toBe('prepared');

    const key = await generateSigningKey();
    await seller.client.post(`/v1/resources/${r.id}/agents`, { publicJwk: key.publicJwk });
    const connected = await seller.client.post<ResourceDetailView>(
      `/v1/resources/${r.id}/lifecycle`,
      { to: 'connected' },
    );
    expect(connected.status).toBe(200);
    expect(connected.body.state).toBe('connected');
    const running = await seller.client.post<ErrorBody>(`/v1/resources/${r.id}/lifecycle`, {
      to: 'running',
    });
    expect(running.status).toBe(409);
    expect(running.body.error.details.state).toBe('connected');

    // Listing makes it schedulable; delisting (back to connected) pauses its offers.
    const listed = await seller.client.post<{ id: string; status: string }>('/v1/offers', {
      resourceId: r.id,
      title: 'listed',
      currency: 'CNY',
      capacity: 1,
      pricingModel: 'fixed',
      prices: [{ unit: 'slot_h', price: '1.00' }],
    });
    expect(listed.status).toBe(201);
    const delisted = await seller.client.post<ResourceDetailView>(
      `/v1/resources/${r.id}/lifecycle`,
      {
        to: 'connected',
      },
    );
    expect(delisted.body.state).toBe('connected');
    expect(
      (await apiClient(api.url).get<{ status: string }>(`/v1/offers/${listed.body.id}`)).body
        .status,
    ).toBe('paused');

    const retired = await seller.client.post<ResourceDetailView>(
      `/v1/resources/${r.id}/retire`,
      {},
    );
    expect(retired.status).toBe(200);
    expect(retired.body.state).toBe('retired');
    expect(retired.body.retiredAt).not.toBeNull();
    const again = await seller.client.post<ErrorBody>(`/v1/resources/${r.id}/retire`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.details.state).toBe('retired');
    const offer = await seller.client.post<ErrorBody>('/v1/offers', {
      resourceId: r.id,
      title: 'retired',
      currency: 'CNY',
      capacity: 1,
      pricingModel: 'fixed',
      prices: [{ unit: 'slot_h', price: '1.00' }],
    });
    expect(offer.status).toBe(409);
    const edit = await patch<ErrorBody>(`${api.url}/v1/resources/${r.id}`, seller.token, {
      name: 'x',
    });
    expect(edit.status).toBe(409);
    expect(edit.body.error.details.state).toBe('retired');
    expect((await resolve<ResolutionView>(r.handle)).body.lifecycle).toBe('retired');
    // The serial is never reused: the next registration gets the next one.
    const next = (await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode)).body;
    expect(parseCri(next.cri).serial).toBe('000002');
  });

  it('heartbeats set live status by age and report; the owner reads the history', async () => {
    const seller = await signUpActor(api, ['seller']);
    const r = (await seller.client.post<ResourceDetailView>('/v1/resources', gpuNode)).body;
    const key = await generateSigningKey();
    const agent = (
      await seller.client.post<{ id: string }>(`/v1/resources/${r.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    const asAgent = apiClient(
      api.url,
      await agentToken(agent.id, { ...key.privateJwk, kid: key.kid }),
    );
    const t0 = api.clock.now();
    const beat = await asAgent.post<{ liveStatus: string; accepted: boolean }>(
      '/v1/agents/me/heartbeats',
      { status: 'online', utilization: 0.25 },
    );
    expect(beat.status).toBe(202);
    expect(beat.body).toMatchObject({ liveStatus: 'online', accepted: true });
    const seen = (await resolve<ResolutionView>(r.handle)).body;
    expect(seen.lifecycle).toBe('connected');
    expect(seen.live).toEqual({ status: 'online', lastHeartbeatAt: t0.toISOString() });

    api.clock.advance(5 * 60_000);
    expect((await resolve<ResolutionView>(r.handle)).body.live.status).toBe('degraded');
    api.clock.advance(15 * 60_000);
    expect((await resolve<ResolutionView>(r.handle)).body.live.status).toBe('offline');
    const degraded = await asAgent.post<{ liveStatus: string }>('/v1/agents/me/heartbeats', {
      status: 'degraded',
      utilization: 0.9,
    });
    expect(degraded.body.liveStatus).toBe('degraded');
    expect((await resolve<ResolutionView>(r.cri)).body.live.status).toBe('degraded');
    // An old beat (sent late) is history, not the latest status.
    await asAgent.post('/v1/agents/me/heartbeats', {
      status: 'online',
      at: new Date(t0.getTime() + 60_000).toISOString(),
    });
    expect((await resolve<ResolutionView>(r.cri)).body.live.status).toBe('degraded');

    for (const body of [
      { status: 'up' },
      { status: 'online', utilization: 2 },
      { status: 'online', at: new Date(api.clock.now().getTime() + 3600_000).toISOString() },
    ]) {
      const bad = await asAgent.post<ErrorBody>('/v1/agents/me/heartbeats', body);
      expect(bad.status).toBe(400);
    }
    expect(
      (await apiClient(api.url).post('/v1/agents/me/heartbeats', { status: 'online' })).status,
    ).toBe(401);

    const history = await seller.client.get<{ items: HeartbeatView[] }>(
      `/v1/resources/${r.id}/heartbeats?from=${encodeURIComponent(t0.toISOString())}`,
    );
    expect(history.status).toBe(200);
    expect(history.body.items.map((h) => [h.status, h.utilization])).toEqual([
      ['online', '0.250000'],
      ['online', null],
      ['degraded', '0.900000'],
    ]);
    expect(history.body.items[0]?.agentId).toBe(agent.id);
    const other = await signUpActor(api, ['seller']);
    expect((await other.client.get(`/v1/resources/${r.id}/heartbeats`)).status).toBe(404);
  });
});

describe('registry search (real API, real PostgreSQL)', () => {
  let api: TestMarketApi;
  beforeAll(async () => {
    api = await startMarketApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const search = (q: string) =>
    apiClient(api.url).get<{ items: ResourceDetailView[]; nextCursor: string | null }>(
      `/v1/resources/search?${q}`,
    );
  const names = async (q: string) => {
    const r = await search(q);
    expect(r.status).toBe(200);
    return r.body.items.map((i) => i.name).sort();
  };

  it('filters by every segment and spec ranges, pages with a stable cursor', async () => {
    const a = await signUpActor(api, ['seller']);
    const signup = await apiClient(api.url).post<SessionView>('/v1/auth/signup', {
      email: `research-${Date.now()}@suanli.test`,
      password: 'actor-password-123',
      displayName: 'research',
      organization: { name: 'research institute', roles: ['seller'], industry: 'M' },
    });
    const b = apiClient(api.url, signup.body.accessToken);
    const reg = async (c: typeof a.client, name: string, over: Record<string, unknown>) => {
      const r = await c.post<ResourceDetailView>('/v1/resources', { ...gpuNode, name, ...over });
      expect(r.status).toBe(201);
      return r.body;
    };
    const gz8 = await reg(a.client, 'gz8', {});
    await reg(a.client, 'gz4', {
      spec: { cpu: 48, memGiB: 768, accel: { count: 4, model: 'H200' } },
    });
    await reg(a.client, 'gz-b', {
      location: { country: 'CN', subdivision: 'GZ', site: 'GB2' },
      spec: { cpu: 64, memGiB: 512, accel: { count: 8, model: 'H100' } },
    });
    await reg(a.client, 'bj-vm', {
      class: 'GEN',
      form: 'VM',
      location: { country: 'CN', subdivision: 'BJ', site: 'HD1' },
      spec: { cpu: 8, memGiB: 32 },
    });
    await reg(b, 'nm-hpc', {
      class: 'HPC',
      form: 'JOB',
      location: { country: 'CN', subdivision: 'NM', site: 'WLC' },
      spec: { cpu: 2048, memGiB: 8192 },
    });
    const sg = await reg(b, 'sg-vm', {
      class: 'GEN',
      form: 'VM',
      location: { country: 'SG', subdivision: '01', site: 'A' },
      spec: { cpu: 16, memGiB: 64 },
    });

    expect(await names('class=AI')).toEqual(['gz-b', 'gz4', 'gz8']);
    expect(await names('form=VM')).toEqual(['bj-vm', 'sg-vm']);
    expect(await names('location=CN')).toEqual(['bj-vm', 'gz-b', 'gz4', 'gz8', 'nm-hpc']);
    expect(await names('location=CN-GZ')).toEqual(['gz-b', 'gz4', 'gz8']);
    expect(await names('location=CN-GZ.GA1')).toEqual(['gz4', 'gz8']);
    expect(await names('industry=M')).toEqual(['nm-hpc', 'sg-vm']);
    expect(await names(`registrant=${gz8.registrant}`)).toEqual(['bj-vm', 'gz-b', 'gz4', 'gz8']);
    expect(await names('registrant=86.N00')).toHaveLength(6);
    expect(await names('registrant=86.R07')).toEqual([]);
    expect(await names('accelModel=H200&accelMin=8')).toEqual(['gz8']);
    expect(await names('accelMin=8')).toEqual(['gz-b', 'gz8']);
    expect(await names('cpuMin=16&cpuMax=64')).toEqual(['gz-b', 'gz4', 'sg-vm']);
    expect(await names('memMin=1000')).toEqual(['gz8', 'nm-hpc']);
    expect(await names('memMax=64')).toEqual(['bj-vm', 'sg-vm']);

    // Lifecycle and live status.
    const key = await generateSigningKey();
    const agent = (
      await a.client.post<{ id: string }>(`/v1/resources/${gz8.id}/agents`, {
        publicJwk: key.publicJwk,
      })
    ).body;
    await apiClient(api.url, await agentToken(agent.id, { ...key.privateJwk, kid: key.kid })).post(
      '/v1/agents/me/heartbeats',
      { status: 'online' },
    );
    expect(await names('state=connected')).toEqual(['gz8']);
    expect(await names('status=online')).toEqual(['gz8']);
    expect(await names('status=offline')).toHaveLength(5);
    api.clock.advance(10 * 60_000);
    expect(await names('status=degraded')).toEqual(['gz8']);
    expect(await names('status=online')).toEqual([]);
    await b.post(`/v1/resources/${sg.id}/retire`, {});
    expect(await names('form=VM')).toEqual(['bj-vm']);
    expect(await names('state=retired')).toEqual(['sg-vm']);

    // Pagination: every resource once, in created_at, id order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { items: ResourceDetailView[]; nextCursor: string | null };
      } = await search(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i) => i.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['gz8', 'gz4', 'gz-b', 'bj-vm', 'nm-hpc']);

    for (const q of [
      'cursor=bm9wZQ',
      'location=cn-gz',
      'registrant=86.X07',
      'limit=0',
      'colour=red',
    ]) {
      const bad = await search(q);
      expect({ q, status: bad.status }).toEqual({ q, status: 400 });
    }
  });
});
