import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { SessionView } from '@suanli/contracts';
import { refreshSession } from './session-refresh';

const realFetch = globalThis.fetch;

/** A fetch that answers `POST /v1/auth/refresh` once the test releases it, counting calls. */
function fakeRefreshApi(status: number, body: unknown) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const calls: string[] = [];
  globalThis.fetch = jest.fn(async (_url: unknown, init?: RequestInit) => {
    calls.push(String(init?.body));
    await released;
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return { calls, release };
}

const session = { accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 } as SessionView;

describe('refreshSession', () => {
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('exchanges a refresh token once for concurrent and just-late callers', async () => {
    const api = fakeRefreshApi(200, session);
    const first = refreshSession('r1-concurrent');
    const second = refreshSession('r1-concurrent');
    api.release();
    expect(await first).toEqual({ kind: 'session', session });
    expect(await second).toEqual({ kind: 'session', session });
    // A request that was still in flight with the old cookies gets the same new session.
    expect(await refreshSession('r1-concurrent')).toEqual({ kind: 'session', session });
    expect(api.calls).toEqual([JSON.stringify({ refreshToken: 'r1-concurrent' })]);
  });

  it('does not keep a refusal: the next request asks the API again', async () => {
    const api = fakeRefreshApi(401, { code: 'unauthenticated' });
    const refused = refreshSession('r1-refused');
    api.release();
    expect(await refused).toEqual({ kind: 'rejected' });
    expect(await refreshSession('r1-refused')).toEqual({ kind: 'rejected' });
    expect(api.calls).toHaveLength(2);
  });

  it('keeps the refresh token when the API is unreachable', async () => {
    globalThis.fetch = jest.fn(async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await refreshSession('r1-down')).toEqual({ kind: 'unavailable' });
  });
});
