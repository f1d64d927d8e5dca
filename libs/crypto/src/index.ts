export { CryptoError, type CryptoErrorCode } from './errors.js';
export { bearerTokenMatches, hmacSha256Hex, randomToken, sha256, sha256Hex } from './hash.js';
export { canonicalJson } from './canonical-json.js';
export { hashPassword, verifyPassword } from './password.js';
export {
  generateSigningKey,
  jwkThumbprint,
  publicJwkOf,
  signJws,
  verifyJws,
  VERIFY_ALGORITHMS,
  type JSONWebKeySet,
  type JWK,
  type SigningKey,
} from './jws.js';
export {
  MIN_RSA_BITS,
  parseSshPublicKey,
  SSH_KEY_TYPES,
  type SshKeyType,
  type SshPublicKey,
} from './ssh-key.js';
