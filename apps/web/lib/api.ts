import type { ErrorEnvelope } from '@suanli/contracts';

/** Server-side client for the market API. Never throws for HTTP or network failures. */

export interface ApiError {
  status: number;
  code: string;
  message: string;
  correlationId?: string;
  /** The envelope's `details` (e.g. the CRI segment an `invalid_cri` names). */
  details?: Record<string, unknown>;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; error: ApiError };

export interface ApiOptions {
  method?: 'GET' | 'POST';
  token?: string;
  body?: unknown;
  idempotencyKey?: string;
  query?: Record<string, string | undefined>;
}

const DEFAULT_API_URL = 'http://127.0.0.1:3100';
const TIMEOUT_MS = 15_000;

export function apiBaseUrl(): string {
  return (process.env.MARKET_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

export async function api<T>(path: string, options: ApiOptions = {}): Promise<ApiResult<T>> {
  const url = new URL(apiBaseUrl() + path);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(key, value);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    return { ok: false, error: { status: 0, code: 'unavailable', message: '' } };
  }

  let payload: unknown = null;
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (response.ok) return { ok: true, status: response.status, data: payload as T };
  if (isEnvelope(payload)) {
    return {
      ok: false,
      error: {
        status: response.status,
        code: payload.error.code,
        message: payload.error.message,
        correlationId: payload.correlationId,
        ...(payload.error.details ? { details: payload.error.details } : {}),
      },
    };
  }
  return {
    ok: false,
    error: {
      status: response.status,
      code: response.status >= 500 ? 'internal' : 'unknown',
      message: `HTTP ${response.status}`,
    },
  };
}
