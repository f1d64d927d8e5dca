import { createHmac } from 'node:crypto';

/**
 * The buyer as a seller sees it: a stable pseudonym per (buyer, seller) pair, so a seller can
 * tell its repeat customers apart but not link them to an organization or across sellers.
 */
export function buyerPseudonym(secret: string, buyerOrgId: string, sellerOrgId: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${buyerOrgId}\u0000${sellerOrgId}`)
    .digest('hex');
  return `buyer-${mac.slice(0, 16)}`;
}
