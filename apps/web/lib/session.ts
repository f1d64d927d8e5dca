import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import type { Role, SessionView } from '@suanli/contracts';

export const ACCESS_COOKIE = 'sx_access';
export const REFRESH_COOKIE = 'sx_refresh';
export const PROFILE_COOKIE = 'sx_profile';
export const SESSION_COOKIES = [ACCESS_COOKIE, REFRESH_COOKIE, PROFILE_COOKIE] as const;

const REFRESH_MAX_AGE_S = 30 * 24 * 3600;

/** What the header shows about the signed-in user; the API remains the authority. */
export interface Profile {
  displayName: string;
  email: string;
  organization: string;
  roles: Role[];
}

export interface Session {
  token: string;
  profile: Profile | null;
}

function cookieOptions(maxAge: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    maxAge,
    // Plain HTTP on 127.0.0.1 in development and tests; set WEB_SECURE_COOKIES=1 behind HTTPS.
    secure: process.env.WEB_SECURE_COOKIES === '1',
  };
}

function decodeProfile(raw: string | undefined): Profile | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const p = value as Partial<Profile>;
    if (typeof p.displayName !== 'string' || !Array.isArray(p.roles)) return null;
    return {
      displayName: p.displayName,
      email: typeof p.email === 'string' ? p.email : '',
      organization: typeof p.organization === 'string' ? p.organization : '',
      roles: p.roles,
    };
  } catch {
    return null;
  }
}

export async function getSession(): Promise<Session | null> {
  const jar = await cookies();
  const token = jar.get(ACCESS_COOKIE)?.value;
  if (!token) return null;
  return { token, profile: decodeProfile(jar.get(PROFILE_COOKIE)?.value) };
}

/** Only same-site paths: "/invoices?x=1" is fine, "//evil.example" and "https://…" are not. */
export function safeNext(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
    return fallback;
  }
  if (value.includes('\\') || /[\r\n]/.test(value)) return fallback;
  return value;
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
  const accessMaxAge = Math.max(60, Math.floor(session.expiresIn || 900));
  jar.set(ACCESS_COOKIE, session.accessToken, cookieOptions(accessMaxAge));
  jar.set(REFRESH_COOKIE, session.refreshToken, cookieOptions(REFRESH_MAX_AGE_S));
  const profile: Profile = {
    displayName: session.user.displayName,
    email: session.user.email,
    organization: session.organization.name,
    roles: session.organization.roles,
  };
  jar.set(
    PROFILE_COOKIE,
    Buffer.from(JSON.stringify(profile), 'utf8').toString('base64url'),
    cookieOptions(REFRESH_MAX_AGE_S),
  );
}

export async function clearSession(): Promise<void> {
  const jar = await cookies();
  for (const name of SESSION_COOKIES) jar.delete(name);
}
