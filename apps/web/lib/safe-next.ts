/**
 * The one guard for every `next` (where to go after log-in, a language switch…): only a path of
 * this origin may be one. A browser does not read a redirect's `Location` the way a string test
 * does: it drops tabs and newlines (`/\t/evil.example` is `//evil.example`), reads `\` as `/`,
 * and takes `//host` as another origin. So the value is parsed as the browser would parse it,
 * against a placeholder origin, and kept only if it stays on that origin; what is returned is the
 * parsed path, so a browser can only ever see a same-origin path.
 */
const BASE = 'http://same-origin.invalid';

export function safeNext(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 2048) return fallback;
  // Control characters, spaces and backslashes have no business in a path we hand out.
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 0x20 || (c >= 0x7f && c <= 0x9f) || ch === '\\') return fallback;
  }
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const path = url.pathname + url.search + url.hash;
  // `//x` would be another origin to the browser even if it came out of the parser here.
  if (!path.startsWith('/') || path.startsWith('//')) return fallback;
  return path;
}
