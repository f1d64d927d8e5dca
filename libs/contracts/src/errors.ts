import { CREDIBILITY_ERROR_CODES } from './credibility.js';
import { FEDERATION_ERROR_CODES } from './federation.js';

/** The one error envelope every HTTP API of the exchange answers with. */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
  correlationId: string;
}

export const ERROR_CODES = [
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'idempotency_conflict',
  'insufficient_funds',
  'capacity_unavailable',
  'invalid_state',
  'invalid_cri',
  'rate_limited',
  /** Ordering SSH access (BM, VM) without an SSH key on the buyer's profile. */
  'ssh_key_required',
  /** Ordering an offer whose resource is offline (no recent heartbeat from its agent). */
  'resource_offline',
  'internal',
  ...CREDIBILITY_ERROR_CODES,
  ...FEDERATION_ERROR_CODES,
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
