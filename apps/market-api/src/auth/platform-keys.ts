import { importJWK, type JWK, type CryptoKey } from 'jose';
import { AppConfig } from '../config/app-config.js';

/** The platform's signing key (tokens, checkpoints) and the public JWKS it publishes. */
export class PlatformKeys {
  private constructor(
    readonly kid: string,
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly publicJwk: JWK,
    /** Public halves of retired signing keys, still served so old checkpoints verify. */
    readonly retiredJwks: JWK[] = [],
  ) {}

  static async fromConfig(config: AppConfig): Promise<PlatformKeys> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(config.platformSigningJwk) as JWK;
    } catch {
      throw new Error('PLATFORM_SIGNING_JWK is not valid JSON');
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.kid) {
      throw new Error('PLATFORM_SIGNING_JWK must be a private Ed25519 JWK with a kid');
    }
    const { d: _d, ...pub } = jwk;
    const publicJwk: JWK = { ...pub, alg: 'EdDSA', use: 'sig' };
    const privateKey = (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
    const publicKey = (await importJWK(publicJwk, 'EdDSA')) as CryptoKey;
    const retired = (JSON.parse(config.platformRetiredJwks ?? '[]') as JWK[]).map(
      ({ d: _rd, ...k }) => ({ ...k, alg: 'EdDSA', use: 'sig' }) as JWK,
    );
    return new PlatformKeys(jwk.kid, privateKey, publicKey, publicJwk, retired);
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk, ...this.retiredJwks] };
  }
}
