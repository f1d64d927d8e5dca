import { jwkThumbprint, publicJwkOf, signJws, type JWK } from '@suanli/crypto';
import { z } from 'zod';
import { FederationError } from './errors.js';
import { keysWithThumbprints, unverifiedPayload, verifiedPayload } from './jws-payload.js';

/** `<root>.<platform>`: `86.N00` national, `86.R03` regional, `86.I05` industry (docs/identifier.md). */
export const PLATFORM_CODE = /^\d{2,4}\.[NRI][0-9A-Z]{2}$/;
export const PLATFORM_LEVELS = ['national', 'regional', 'industry'] as const;
export type PlatformLevel = (typeof PLATFORM_LEVELS)[number];
export const PLATFORM_STATES = ['active', 'suspended'] as const;
export type PlatformState = (typeof PLATFORM_STATES)[number];

/** The level a platform code names by its letter: N national, R regional, I industry. */
export function levelOfCode(code: string): PlatformLevel {
  if (!PLATFORM_CODE.test(code)) {
    throw new FederationError('malformed', `${code} is not a platform code like 86.R03`);
  }
  const letter = code.split('.')[1]?.[0];
  return letter === 'N' ? 'national' : letter === 'R' ? 'regional' : 'industry';
}

const jwkSchema = z
  .object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional() })
  .passthrough();

const entrySchema = z.object({
  code: z.string().regex(PLATFORM_CODE),
  level: z.enum(PLATFORM_LEVELS),
  name: z.string().min(1).max(200),
  url: z.string().url(),
  keys: z.array(jwkSchema).min(1).max(20),
  thumbprints: z.array(z.string().min(1)).min(1).max(20),
  state: z.enum(PLATFORM_STATES),
});

export const DIRECTORY_TYPE = 'suanli.directory/v1';

const directorySchema = z.object({
  typ: z.literal(DIRECTORY_TYPE),
  national: z.string().regex(PLATFORM_CODE),
  serial: z.number().int().positive(),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  platforms: z.array(entrySchema).min(1).max(10_000),
});

export type DirectoryEntry = Omit<z.infer<typeof entrySchema>, 'keys'> & { keys: JWK[] };
export type Directory = Omit<z.infer<typeof directorySchema>, 'platforms'> & {
  platforms: DirectoryEntry[];
};

/** Clock skew tolerated on `iat` (seconds). */
export const CLOCK_SKEW_SECONDS = 30;

/** Signs a directory with the national key; entries' keys are reduced to their public parts. */
export async function signDirectory(
  d: Omit<Directory, 'typ'>,
  nationalPrivateJwk: JWK,
): Promise<string> {
  const platforms = d.platforms.map((p) => ({ ...p, keys: p.keys.map(publicJwkOf) }));
  return signJws({ ...d, typ: DIRECTORY_TYPE, platforms }, nationalPrivateJwk);
}

/**
 * Verifies a signed directory (docs/federation.md, "Platforms and the directory"): signed by a
 * key of the national entry whose thumbprint is pinned, within `iat`..`exp`, every entry's
 * thumbprints those of its keys, codes unique, and — against the cached directory — a serial not
 * lower (an equal serial must be the same directory). Throws {@link FederationError}; the caller
 * keeps its cached directory on any refusal.
 */
export async function verifyDirectory(
  jws: string,
  opts: { pins: string[]; nowSeconds: number; cached?: { serial: number; jws: string } },
): Promise<Directory> {
  const claimed = unverifiedPayload(jws, directorySchema, 'the directory');
  const national = claimed.platforms.find((p) => p.code === claimed.national);
  if (!national || national.level !== 'national') {
    throw new FederationError('malformed', 'the directory does not list its national platform');
  }
  const trusted = await keysWithThumbprints(national.keys as JWK[], opts.pins);
  if (trusted.length === 0) {
    throw new FederationError(
      'untrusted_key',
      'no key of the directory’s national platform has a pinned thumbprint',
    );
  }
  const { payload } = await verifiedPayload(jws, trusted, directorySchema, 'the directory');
  const d = payload as Directory;
  if (d.exp <= opts.nowSeconds) {
    throw new FederationError('expired', `the directory expired at ${d.exp}`);
  }
  if (d.iat > opts.nowSeconds + CLOCK_SKEW_SECONDS || d.exp <= d.iat) {
    throw new FederationError(
      'not_yet_valid',
      `the directory is issued at ${d.iat}, in the future`,
    );
  }
  const codes = new Set<string>();
  for (const p of d.platforms) {
    if (codes.has(p.code)) throw new FederationError('malformed', `${p.code} is listed twice`);
    codes.add(p.code);
    if (levelOfCode(p.code) !== p.level) {
      throw new FederationError('malformed', `${p.code} is listed with level ${p.level}`);
    }
    const computed = await Promise.all(p.keys.map((k) => jwkThumbprint(k)));
    if (
      computed.length !== p.thumbprints.length ||
      computed.some((t, i) => t !== p.thumbprints[i])
    ) {
      throw new FederationError('malformed', `${p.code}: thumbprints do not match its keys`);
    }
  }
  if (opts.cached) {
    if (d.serial < opts.cached.serial) {
      throw new FederationError(
        'stale_serial',
        `serial ${d.serial} is older than the cached directory's ${opts.cached.serial}`,
      );
    }
    if (d.serial === opts.cached.serial && jws !== opts.cached.jws) {
      throw new FederationError(
        'stale_serial',
        `serial ${d.serial} is the cached directory's, with other contents`,
      );
    }
  }
  return d;
}

/** When a cached directory should be fetched again: half-way to `exp` (seconds). */
export function directoryRefreshAt(d: Pick<Directory, 'iat' | 'exp'>): number {
  return d.iat + Math.floor((d.exp - d.iat) / 2);
}

/** The directory's entry for a platform code, or undefined. */
export function entryOf(d: Directory, code: string): DirectoryEntry | undefined {
  return d.platforms.find((p) => p.code === code);
}
