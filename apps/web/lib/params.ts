export type SearchParams = Record<string, string | string[] | undefined>;

/** The first value of a query parameter, trimmed; '' when absent. */
export function one(params: SearchParams, key: string): string {
  const value = params[key];
  const first = Array.isArray(value) ? value[0] : value;
  return (first ?? '').trim();
}

/** Route params arrive percent-encoded in some cases; decode once, tolerating bad input. */
export function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Link to the CRI resolver; keeps ':' and '/' readable (CRIs and handles use them). */
export function criHref(code: string): string {
  return `/cri/${encodeURIComponent(code).replace(/%3A/gi, ':').replace(/%2F/gi, '/')}`;
}
