import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { generateSigningKey } from '@suanli/crypto';
import {
  ed25519PublicKey,
  formatCheckpointText,
  formatVerifierKey,
  noteSignerFromSeed,
  openNote,
  parseCheckpointText,
  parseVerifierKey,
  signCheckpointNote,
  signNote,
  verifyCheckpointNote,
} from './index.js';
import { errorCode } from './testing.js';

// Test vectors of the reference implementation of signed notes (Go's golang.org/x/mod/sumdb/note).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peterSigner = () => {
  const raw = Buffer.from(PETER_SKEY.split('+').slice(4).join('+'), 'base64');
  expect(raw[0]).toBe(1);
  return noteSignerFromSeed('PeterNeumann', raw.subarray(1));
};

const code = errorCode;

describe('signed notes (C2SP signed-note, Ed25519)', () => {
  it('signs and names keys exactly as the reference implementation', () => {
    const s = peterSigner();
    expect(s.id).toBe(0xc74f20a3);
    expect(signNote(TEXT, s)).toBe(`${TEXT}\n${PETER_SIG}`);
    const v = parseVerifierKey(PETER_VKEY);
    expect(v.name).toBe('PeterNeumann');
    expect(formatVerifierKey(v)).toBe(PETER_VKEY);
    expect(formatVerifierKey(parseVerifierKey(ENOCH_VKEY))).toBe(ENOCH_VKEY);
  });

  it('opens a note signed by a known key, ignoring unknown ones', () => {
    const peter = parseVerifierKey(PETER_VKEY);
    const enoch = parseVerifierKey(ENOCH_VKEY);
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(openNote(note, [peter])).toEqual({ text: TEXT, signedBy: [peter] });
    expect(openNote(note, [peter, enoch]).signedBy).toEqual([peter, enoch]);
    expect(code(() => openNote(note, []))).toBe('bad_checkpoint');
    // A known key whose signature fails rejects the note.
    const bad = `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(code(() => openNote(bad, [peter]))).toBe('bad_checkpoint');
    expect(
      code(() => openNote(`${TEXT.replace('cryptography', 'crypto')}\n${PETER_SIG}`, [peter])),
    ).toBe('bad_checkpoint');
    for (const malformed of [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
    ]) {
      expect(code(() => openNote(malformed, [peter]))).toBe('bad_checkpoint');
    }
  });

  it('refuses mangled verifier keys', () => {
    expect(code(() => parseVerifierKey(PETER_VKEY.slice(1)))).toBe('invalid_argument');
    expect(code(() => parseVerifierKey(PETER_VKEY.slice(0, -1)))).toBe('invalid_argument');
    expect(
      code(() =>
        parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      ),
    ).toBe('invalid_argument');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: PETER_VKEY.length - 1 }), (i) => {
        const c = PETER_VKEY.charCodeAt(i);
        const mangled =
          PETER_VKEY.slice(0, i) + String.fromCharCode(c + 1) + PETER_VKEY.slice(i + 1);
        expect(code(() => parseVerifierKey(mangled))).toBe('invalid_argument');
      }),
    );
  });
});

describe('checkpoint notes (C2SP tlog-checkpoint)', () => {
  const hex = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Buffer.from(b).toString('hex'));

  it('format and parse origin, size and base64 root', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9.]{1,20}\/[a-z]{1,12}$/),
        fc.maxSafeNat(),
        hex,
        (origin, treeSize, rootHash) => {
          const text = formatCheckpointText({ origin, treeSize, rootHash });
          expect(text.split('\n')).toHaveLength(4);
          expect(parseCheckpointText(text)).toEqual({ origin, treeSize, rootHash, extensions: [] });
        },
      ),
    );
    expect(
      formatCheckpointText({
        origin: 'example.com/behind-the-sofa',
        treeSize: 20852163,
        rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64').toString(
          'hex',
        ),
      }),
    ).toBe('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    for (const bad of [
      'o\n01\nAAAA\n',
      'o\n1\n',
      'o\n1\nAAAA\n',
      'o\n-1\n' + 'A'.repeat(43) + '=\n',
    ]) {
      expect(code(() => parseCheckpointText(bad))).toBe('bad_checkpoint');
    }
  });

  it('are signed with the platform JWK and verify against its JWKS, retired keys included', async () => {
    const key = await generateSigningKey('platform');
    const next = await generateSigningKey('platform-next');
    const rootHash = 'ab'.repeat(32);
    const note = signCheckpointNote(
      { origin: '86.N00/settlement', treeSize: 7, rootHash },
      key.privateJwk,
    );
    expect(
      note.startsWith(
        `86.N00/settlement\n7\n${Buffer.from(rootHash, 'hex').toString('base64')}\n\n— 86.N00/settlement `,
      ),
    ).toBe(true);
    expect(verifyCheckpointNote(note, { keys: [next.publicJwk, key.publicJwk] })).toEqual({
      origin: '86.N00/settlement',
      treeSize: 7,
      rootHash,
      kid: 'platform',
    });
    expect(code(() => verifyCheckpointNote(note, [next.publicJwk]))).toBe('bad_checkpoint');
    expect(code(() => verifyCheckpointNote(note, [key.publicJwk], 'other/log'))).toBe(
      'bad_checkpoint',
    );
    const forged = note.replace('\n7\n', '\n8\n');
    expect(code(() => verifyCheckpointNote(forged, [key.publicJwk]))).toBe('bad_checkpoint');
    expect(ed25519PublicKey({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' })).toBeNull();
  });
});
