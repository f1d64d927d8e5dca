import type { Role, SessionView } from '@suanli/contracts';

/** Cookie names and contents of a storefront session; shared by Server Functions and proxy.ts. */

export const ACCESS_COOKIE = 'sx_access';
export const REFRESH_COOKIE = 'sx_refresh';
export const PROFILE_COOKIE = 'sx_profile';
export const SESSION_COOKIES = [ACCESS_COOKIE, REFRESH_COOKIE, PROFILE_COOKIE] as const;

const REFRESH_MAX_AGE_S = 30 * 24 * 3600;
/** The access cookie expires this much before the token does, so the API never sees it stale. */
const ACCESS_MARGIN_S = 30;

/** What the header shows about the signed-in user; the API remains the authority. */
export interface Profile {
  displayName: string;
  email: string;
  organization: string;
  roles: Role[];
}

export interface CookieOptions {
  httpOnly: boolean;
  sameSite: 'lax';
  path: string;
  maxAge: number;
  secure: boolean;
}

export function cookieOptions(maxAge: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge,
    // Plain HTTP on 127.0.0.1 in development and tests; set WEB_SECURE_COOKIES=1 behind HTTPS.
    secure: process.env.WEB_SECURE_COOKIES === '1',
  };
}

export function encodeProfile(profile: Profile): string {
  return Buffer.from(JSON.stringify(profile), 'utf8').toString('base64url');
}

export function decodeProfile(raw: string | undefined): Profile | null {
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

/** The three cookies that store a session returned by login or refresh. */
export function sessionCookies(
  session: SessionView,
): { name: string; value: string; options: CookieOptions }[] {
  const accessMaxAge = Math.max(30, Math.floor(session.expiresIn || 900) - ACCESS_MARGIN_S);
  const profile: Profile = {
    displayName: session.user.displayName,
    email: session.user.email,
    organization: session.organization.name,
    roles: session.organization.roles,
  };
  return [
    { name: ACCESS_COOKIE, value: session.accessToken, options: cookieOptions(accessMaxAge) },
    {
      name: REFRESH_COOKIE,
      value: session.refreshToken,
      options: cookieOptions(REFRESH_MAX_AGE_S),
    },
    {
      name: PROFILE_COOKIE,
      value: encodeProfile(profile),
      options: cookieOptions(REFRESH_MAX_AGE_S),
    },
  ];
}
