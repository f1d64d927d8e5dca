import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const b64 = (b: Buffer): string => b.toString('base64url');

/** AES-256-GCM of `plaintext` under `key`, bound to `aad`: base64url(iv ‖ ciphertext ‖ tag). */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return b64(Buffer.concat([iv, body, c.getAuthTag()]));
}

/** Opens what {@link seal} made; throws when the key, the AAD or a byte is wrong. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const all = Buffer.from(sealed, 'base64url');
  if (all.length < 28) throw new Error('sealed value too short');
  const d = createDecipheriv('aes-256-gcm', key, all.subarray(0, 12));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(all.subarray(all.length - 16));
  return Buffer.concat([d.update(all.subarray(12, all.length - 16)), d.final()]);
}

/** A field value as stored: `v<data key version>.<sealed>`. */
export function encryptField(
  dataKey: Buffer,
  version: number,
  orgId: string,
  field: string,
  value: string,
): string {
  return `v${version}.${seal(dataKey, Buffer.from(value, 'utf8'), `${orgId}/${field}`)}`;
}

export function fieldVersion(stored: string): number {
  const m = /^v(\d+)\./.exec(stored);
  if (!m) throw new Error('not an encrypted field');
  return Number(m[1]);
}

export function decryptField(
  dataKey: Buffer,
  orgId: string,
  field: string,
  stored: string,
): string {
  const sealed = stored.slice(stored.indexOf('.') + 1);
  return open(dataKey, sealed, `${orgId}/${field}`).toString('utf8');
}
