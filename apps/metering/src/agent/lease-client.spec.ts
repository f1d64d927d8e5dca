import { describe, expect, it } from '@jest/globals';
import { importJWK, jwtVerify } from 'jose';
import { generateSigningKey } from '@suanli/crypto';
import {
  agentToken,
  clipToLease,
  fetchActiveLeases,
  lastWindow,
  sendHeartbeat,
  utilizationOf,
} from './lease-client.js';
import type { ActiveLease } from './types.js';

const AGENT = '86.R03.E00042/000137#a1';
const item: ActiveLease = {
  leaseId: '22222222-2222-4222-8222-222222222222',
  cri: 'CRI1:x',
  class: 'AI',
  spec: { cpu: 12, memGiB: 192, accel: { count: 1, model: 'H200' } },
  slots: 8,
  startsAt: '2026-11-28T08:00:30.500Z',
  endsAt: '2026-11-28T09:00:00Z',
  catalogVersion: '2026.1',
};

describe('agent lease client', () => {
  it('signs a 60-second bearer JWT with the agent key (iss = sub = agent, aud suanli-market)', async () => {
    const key = await generateSigningKey();
    const token = await agentToken(AGENT, key.privateJwk);
    const { payload, protectedHeader } = await jwtVerify(
      token,
      await importJWK(key.publicJwk, 'EdDSA'),
      {
        audience: 'suanli-market',
        issuer: AGENT,
        subject: AGENT,
      },
    );
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: key.kid });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
  });

  it('GETs /v1/agents/me/leases with the bearer token and validates the answer', async () => {
    const key = await generateSigningKey();
    const calls: { url: string; auth: string | null }[] = [];
    const fakeFetch = (async (url: URL, init?: RequestInit) => {
      calls.push({ url: String(url), auth: new Headers(init?.headers).get('authorization') });
      return new Response(JSON.stringify({ items: [item] }), { status: 200 });
    }) as typeof fetch;
    const leases = await fetchActiveLeases(
      'http://api.test:3100',
      AGENT,
      key.privateJwk,
      fakeFetch,
    );
    expect(leases).toEqual([item]);
    expect(calls[0].url).toBe('http://api.test:3100/v1/agents/me/leases');
    expect(calls[0].auth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

    const failing = (async () => new Response('{}', { status: 401 })) as typeof fetch;
    await expect(
      fetchActiveLeases('http://api.test', AGENT, key.privateJwk, failing),
    ).rejects.toThrow('HTTP 401');
    const malformed = (async () =>
      new Response(JSON.stringify({ items: [{ leaseId: 'x' }] }))) as typeof fetch;
    await expect(
      fetchActiveLeases('http://api.test', AGENT, key.privateJwk, malformed),
    ).rejects.toThrow();
  });

  it('takes the last complete aligned window and clips it to the lease in whole seconds', () => {
    const w = lastWindow(new Date('2026-11-28T08:01:07.250Z'), 60);
    expect(w).toEqual({
      start: new Date('2026-11-28T08:00:00Z'),
      end: new Date('2026-11-28T08:01:00Z'),
    });
    // The lease starts at 08:00:30.5: the window starts at the next whole second.
    expect(clipToLease(item, w)).toEqual({
      start: new Date('2026-11-28T08:00:31Z'),
      end: new Date('2026-11-28T08:01:00Z'),
    });
    expect(clipToLease(item, lastWindow(new Date('2026-11-28T08:00:10Z'), 60))).toBeNull();
    expect(clipToLease(item, lastWindow(new Date('2026-11-28T09:00:10Z'), 60))).toEqual({
      start: new Date('2026-11-28T08:59:00Z'),
      end: new Date('2026-11-28T09:00:00Z'),
    });
  });

  it('posts a heartbeat with the agent JWT and tolerates a market without the endpoint (404)', async () => {
    const key = await generateSigningKey();
    const calls: { url: string; init: RequestInit }[] = [];
    const fake = (status: number) =>
      (async (url: string | URL | Request, init?: RequestInit) => {
        calls.push({ url: String(url), init: init ?? {} });
        return new Response(status === 202 ? '{}' : null, { status });
      }) as typeof fetch;
    expect(
      await sendHeartbeat(
        'http://m',
        AGENT,
        key.privateJwk,
        { status: 'online', utilization: 0.5 },
        fake(202),
      ),
    ).toBe(true);
    expect(calls[0].url).toBe('http://m/v1/agents/me/heartbeats');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ status: 'online', utilization: 0.5 });
    expect(String((calls[0].init.headers as Record<string, string>).authorization)).toMatch(
      /^Bearer /,
    );
    expect(
      await sendHeartbeat('http://m', AGENT, key.privateJwk, { status: 'online' }, fake(404)),
    ).toBe(false);
    await expect(
      sendHeartbeat('http://m', AGENT, key.privateJwk, { status: 'online' }, fake(500)),
    ).rejects.toThrow('HTTP 500');
  });

  it('reports utilization as used over deliverable accelerator (else core) seconds', () => {
    const window = { start: new Date(0), end: new Date(60_000) };
    expect(utilizationOf([])).toBe(0);
    expect(
      utilizationOf([
        { lease: item, window, usage: { duration_s: '60', acc_s: { H200: '240' } } },
        { lease: item, window, usage: { duration_s: '60', acc_s: { H200: '480' } } },
      ]),
    ).toBe(0.75);
    const cpuOnly = { ...item, spec: { cpu: 4 }, slots: 1 };
    expect(
      utilizationOf([{ lease: cpuOnly, window, usage: { duration_s: '60', cpu_core_s: '60' } }]),
    ).toBe(0.25);
  });
});
