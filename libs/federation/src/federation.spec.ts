import { describe, expect, it, beforeAll } from '@jest/globals';
import fc from 'fast-check';
import { generateSigningKey, type SigningKey } from '@suanli/crypto';
import {
  authorityOf,
  directoryRefreshAt,
  FederationError,
  hopsOf,
  levelOfCode,
  resolutionCacheState,
  signAssertion,
  signDirectory,
  signJoinRequest,
  signResolutionRecord,
  verifyAssertion,
  verifyDirectory,
  verifyJoinRequest,
  verifyResolutionRecord,
  type Directory,
  type DirectoryEntry,
} from './index.js';
import { codeOf, directoryOf, testPlatform } from './testing.js';

const NOW = 1_800_000_100;
type P = Awaited<ReturnType<typeof testPlatform>>;
let n00: P;
let r03: P;
let i05: P;
let pins: string[];
let signed: string;
let directory: Directory;

beforeAll(async () => {
  n00 = await testPlatform('86.N00', 'national');
  r03 = await testPlatform('86.R03', 'regional');
  i05 = await testPlatform('86.I05', 'industry', 'suspended');
  pins = n00.entry.thumbprints;
  signed = await signDirectory(directoryOf([n00.entry, r03.entry, i05.entry]), n00.key.privateJwk);
  directory = await verifyDirectory(signed, { pins, nowSeconds: NOW });
});

