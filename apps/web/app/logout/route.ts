import { NextResponse } from 'next/server';
import { SESSION_COOKIES } from '@/lib/session-cookies';

function loggedOut(): NextResponse {
  const response = new NextResponse(null, {
    status: 303,
    headers: { location: '/', 'cache-control': 'no-store' },
  });
  for (const name of SESSION_COOKIES) response.cookies.delete(name);
  return response;
}

/** POST /logout (the header's button) or GET /logout: forgets the session cookies. */
export async function POST(): Promise<NextResponse> {
  return loggedOut();
}

export async function GET(): Promise<NextResponse> {
  return loggedOut();
}
