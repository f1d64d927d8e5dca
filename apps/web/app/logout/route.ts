import { type NextRequest, NextResponse } from 'next/server';
import { apiBaseUrl } from '@/lib/api';
import { REFRESH_COOKIE, SESSION_COOKIES } from '@/lib/session-cookies';

/**
 * Ends the session at the API (its refresh token family is revoked, docs/security.md,
 * "Sessions"), then forgets the cookies. An API that cannot be reached does not keep the
 * browser signed in: the cookies go either way.
 */
async function loggedOut(request: NextRequest): Promise<NextResponse> {
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  if (refreshToken) {
    await fetch(`${apiBaseUrl()}/v1/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
  }
  const response = new NextResponse(null, {
    status: 303,
    headers: { location: '/', 'cache-control': 'no-store' },
  });
  for (const name of SESSION_COOKIES) response.cookies.delete(name);
  return response;
}

/** POST /logout (the header's button) or GET /logout: ends the session, forgets the cookies. */
export async function POST(request: NextRequest): Promise<NextResponse> {
  return loggedOut(request);
}

export async function GET(request: NextRequest): Promise<NextResponse> {
  return loggedOut(request);
}