/** Replaces the payload of a JWS keeping its header and signature (a forgery). */
function withPayload(jws: string, payload: object): string {
  const [h, , s] = jws.split('.');
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

describe('directory', () => {
  it('verifies a directory signed by the pinned national key', () => {
    expect(directory.serial).toBe(1);
    expect(directory.platforms.map((p) => p.code)).toEqual(['86.N00', '86.R03', '86.I05']);
    expect(directoryRefreshAt(directory)).toBe(directory.iat + 1800);
  });

  it('refuses a directory whose national key is not pinned', async () => {
    expect(await codeOf(verifyDirectory(signed, { pins: ['other'], nowSeconds: NOW }))).toBe(
      'untrusted_key',
    );
  });

  it('refuses a directory signed by another key that claims to be the national one', async () => {
    const mallory = await generateSigningKey();
    const forged = await signDirectory(
      directoryOf([n00.entry, r03.entry, i05.entry], { serial: 9 }),
      mallory.privateJwk,
    );
    expect(await codeOf(verifyDirectory(forged, { pins, nowSeconds: NOW }))).toBe('bad_signature');
  });

  it('refuses a tampered directory (bad signature)', async () => {
    const tampered = withPayload(signed, { ...directory, serial: 2 });
    expect(await codeOf(verifyDirectory(tampered, { pins, nowSeconds: NOW }))).toBe(
      'bad_signature',
    );
  });

  it('refuses an expired directory and one issued in the future', async () => {
    expect(await codeOf(verifyDirectory(signed, { pins, nowSeconds: directory.exp }))).toBe(
      'expired',
    );
    expect(await codeOf(verifyDirectory(signed, { pins, nowSeconds: directory.iat - 31 }))).toBe(
      'not_yet_valid',
    );
  });

  it('refuses a lower serial and an equal serial with other contents; accepts the same one', async () => {
    const v2 = await signDirectory(
      directoryOf([n00.entry, r03.entry], { serial: 2 }),
      n00.key.privateJwk,
    );
    const cached = { serial: 2, jws: v2 };
    expect(await codeOf(verifyDirectory(signed, { pins, nowSeconds: NOW, cached }))).toBe(
      'stale_serial',
    );
    const fork = await signDirectory(directoryOf([n00.entry], { serial: 2 }), n00.key.privateJwk);
    expect(await codeOf(verifyDirectory(fork, { pins, nowSeconds: NOW, cached }))).toBe(
      'stale_serial',
    );
    expect((await verifyDirectory(v2, { pins, nowSeconds: NOW, cached })).serial).toBe(2);
  });

  it('refuses entries whose thumbprints are not their keys', async () => {
    const lying: DirectoryEntry = { ...r03.entry, thumbprints: i05.entry.thumbprints };
    const jws = await signDirectory(directoryOf([n00.entry, lying]), n00.key.privateJwk);
    expect(await codeOf(verifyDirectory(jws, { pins, nowSeconds: NOW }))).toBe('malformed');
  });

  it('never throws anything but a FederationError on arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json().map((j) => withPayload(signed, JSON.parse(j) as object)),
        ),
        async (s) => {
          const code = await codeOf(verifyDirectory(s, { pins, nowSeconds: NOW }));
          expect(code).toBeDefined();
          expect(code).not.toMatch(/^not a FederationError/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('round-trips any valid serial and validity window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        async (serial, age, life) => {
          const iat = NOW - age;
          const jws = await signDirectory(
            directoryOf([n00.entry, r03.entry], { serial, iat, exp: iat + age + life }),
            n00.key.privateJwk,
          );
          const d = await verifyDirectory(jws, { pins, nowSeconds: NOW });
          expect(d.serial).toBe(serial);
          expect(d.exp).toBe(iat + age + life);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('names a level by the code letter', () => {
    expect([levelOfCode('86.N00'), levelOfCode('86.R03'), levelOfCode('86.I05')]).toEqual([
      'national',
      'regional',
      'industry',
    ]);
    expect(() => levelOfCode('86.X00')).toThrow(FederationError);
  });
});

describe('client assertions', () => {
  const assertion = (
    key: SigningKey,
    o: Partial<{ iss: string; aud: string; life: number }> = {},
  ) =>
    signAssertion(
      { iss: o.iss ?? '86.R03', aud: o.aud ?? '86.N00', nowSeconds: NOW, lifetimeSeconds: o.life },
      key.privateJwk,
    );
  const verify = (t: string, nowSeconds = NOW + 1) =>
    verifyAssertion(t, { audience: '86.N00', directory, nowSeconds });

  it('accepts an assertion of an active platform signed with its listed key', async () => {
    const c = await verify(await assertion(r03.key));
    expect(c.iss).toBe('86.R03');
    expect(c.exp - c.iat).toBe(60);
    expect(c.jti.length).toBeGreaterThanOrEqual(16);
  });

  it('refuses forged, misdirected, suspended, unknown, long-lived and expired assertions', async () => {
    expect(await codeOf(verify(await assertion(i05.key)))).toBe('bad_signature');
    expect(await codeOf(verify(await assertion(r03.key, { aud: '86.R03' })))).toBe(
      'wrong_audience',
    );
    expect(await codeOf(verify(await assertion(i05.key, { iss: '86.I05' })))).toBe(
      'suspended_platform',
    );
    expect(await codeOf(verify(await assertion(r03.key, { iss: '86.R09' })))).toBe(
      'unknown_platform',
    );
    expect(await codeOf(verify(await assertion(r03.key, { life: 61 })))).toBe('lifetime_too_long');
    expect(await codeOf(verify(await assertion(r03.key), NOW + 60))).toBe('expired');
    expect(await codeOf(verify('not.a.jwt'))).toBe('malformed');
  });
});

describe('join handshake', () => {
  it('accepts a request signed by an admitted key and keeps only admitted keys', async () => {
    const next = await generateSigningKey();
    const jws = await signJoinRequest(
      {
        code: '86.R03',
        national: '86.N00',
        name: 'R03',
        url: 'http://127.0.0.1:1',
        keys: [r03.key.publicJwk, next.publicJwk],
        nowSeconds: NOW,
      },
      r03.key.privateJwk,
    );
    const ok = await verifyJoinRequest(jws, {
      national: '86.N00',
      code: '86.R03',
      admittedThumbprints: r03.entry.thumbprints,
      nowSeconds: NOW,
    });
    expect(ok.thumbprints).toEqual(r03.entry.thumbprints);
    expect(ok.signedBy).toBe(r03.key.kid);
  });

  it('refuses a request without possession of an admitted key, for another code, or old', async () => {
    const base = {
      code: '86.R03',
      national: '86.N00',
      name: 'R03',
      url: 'http://127.0.0.1:1',
      nowSeconds: NOW,
    };
    const check = (jws: string, o: Partial<{ code: string; nowSeconds: number }> = {}) =>
      verifyJoinRequest(jws, {
        national: '86.N00',
        code: o.code ?? '86.R03',
        admittedThumbprints: r03.entry.thumbprints,
        nowSeconds: o.nowSeconds ?? NOW,
      });
    // the admitted public key listed, but signed by another key: no proof of possession
    const claimed = await signJoinRequest(
      { ...base, keys: [r03.key.publicJwk] },
      i05.key.privateJwk,
    );
    expect(await codeOf(check(claimed))).toBe('bad_signature');
    const other = await signJoinRequest({ ...base, keys: [i05.key.publicJwk] }, i05.key.privateJwk);
    expect(await codeOf(check(other))).toBe('untrusted_key');
    const good = await signJoinRequest({ ...base, keys: [r03.key.publicJwk] }, r03.key.privateJwk);
    expect(await codeOf(check(good, { code: '86.I05' }))).toBe('malformed');
    expect(await codeOf(check(good, { nowSeconds: NOW + 301 }))).toBe('expired');
  });
});

describe('resolution records', () => {
  const code = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U';

  it('verifies a record of the owner against the directory', async () => {
    const jws = await signResolutionRecord(
      { authority: '86.R03', code, nowSeconds: NOW, resolution: { cri: code } },
      r03.key.privateJwk,
    );
    const { record, state } = await verifyResolutionRecord(jws, directory);
    expect(record.resolution).toEqual({ cri: code });
    expect(state).toBe('active');
  });

  it('refuses a record signed for a code its authority does not own, or by another key', async () => {
    const notOwner = await signResolutionRecord(
      { authority: '86.N00', code, nowSeconds: NOW, resolution: {} },
      n00.key.privateJwk,
    );
    expect(await codeOf(verifyResolutionRecord(notOwner, directory))).toBe('untrusted_key');
    const forged = await signResolutionRecord(
      { authority: '86.R03', code, nowSeconds: NOW, resolution: {} },
      n00.key.privateJwk,
    );
    expect(await codeOf(verifyResolutionRecord(forged, directory))).toBe('bad_signature');
  });

  it('names the authority of a CRI or handle', () => {
    expect(authorityOf(code)).toBe('86.R03');
    expect(authorityOf('86.I05.E0A1B2/000001')).toBe('86.I05');
  });

  it('serves cache fresh for 60 s, stale up to 10 min', () => {
    expect(resolutionCacheState(0, 59_999)).toBe('fresh');
    expect(resolutionCacheState(0, 60_000)).toBe('stale');
    expect(resolutionCacheState(0, 599_999)).toBe('stale');
    expect(resolutionCacheState(0, 600_000)).toBe('expired');
  });

  it('reads hops, treating garbage as the limit', () => {
    expect([hopsOf(undefined), hopsOf('1'), hopsOf('x'), hopsOf('-1')]).toEqual([0, 1, 2, 2]);
  });
});
