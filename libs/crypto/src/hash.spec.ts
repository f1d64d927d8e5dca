import { describe, expect, it } from '@jest/globals';
import {
  bearerTokenMatches,
  CryptoError,
  hashPassword,
  hmacSha256Hex,
  randomToken,
  sha256,
  sha256Hex,
  verifyPassword,
} from './index.js';

describe('sha256Hex', () => {
  it('matches FIPS 180-2 vectors for strings and bytes', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(sha256Hex('abc'));
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes strings as UTF-8', () => {
    expect(sha256Hex('算力')).toBe(sha256Hex(new TextEncoder().encode('算力')));
    expect(Buffer.from(sha256('abc')).toString('hex')).toBe(sha256Hex('abc'));
  });
});

describe('hmacSha256Hex', () => {
  it('matches RFC 4231 test case 2', () => {
    expect(hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('randomToken', () => {
  it('is base64url of the requested length', () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(randomToken(48), 'base64url')).toHaveLength(48);
  });

  it('does not repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(tokens.size).toBe(1000);
  });

  it.each([0, -1, 1.5, 2000])('rejects %p bytes', (n) => {
    expect(() => randomToken(n)).toThrow(CryptoError);
  });
});

describe('hashPassword / verifyPassword', () => {
  it('encodes scrypt$N$r$p$salt$hash and verifies', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    await expect(verifyPassword('correct horse battery staple', h)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapl', h)).resolves.toBe(false);
    await expect(verifyPassword('', h)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('pw'), hashPassword('pw')]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('pw', a)).resolves.toBe(true);
    await expect(verifyPassword('pw', b)).resolves.toBe(true);
  });

  it('handles empty and non-ASCII passwords', async () => {
    const empty = await hashPassword('');
    await expect(verifyPassword('', empty)).resolves.toBe(true);
    const zh = await hashPassword('算力交易所🔑');
    await expect(verifyPassword('算力交易所🔑', zh)).resolves.toBe(true);
    await expect(verifyPassword('算力交易所', zh)).resolves.toBe(false);
  });

  it('verifies a hash made by node:crypto scrypt directly', async () => {
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    const encoded = `scrypt$1024$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    await expect(verifyPassword('pw', encoded)).resolves.toBe(true);
  });

  it('returns false for malformed or tampered encodings', async () => {
    const h = await hashPassword('pw');
    const parts = h.split('$');
    const variants = [
      '',
      'pw',
      h.replace('scrypt', 'bcrypt'),
      parts.slice(0, 5).join('$'),
      `${h}$x`,
      [...parts.slice(0, 1), '16383', ...parts.slice(2)].join('$'), // N not a power of two
      [...parts.slice(0, 1), '1073741824', ...parts.slice(2)].join('$'), // N too large
      [...parts.slice(0, 1), '016384', ...parts.slice(2)].join('$'),
      [...parts.slice(0, 2), '64', ...parts.slice(3)].join('$'), // r too large
      [...parts.slice(0, 4), 'not*base64', parts[5]].join('$'),
      [...parts.slice(0, 5), 'AAAA'].join('$'), // hash too short
      [...parts.slice(0, 5), Buffer.alloc(32).toString('base64url')].join('$'),
      [...parts.slice(0, 3), '2', ...parts.slice(4)].join('$'), // other p, same hash
    ];
    for (const v of variants) {
      await expect(verifyPassword('pw', v)).resolves.toBe(false);
    }
    await expect(verifyPassword(undefined as unknown as string, h)).resolves.toBe(false);
    await expect(verifyPassword('pw', null as unknown as string)).resolves.toBe(false);
  });

  it('rejects a non-string password when hashing', async () => {
    await expect(hashPassword(42 as unknown as string)).rejects.toThrow(CryptoError);
  });
});

describe('bearerTokenMatches', () => {
  it('takes only `Bearer <token>` with the exact token, never an empty token', () => {
    expect(bearerTokenMatches('Bearer s3cret-token', 's3cret-token')).toBe(true);
    expect(bearerTokenMatches('Bearer s3cret-toke', 's3cret-token')).toBe(false);
    expect(bearerTokenMatches('bearer s3cret-token', 's3cret-token')).toBe(false);
    expect(bearerTokenMatches('s3cret-token', 's3cret-token')).toBe(false);
    expect(bearerTokenMatches(undefined, 's3cret-token')).toBe(false);
    expect(bearerTokenMatches(null, '')).toBe(false);
    expect(bearerTokenMatches('Bearer ', '')).toBe(false);
  });
});
