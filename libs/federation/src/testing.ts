import { generateSigningKey, jwkThumbprint, type SigningKey } from '@suanli/crypto';
import type { Directory, DirectoryEntry, PlatformLevel } from './directory.js';
import { FederationError } from './errors.js';

/** A platform for tests: its code, level, a fresh key and its directory entry. */
export async function testPlatform(
  code: string,
  level: PlatformLevel,
  state: DirectoryEntry['state'] = 'active',
): Promise<{ code: string; key: SigningKey; entry: DirectoryEntry }> {
  const key = await generateSigningKey();
  return {
    code,
    key,
    entry: {
      code,
      level,
      name: `platform ${code}`,
      url: `http://127.0.0.1/${code}`,
      keys: [key.publicJwk],
      thumbprints: [await jwkThumbprint(key.publicJwk)],
      state,
    },
  };
}

/** A directory body (unsigned) of the given platforms, national first. */
export function directoryOf(
  entries: DirectoryEntry[],
  o: { serial?: number; iat?: number; exp?: number } = {},
): Omit<Directory, 'typ'> {
  const iat = o.iat ?? 1_800_000_000;
  return {
    national: entries[0]?.code ?? '86.N00',
    serial: o.serial ?? 1,
    iat,
    exp: o.exp ?? iat + 3600,
    platforms: entries,
  };
}

/** The FederationError code `p` rejects with (undefined when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof FederationError ? e.code : `not a FederationError: ${String(e)}`;
  }
  return undefined;
}
