import { createHmac } from 'node:crypto';

/**
 * Pseudonyms (keyed HMAC-SHA256 under the platform secret). A buyer as a seller sees it is
 * `HMAC(secret, buyer ‖ 0x00 ‖ seller)`: stable for that seller, unlinkable across sellers;
 * only the platform, holding the secret, can map it back (by recomputing it for its buyers).
 */
export function buyerPseudonym(secret: string, buyerOrgId: string, sellerOrgId: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${buyerOrgId}\u0000${sellerOrgId}`)
    .digest('hex');
  return `buyer-${mac.slice(0, 16)}`;
}

/** A seller in the settlement log and in assessors' views: one pseudonym per seller. */
export function sellerPseudonym(secret: string, sellerOrgId: string): string {
  const mac = createHmac('sha256', secret).update(`seller\u0000${sellerOrgId}`).digest('hex');
  return `seller-${mac.slice(0, 16)}`;
}

/** A buyer as an assessor sees it: scoped to the assessor, like a seller's view. */
export function buyerPseudonymFor(secret: string, buyerOrgId: string, viewerOrgId: string): string {
  return buyerPseudonym(secret, buyerOrgId, viewerOrgId);
}
