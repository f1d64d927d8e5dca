import { importJWK, SignJWT } from 'jose';
import { z } from 'zod';
import type { Jwk } from '../shared/signing.js';
import type { RawUsage } from '@suanli/units';
import type { ActiveLease, Window } from './types.js';

const leasesResponseSchema = z.object({
  items: z.array(
    z.object({
      leaseId: z.string().uuid(),
      cri: z.string(),
      class: z.enum(['GEN', 'AI', 'HPC']),
      spec: z.object({
        cpu: z.number().int().positive().optional(),
        memGiB: z.number().int().positive().optional(),
        accel: z.object({ count: z.number().int().positive(), model: z.string() }).optional(),
        storageGiB: z.number().int().positive().optional(),
        netGbps: z.number().int().positive().optional(),
      }),
      slots: z.number().int().positive(),
      startsAt: z.string(),
      endsAt: z.string(),
      catalogVersion: z.string(),
      /** The resource's CPU model, when the API tells it (rates `scu.gen`). */
      cpuModel: z.string().nullable().optional(),
    }),
  ),
});

/** A short-lived bearer token signed by the agent's own key (the market API checks its JWK). */
export async function agentToken(agentId: string, privateJwk: Jwk): Promise<string> {
  const key = await importJWK(privateJwk as Parameters<typeof importJWK>[0], 'EdDSA');
  const kid = typeof privateJwk['kid'] === 'string' ? privateJwk['kid'] : undefined;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })
    .setIssuer(agentId)
    .setSubject(agentId)
    .setAudience('suanli-market')
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key);
}

/** `GET {marketApiUrl}/v1/agents/me/leases`: the agent's active leases. */
export async function fetchActiveLeases(
  marketApiUrl: string,
  agentId: string,
  privateJwk: Jwk,
  fetchImpl: typeof fetch = fetch,
): Promise<ActiveLease[]> {
  const token = await agentToken(agentId, privateJwk);
  const res = await fetchImpl(new URL('/v1/agents/me/leases', marketApiUrl), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET /v1/agents/me/leases: HTTP ${res.status}`);
  return leasesResponseSchema
    .parse(await res.json())
    .items.map(({ cpuModel, ...lease }) => (cpuModel ? { ...lease, cpuModel } : lease));
}

/** The window [end - seconds, end) clipped to the lease, or null when they do not overlap. */
export function clipToLease(lease: ActiveLease, window: Window): Window | null {
  const start = Math.max(window.start.getTime(), Date.parse(lease.startsAt));
  const end = Math.min(window.end.getTime(), Date.parse(lease.endsAt));
  // Whole seconds only: units are computed from whole-second durations.
  const s = Math.ceil(start / 1000) * 1000;
  const e = Math.floor(end / 1000) * 1000;
  return e > s ? { start: new Date(s), end: new Date(e) } : null;
}

/** The last complete window before `now`, aligned to multiples of `seconds` since the epoch. */
export function lastWindow(now: Date, seconds: number): Window {
  const ms = seconds * 1000;
  const end = Math.floor(now.getTime() / ms) * ms;
  return { start: new Date(end - ms), end: new Date(end) };
}

/**
 * `POST {marketApiUrl}/v1/agents/me/heartbeats` `{status, utilization}`. Resolves `false` when the
 * market does not offer the endpoint (404, an older market API): heartbeats are best effort.
 */
export async function sendHeartbeat(
  marketApiUrl: string,
  agentId: string,
  privateJwk: Jwk,
  beat: { status: 'online' | 'degraded'; utilization?: number },
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const token = await agentToken(agentId, privateJwk);
  const res = await fetchImpl(new URL('/v1/agents/me/heartbeats', marketApiUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(beat),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status === 404) return false;
  if (!res.ok) throw new Error(`POST /v1/agents/me/heartbeats: HTTP ${res.status}`);
  return true;
}

/**
 * The share of what the leases' slots could deliver that the samples used (0..1): accelerator
 * seconds when the spec has accelerators, else core seconds.
 */
export function utilizationOf(
  samples: { lease: Pick<ActiveLease, 'spec' | 'slots'>; window: Window; usage: RawUsage }[],
): number {
  let used = 0;
  let possible = 0;
  for (const s of samples) {
    const seconds = (s.window.end.getTime() - s.window.start.getTime()) / 1000;
    const accel = s.lease.spec.accel;
    if (accel !== undefined) {
      used += Number(s.usage.acc_s?.[accel.model] ?? 0);
      possible += accel.count * s.lease.slots * seconds;
    } else if (s.lease.spec.cpu !== undefined) {
      used += Number(s.usage.cpu_core_s ?? 0);
      possible += s.lease.spec.cpu * s.lease.slots * seconds;
    }
  }
  if (!(possible > 0)) return 0;
  return Math.min(1, Math.max(0, Math.round((used / possible) * 1000) / 1000));
}
