import { NextResponse, type NextRequest } from 'next/server';
import type { SessionView } from '@suanli/contracts';
import { apiBaseUrl } from './lib/api';
import {
  ACCESS_COOKIE,
  PROFILE_COOKIE,
  REFRESH_COOKIE,
  sessionCookies,
} from './lib/session-cookies';

/**
 * Silent session renewal: when the access-token cookie has expired but a refresh token is still
 * there, exchange it (`POST /v1/auth/refresh`, which rotates it) before the page renders, so the
 * page sees the new access token and the browser stores the new pair.
 */
export async function proxy(request: NextRequest): Promise<NextResponse> {
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  if (request.cookies.has(ACCESS_COOKIE) || !refreshToken) return NextResponse.next();

  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl()}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ refreshToken }),
      cache: 'no-store',
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return NextResponse.next(); // API unreachable: render as signed out, keep the refresh token
  }

  if (response.status === 401 || response.status === 400) {
    // Expired, revoked or already rotated by a concurrent request: forget it.
    const next = NextResponse.next();
    next.cookies.delete(REFRESH_COOKIE);
    next.cookies.delete(PROFILE_COOKIE);
    return next;
  }
  if (!response.ok) return NextResponse.next();

  const cookies = sessionCookies((await response.json()) as SessionView);
  for (const c of cookies) request.cookies.set(c.name, c.value);
  const next = NextResponse.next({ request: { headers: request.headers } });
  for (const c of cookies) next.cookies.set(c.name, c.value, c.options);
  return next;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|icon.svg|favicon.ico|lang/|logout).*)'],
};
