import { redirect } from 'next/navigation';
import { api, type ApiResult } from './api';
import { loginUrl, requireSession } from './session';

/**
 * Loads an authenticated API resource for a buyer page. No session, or a token the API no longer
 * accepts, sends the visitor to /login and back to `pagePath` afterwards.
 */
export async function loadForBuyer<T>(apiPath: string, pagePath: string): Promise<ApiResult<T>> {
  const session = await requireSession(pagePath);
  const result = await api<T>(apiPath, { token: session.token });
  if (!result.ok && result.error.status === 401) redirect(loginUrl(pagePath));
  return result;
}
