import { createHmac } from 'node:crypto';

/** The development blind-index key: only ever used when NODE_ENV is not `production`. */
const DEV_EMAIL_INDEX_KEY = 'suanli-dev-email-index-key-not-for-production';

/**
 * Parses `EMAIL_INDEX_KEY` (at least 32 characters). Like the master keys, production refuses
 * to start without it; other environments use a fixed development key.
 */
export function emailIndexKeyFrom(value: string | undefined, nodeEnv: string | undefined): string {
  const key = value?.trim() || (nodeEnv === 'production' ? undefined : DEV_EMAIL_INDEX_KEY);
  if (!key) throw new Error('invalid configuration:\n  EMAIL_INDEX_KEY: required in production');
  if (key.length < 32) {
    throw new Error('invalid configuration:\n  EMAIL_INDEX_KEY: at least 32 characters');
  }
  return key;
}

/** The form an e-mail is compared in: trimmed, NFC, lower case (as log-in always did). */
export const normalizeEmail = (email: string): string =>
  email.trim().normalize('NFC').toLowerCase();

/**
 * Blind index of a login e-mail: HMAC-SHA256(key, normalized e-mail), hex. Lets log-in find an
 * account and a unique index refuse a second one without the e-mail being stored readable;
 * without the key it cannot be recomputed from a guessed address.
 */
export function emailBlindIndex(key: string, email: string): string {
  return createHmac('sha256', key)
    .update(`email\u0000${normalizeEmail(email)}`)
    .digest('hex');
}
