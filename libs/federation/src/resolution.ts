import { signJws, type JWK } from '@suanli/crypto';
import { parseCri, parseHandle } from '@suanli/cri';
import { z } from 'zod';
import { entryOf, PLATFORM_CODE, type Directory } from './directory.js';
import { FederationError } from './errors.js';
import { unverifiedPayload, verifiedPayload } from './jws-payload.js';

export const RESOLUTION_TYPE = 'suanli.resolution/v1';
/** A forwarded resolution is served from cache this long without asking the owner (ms). */
export const RESOLUTION_FRESH_MS = 60_000;
/** …and served marked `stale` this long while the owner is unreachable (ms). */
export const RESOLUTION_STALE_MS = 600_000;
/** Forwarding hops a resolution may take before it is cut (a loop between directories). */
export const RESOLUTION_HOP_LIMIT = 2;
export const HOPS_HEADER = 'suanli-hops';

/** The platform that owns a CRI or handle: its `<root>.<platform>` prefix (throws CriError). */
export function authorityOf(code: string): string {
  const asHandle = !code.startsWith('CRI') && code.includes('/');
  const r = asHandle ? parseHandle(code).registrant : parseCri(code).registrant;
  return `${r.root}.${r.platform}`;
}

const recordSchema = z.object({
  typ: z.literal(RESOLUTION_TYPE),
  authority: z.string().regex(PLATFORM_CODE),
  code: z.string().min(1).max(200),
  iat: z.number().int().nonnegative(),
  resolution: z.record(z.string(), z.unknown()),
});

export type ResolutionRecord = z.infer<typeof recordSchema>;

/** The owner's signed resolution record: what its gateway answered for `code`, at `iat`. */
export async function signResolutionRecord(
  r: { authority: string; code: string; nowSeconds: number; resolution: Record<string, unknown> },
  privateJwk: JWK,
): Promise<string> {
  return signJws(
    {
      typ: RESOLUTION_TYPE,
      authority: r.authority,
      code: r.code,
      iat: r.nowSeconds,
      resolution: r.resolution,
    },
    privateJwk,
  );
}

/**
 * Verifies a resolution record against a directory: signed by a key the directory lists for
 * its authority, and the authority owns the code. A suspended authority's record still verifies
 * (it was true when signed); `state` says what the directory says of it now.
 */
export async function verifyResolutionRecord(
  jws: string,
  directory: Directory,
): Promise<{ record: ResolutionRecord; state: string }> {
  const claimed = unverifiedPayload(jws, recordSchema, 'the resolution record');
  const entry = entryOf(directory, claimed.authority);
  if (!entry) {
    throw new FederationError('unknown_platform', `${claimed.authority} is not in the directory`);
  }
  const { payload } = await verifiedPayload(jws, entry.keys, recordSchema, 'the resolution record');
  let owner: string;
  try {
    owner = authorityOf(payload.code);
  } catch (e) {
    throw new FederationError('malformed', `${payload.code} is not a CRI or handle`, { cause: e });
  }
  if (owner !== payload.authority) {
    throw new FederationError('untrusted_key', `${payload.authority} does not own ${payload.code}`);
  }
  return { record: payload, state: entry.state };
}

export type CacheState = 'fresh' | 'stale' | 'expired';

/** How a cached forwarded resolution may be used `nowMs` after it was fetched at `fetchedAtMs`. */
export function resolutionCacheState(
  fetchedAtMs: number,
  nowMs: number,
  limits: { freshMs: number; staleMs: number } = {
    freshMs: RESOLUTION_FRESH_MS,
    staleMs: RESOLUTION_STALE_MS,
  },
): CacheState {
  const age = nowMs - fetchedAtMs;
  if (age < limits.freshMs) return 'fresh';
  if (age < limits.staleMs) return 'stale';
  return 'expired';
}

/** Hops a request has taken (header value); a missing or malformed header is 0. */
export function hopsOf(header: string | undefined): number {
  const n = Number(header ?? '0');
  return Number.isInteger(n) && n >= 0 && n < 100 ? n : RESOLUTION_HOP_LIMIT;
}
