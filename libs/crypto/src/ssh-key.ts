import { createHash, createPublicKey } from 'node:crypto';
import { CryptoError } from './errors.js';

/** The OpenSSH public key types a buyer may register (docs/delivery.md, "SSH"). */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

/** A validated OpenSSH public key. */
export interface SshPublicKey {
  type: SshKeyType;
  /** The key blob, base64 (standard alphabet, padded), exactly as it goes into authorized_keys. */
  blob: string;
  /** The comment, or '' (printable ASCII only; at most 256 characters). */
  comment: string;
  /** `SHA256:` + unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Key size in bits (RSA modulus, curve size; 256 for Ed25519). */
  bits: number;
  /** `type blob[ comment]`: the line to write into authorized_keys (no options, ever). */
  line: string;
}

/** RSA moduli below this are refused (OpenSSH itself refuses < 1024; NIST wants ≥ 2048). */
export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 16384;
const MAX_LINE = 16 * 1024;

const CURVES: Record<string, { crv: string; size: number; bits: number }> = {
  nistp256: { crv: 'P-256', size: 32, bits: 256 },
  nistp384: { crv: 'P-384', size: 48, bits: 384 },
  nistp521: { crv: 'P-521', size: 66, bits: 521 },
};

function invalid(message: string): CryptoError {
  return new CryptoError('invalid_key', `SSH public key: ${message}`);
}

/** Reads SSH wire-format `string`s (uint32 length + bytes) from a key blob. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  string(what: string): Buffer {
    if (this.at + 4 > this.buf.length) throw invalid(`truncated before ${what}`);
    const len = this.buf.readUInt32BE(this.at);
    this.at += 4;
    if (len > this.buf.length - this.at) throw invalid(`truncated ${what}`);
    const out = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }
  end(): void {
    if (this.at !== this.buf.length) throw invalid('trailing bytes after the key');
  }
}

/** An SSH mpint (two's complement, big-endian) that must be positive, without its sign byte. */
function positiveMpint(b: Buffer, what: string): Buffer {
  if (b.length === 0 || (b[0] & 0x80) !== 0) throw invalid(`${what} is not a positive integer`);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function checkPoint(curveName: string, q: Buffer, expectCurve: string): number {
  if (curveName !== expectCurve) throw invalid(`curve ${curveName} does not match the key type`);
  const c = CURVES[curveName];
  if (c === undefined) throw invalid(`unknown curve ${curveName}`);
  if (q.length !== 1 + 2 * c.size || q[0] !== 0x04) throw invalid('EC point is not uncompressed');
  try {
    // Node refuses a point that is not on the curve.
    createPublicKey({
      key: {
        kty: 'EC',
        crv: c.crv,
        x: q.subarray(1, 1 + c.size).toString('base64url'),
        y: q.subarray(1 + c.size).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    throw invalid('EC point is not on the curve');
  }
  return c.bits;
}

function checkEd25519(pk: Buffer): number {
  if (pk.length !== 32) throw invalid('Ed25519 key is not 32 bytes');
  try {
    createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw invalid('not an Ed25519 key');
  }
  return 256;
}

/** Checks the blob's structure and key material for `type`; returns the key size in bits. */
function checkBlob(type: SshKeyType, blob: Buffer): number {
  const r = new Reader(blob);
  const inner = r.string('key type').toString('latin1');
  if (inner !== type) throw invalid(`the blob says ${JSON.stringify(inner)}, the line ${type}`);
  let bits: number;
  switch (type) {
    case 'ssh-ed25519':
      bits = checkEd25519(r.string('Ed25519 key'));
      break;
    case 'sk-ssh-ed25519@openssh.com':
      bits = checkEd25519(r.string('Ed25519 key'));
      if (r.string('application').length === 0) throw invalid('empty security key application');
      break;
    case 'ssh-rsa': {
      const e = positiveMpint(r.string('RSA exponent'), 'RSA exponent');
      const n = positiveMpint(r.string('RSA modulus'), 'RSA modulus');
      bits = n.length * 8 - Math.clz32(n[0]) + 24;
      if (bits < MIN_RSA_BITS) throw invalid(`RSA key of ${bits} bits (at least ${MIN_RSA_BITS})`);
      if (bits > MAX_RSA_BITS) throw invalid(`RSA key of ${bits} bits (at most ${MAX_RSA_BITS})`);
      if ((e[e.length - 1] & 1) === 0 || (e.length === 1 && e[0] < 3)) {
        throw invalid('RSA exponent is not an odd number ≥ 3');
      }
      try {
        createPublicKey({
          key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
          format: 'jwk',
        });
      } catch {
        throw invalid('not an RSA key');
      }
      break;
    }
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      bits = checkPoint(r.string('curve').toString('latin1'), r.string('EC point'), 'nistp256');
      if (r.string('application').length === 0) throw invalid('empty security key application');
      break;
    default: {
      const curve = type.slice('ecdsa-sha2-'.length);
      bits = checkPoint(r.string('curve').toString('latin1'), r.string('EC point'), curve);
    }
  }
  r.end();
  return bits;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses and validates one OpenSSH public key line (`type base64 [comment]`, as in
 * `~/.ssh/id_ed25519.pub`). Refused with `CryptoError('invalid_key')` naming the reason:
 * authorized_keys options (`command=…`, `from=…`) or anything before the type, an unknown type,
 * more than one line, bad base64, a blob whose inner type differs, truncated or trailing bytes,
 * a point not on its curve, an RSA key under 2048 bits, control characters in the comment.
 */
export function parseSshPublicKey(input: string): SshPublicKey {
  if (typeof input !== 'string') throw invalid('not a string');
  if (input.length > MAX_LINE) throw invalid(`longer than ${MAX_LINE} characters`);
  const text = input.trim();
  if (text.length === 0) throw invalid('empty');
  if (/[\r\n\0]/.test(text)) throw invalid('one key per line, no line breaks');
  const match = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
  if (match === null) throw invalid('expected "type base64 [comment]"');
  const [, type, b64, rawComment] = match;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    throw invalid(
      `unsupported key type ${JSON.stringify(type.slice(0, 64))} (options such as command= are not accepted)`,
    );
  }
  if (!BASE64.test(b64) || b64.length % 4 !== 0) throw invalid('the key is not valid base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) throw invalid('the key is not canonical base64');
  const bits = checkBlob(type as SshKeyType, blob);
  const comment = (rawComment ?? '').trim();
  if (comment.length > 256) throw invalid('comment longer than 256 characters');
  if (!/^[\x20-\x7e]*$/.test(comment)) throw invalid('comment must be printable ASCII');
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return {
    type: type as SshKeyType,
    blob: b64,
    comment,
    fingerprint,
    bits,
    line: comment === '' ? `${type} ${b64}` : `${type} ${b64} ${comment}`,
  };
}
