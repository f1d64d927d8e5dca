// The one place where metering touches @suanli/crypto (JWS and hashes), so that both the agent
// and the ingest sign and verify the same way.
import { sha256Hex, signJws, verifyJws, type JWK } from '@suanli/crypto';

export type Jwk = JWK;

/** Signs `payload` as a compact JWS (EdDSA) with the agent's private key. */
export async function signBatch(payload: object, privateJwk: Jwk): Promise<string> {
  return signJws(payload, privateJwk);
}

/** Verifies `jws` against the agent's registered public keys; throws when it does not verify. */
export async function verifyBatch(jws: string, publicJwks: Jwk[]): Promise<unknown> {
  const { payload } = await verifyJws(jws, publicJwks);
  return payload;
}

/** Hex SHA-256 of a batch's JWS string: the `prev` of the next batch. */
export function batchHash(jws: string): string {
  return sha256Hex(jws);
}
