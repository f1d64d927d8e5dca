import { createHmac } from 'node:crypto';

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
