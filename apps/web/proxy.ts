import { NextResponse, type NextRequest } from 'next/server';
import { crossOriginAction } from './lib/action-origin';
import {
  ACCESS_COOKIE,
  PROFILE_COOKIE,
  REFRESH_COOKIE,
  sessionCookies,
} from './lib/session-cookies';
import { refreshSession } from './lib/session-refresh';

/**
 * First refuses a cross-origin Server Action (403, lib/action-origin.ts). Then silent session
 * renewal: when the access-token cookie has expired but a refresh token is still there,
 * exchange it (`POST /v1/auth/refresh`, which rotates it) before the page renders, so the page
 * sees the new access token and the browser stores the new pair. Concurrent requests with
 * the same refresh token share one exchange (lib/session-refresh.ts), so a prefetch racing the
 * page does not sign the user out.
 */
export async function proxy(request: NextRequest): Promise<NextResponse> {
  // CSRF: a Server Action posted from another origin is a 403 (Next.js would answer 500).
  if (crossOriginAction(request)) {
    return new NextResponse('cross-origin request refused', {
      status: 403,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    });
  }
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  if (request.cookies.has(ACCESS_COOKIE) || !refreshToken) return NextResponse.next();

  const outcome = await refreshSession(refreshToken);
  if (outcome.kind === 'unavailable') return NextResponse.next(); // keep the refresh token
  if (outcome.kind === 'rejected') {
    // Expired or revoked: forget it.
    const next = NextResponse.next();
    next.cookies.delete(REFRESH_COOKIE);
    next.cookies.delete(PROFILE_COOKIE);
    return next;
  }

  const cookies = sessionCookies(outcome.session);
  for (const c of cookies) request.cookies.set(c.name, c.value);
  const next = NextResponse.next({ request: { headers: request.headers } });
  for (const c of cookies) next.cookies.set(c.name, c.value, c.options);
  return next;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|icon.svg|favicon.ico|lang/|logout).*)'],
};
