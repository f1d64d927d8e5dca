import { randomUUID } from 'node:crypto';

export interface HttpResult<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for tests: returns status and body, never throws on 4xx/5xx. */
export function apiClient(baseUrl: string, token?: string) {
  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResult<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : null) as T,
      headers: res.headers,
    };
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body, headers),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
    put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
    delete: <T>(path: string) => call<T>('DELETE', path),
    /** A POST that moves money, with a fresh Idempotency-Key unless one is given. */
    postIdempotent: <T>(path: string, body: unknown, key: string = randomUUID()) =>
      call<T>('POST', path, body, { 'idempotency-key': key }),
  };
}
