/**
 * Server Actions answer only their own origin (CSRF). Next.js refuses a cross-origin action
 * itself, but with a 500 (an error thrown in its action handler); proxy.ts asks this first and
 * answers 403. The rule is Next.js's own: a POST that may be an action (a `Next-Action`
 * header, or a multipart form) whose `Origin` host is neither `X-Forwarded-Host` (its first
 * value) nor `Host`. A request without `Origin` passes, as in Next.js (no browser sends a
 * cross-site form without one); `Origin: null` (a sandboxed or opaque origin) is refused.
 */
export function crossOriginAction(request: {
  method: string;
  headers: { get(name: string): string | null };
}): boolean {
  if (request.method !== 'POST') return false;
  const h = request.headers;
  const mayBeAction =
    h.get('next-action') !== null ||
    (h.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
  if (!mayBeAction) return false;
  const origin = h.get('origin');
  if (origin === null) return false;
  let originHost: string;
  try {
    originHost = origin === 'null' ? 'null' : new URL(origin).host;
  } catch {
    return true;
  }
  const forwarded = h.get('x-forwarded-host')?.split(',')[0]?.trim();
  return originHost !== forwarded && originHost !== h.get('host');
}
