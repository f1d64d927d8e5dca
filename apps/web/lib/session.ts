import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import type { SessionView } from '@suanli/contracts';
import {
  ACCESS_COOKIE,
  decodeProfile,
  PROFILE_COOKIE,
  SESSION_COOKIES,
  sessionCookies,
  type Profile,
} from './session-cookies';
import { safeNext } from './safe-next';

export { SESSION_COOKIES, safeNext, type Profile };

export interface Session {
  token: string;
  profile: Profile | null;
}

export async function getSession(): Promise<Session | null> {
  const jar = await cookies();
  const token = jar.get(ACCESS_COOKIE)?.value;
  if (!token) return null;
  return { token, profile: decodeProfile(jar.get(PROFILE_COOKIE)?.value) };
}

export function loginUrl(next: string): string {
  return `/login?next=${encodeURIComponent(safeNext(next))}`;
}

/** For pages that need a signed-in user: the session, or a redirect to /login. */
export async function requireSession(next: string): Promise<Session> {
  const session = await getSession();
  if (!session) redirect(loginUrl(next));
  return session;
}

/** Stores a fresh session in httpOnly cookies (Server Functions and Route Handlers only). */
export async function storeSession(session: SessionView): Promise<void> {
  const jar = await cookies();
  for (const c of sessionCookies(session)) jar.set(c.name, c.value, c.options);
}
