import { createHash } from 'node:crypto';
import type { SessionView } from '@suanli/contracts';
import { apiBaseUrl } from './api';
import { observeUpstream, webMetrics } from './metrics';

/**
 * Single-flight session renewal for proxy.ts.
 *
 * Refresh tokens rotate: each is good once. A page often sends several requests at once with the
 * same cookies (the document, a `<Link>` prefetch, a Server Action), and each would try to
 * exchange the same refresh token; the first wins and the others get 401, which used to sign the
 * user out. Here requests with the same refresh token share one `POST /v1/auth/refresh`, and its
 * outcome is kept for a short while so that a request that was already in flight with the old
 * cookies gets the same new session (and sets the same cookies) instead of a 401.
 */

export type RefreshOutcome =
  | { kind: 'session'; session: SessionView }
  /** The API refused the token (expired, revoked, rotated long ago): forget it. */
  | { kind: 'rejected' }
  /** The API was unreachable or failed: render signed out, keep the refresh token. */
  | { kind: 'unavailable' };

/** How long a renewed session is handed to late requests that still carry the old token. */
export const REFRESH_REUSE_MS = 30_000;

const inFlight = new Map<string, Promise<RefreshOutcome>>();

function keyOf(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url');
}

async function exchange(refreshToken: string): Promise<RefreshOutcome> {
  const outcome = await post(refreshToken);
  webMetrics().sessionRefreshes.inc({ outcome: outcome.kind });
  return outcome;
}

async function post(refreshToken: string): Promise<RefreshOutcome> {
  let response: Response;
  const startedAt = performance.now();
  try {
    response = await fetch(`${apiBaseUrl()}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ refreshToken }),
      cache: 'no-store',
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    observeUpstream('POST', '/v1/auth/refresh', 0, startedAt);
    return { kind: 'unavailable' };
  }
  observeUpstream('POST', '/v1/auth/refresh', response.status, startedAt);
  if (response.status === 401 || response.status === 400) return { kind: 'rejected' };
  if (!response.ok) return { kind: 'unavailable' };
  try {
    return { kind: 'session', session: (await response.json()) as SessionView };
  } catch {
    return { kind: 'unavailable' };
  }
}

/** Exchanges a refresh token, sharing the exchange with concurrent and just-late callers. */
export function refreshSession(refreshToken: string): Promise<RefreshOutcome> {
  const key = keyOf(refreshToken);
  const pending = inFlight.get(key);
  if (pending) return pending;
  const outcome = exchange(refreshToken);
  inFlight.set(key, outcome);
  void outcome.then((result) => {
    // Only a renewed session is worth handing out again; failures may be retried at once.
    if (result.kind !== 'session') {
      inFlight.delete(key);
      return;
    }
    setTimeout(() => inFlight.delete(key), REFRESH_REUSE_MS).unref();
  });
  return outcome;
}
