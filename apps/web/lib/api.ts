/**
 * Where the market API is, and the result type of its calls. The calls themselves go through
 * the typed client generated from its OpenAPI document (lib/client.ts, libs/api-client).
 */

export interface ApiError {
  status: number;
  code: string;
  message: string;
  correlationId?: string;
  /** The envelope's `details` (e.g. the CRI segment an `invalid_cri` names). */
  details?: Record<string, unknown>;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; error: ApiError };

const DEFAULT_API_URL = 'http://127.0.0.1:3100';

export function apiBaseUrl(): string {
  return (process.env.MARKET_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
}
