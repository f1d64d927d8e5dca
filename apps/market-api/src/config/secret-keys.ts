/** A master key (AES-256) from configuration; `id` is stored beside what it wraps. */
export type MasterKey = { id: string; key: Buffer };

/** The development master key: only ever used when NODE_ENV is not `production`. */
const DEV_MASTER_KEYS = 'dev-1:ZGV2LW9ubHktbWFzdGVyLWtleS0zMi1ieXRlcyEhISE=';

/**
 * Parses `PRIVACY_MASTER_KEYS` (`id:base64(32 bytes)`, comma-separated, current first). Without
 * it, production refuses to start and other environments use a fixed development key.
 */
export function masterKeysFrom(
  value: string | undefined,
  nodeEnv: string | undefined,
): MasterKey[] {
  const raw = value?.trim() || (nodeEnv === 'production' ? undefined : DEV_MASTER_KEYS);
  if (!raw) {
    throw new Error('invalid configuration:\n  PRIVACY_MASTER_KEYS: required in production');
  }
  const keys = raw.split(',').map((part) => {
    const m = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/=_-]+)$/.exec(part.trim());
    const key = m ? Buffer.from(m[2], 'base64') : undefined;
    if (!m || !key || key.length !== 32) {
      throw new Error(
        'invalid configuration:\n  PRIVACY_MASTER_KEYS: each key must be id:base64 of 32 bytes',
      );
    }
    return { id: m[1], key };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) {
    throw new Error('invalid configuration:\n  PRIVACY_MASTER_KEYS: key ids must be unique');
  }
  return keys;
}

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
