import {
  createMarketApiClient,
  type MarketApiClient,
  type MarketApiMiddleware,
} from '@suanli/api-client';
import { apiBaseUrl, type ApiError, type ApiResult } from './api';
import { observeUpstream } from './metrics';

/**
 * The typed market API client (generated from apps/market-api/openapi.json) for Server
 * Components and Server Functions. `call()` turns its answers into the pages' `ApiResult`:
 * never throws for HTTP or network failures, and keeps the error envelope's code, message,
 * correlation id and details (field errors).
 */

const TIMEOUT_MS = 15_000;

export type { MarketApiClient };

/** When each call started (by openapi-fetch's request id), for the upstream latency metric. */
const startedAt = new Map<string, number>();

const timing: MarketApiMiddleware = {
  onRequest({ id }) {
    startedAt.set(id, performance.now());
  },
  onResponse({ id, request, response, schemaPath }) {
    observeUpstream(request.method, schemaPath, response.status, startedAt.get(id) ?? 0);
    startedAt.delete(id);
  },
  onError({ id, request, schemaPath }) {
    observeUpstream(request.method, schemaPath, 0, startedAt.get(id) ?? 0);
    startedAt.delete(id);
  },
};

export function marketApi(token?: string, idempotencyKey?: string): MarketApiClient {
  const client = createMarketApiClient({
    baseUrl: apiBaseUrl(),
    token,
    headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    fetch: (request: Request) =>
      fetch(request, { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) }),
  });
  // Counts and times every call by its OpenAPI path (`/v1/offers/{id}`), method and status.
  client.use(timing);
  return client;
}

interface Envelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
  correlationId?: string;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

export function toApiError(status: number, body: unknown): ApiError {
  if (isEnvelope(body)) {
    return {
      status,
      code: body.error.code,
      message: body.error.message,
      correlationId: body.correlationId,
      ...(body.error.details ? { details: body.error.details } : {}),
    };
  }
  return { status, code: status >= 500 ? 'internal' : 'unknown', message: `HTTP ${status}` };
}

export type Answer<D> = { data?: D; error?: unknown; response: Response };

/** Awaits one typed call: `call(marketApi(token).GET('/v1/wallet'))`. */
export async function call<D>(request: Promise<Answer<D>>): Promise<ApiResult<D>> {
  let answer: Answer<D>;
  try {
    answer = await request;
  } catch {
    return { ok: false, error: { status: 0, code: 'unavailable', message: '' } };
  }
  const { response } = answer;
  if (response.ok) return { ok: true, status: response.status, data: answer.data as D };
  return { ok: false, error: toApiError(response.status, answer.error) };
}

/** `details.issues` of a `validation_failed` envelope, by field path ("location.country"). */
export function fieldErrors(error: ApiError): Record<string, string> {
  const issues = (error.details as { issues?: unknown } | undefined)?.issues;
  const out: Record<string, string> = {};
  if (Array.isArray(issues)) {
    for (const issue of issues as { path?: unknown; message?: unknown }[]) {
      if (typeof issue.path === 'string' && typeof issue.message === 'string') {
        out[issue.path || '_'] ??= issue.message;
      }
    }
  }
  const field = (error.details as { field?: unknown } | undefined)?.field;
  if (typeof field === 'string' && !out[field]) out[field] = error.message;
  return out;
}
