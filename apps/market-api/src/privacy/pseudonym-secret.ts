/** Public, so only for development: with it anyone could recompute (and so link) pseudonyms. */
export const DEV_PSEUDONYM_SECRET = 'suanli-dev-pseudonym-secret';

/** `PSEUDONYM_SECRET`, required in production (docs/privacy.md, pseudonyms). */
export function pseudonymSecretFrom(
  value: string | undefined,
  nodeEnv: string | undefined,
): string {
  if (value) return value;
  if (nodeEnv === 'production') {
    throw new Error(
      'invalid settlement configuration:\n  PSEUDONYM_SECRET: required in production',
    );
  }
  return DEV_PSEUDONYM_SECRET;
}

/**
 * The HMAC key that pseudonymizes buyers and sellers (invoices, the settlement log, re-identifying
 * a party). Privacy owns it; settlement reads the same variable through `pseudonymSecretFrom`.
 */
export class PseudonymSecret {
  constructor(readonly pseudonymSecret: string) {}

  static fromEnv(env: Record<string, string | undefined>): PseudonymSecret {
    return new PseudonymSecret(pseudonymSecretFrom(env.PSEUDONYM_SECRET, env.NODE_ENV));
  }
}
