import { redirect } from 'next/navigation';
import type { ApiResult } from './api';
import { call, marketApi, type Answer, type MarketApiClient } from './client';
import { loginUrl, requireSession } from './session';

/**
 * Loads an authenticated API resource for a signed-in page with the typed client:
 * `loadForBuyer((api) => api.GET('/v1/wallet'), '/wallet')`. No session, or a token the API no
 * longer accepts, sends the visitor to /login and back to `pagePath` afterwards.
 */
export async function loadForBuyer<D>(
  request: (api: MarketApiClient) => Promise<Answer<D>>,
  pagePath: string,
): Promise<ApiResult<D>> {
  const session = await requireSession(pagePath);
  const result = await call(request(marketApi(session.token)));
  if (!result.ok && result.error.status === 401) redirect(loginUrl(pagePath));
  return result;
}
