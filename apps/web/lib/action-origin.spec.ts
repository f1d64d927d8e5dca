import { describe, expect, it } from '@jest/globals';
import { crossOriginAction } from './action-origin';

const request = (method: string, headers: Record<string, string>) => ({
  method,
  headers: new Headers(headers),
});
const MULTIPART = 'multipart/form-data; boundary=x';

describe('crossOriginAction (CSRF on Server Actions)', () => {
  it('refuses an action posted from another origin, as a fetch action or a form', () => {
    const host = { host: 'shop.example' };
    expect(
      crossOriginAction(
        request('POST', { ...host, 'next-action': 'abc', origin: 'https://evil.example' }),
      ),
    ).toBe(true);
    expect(
      crossOriginAction(
        request('POST', { ...host, 'content-type': MULTIPART, origin: 'https://evil.example' }),
      ),
    ).toBe(true);
    expect(
      crossOriginAction(request('POST', { ...host, 'next-action': 'abc', origin: 'null' })),
    ).toBe(true);
    expect(
      crossOriginAction(request('POST', { ...host, 'next-action': 'abc', origin: 'not a url' })),
    ).toBe(true);
  });

  it('lets same-origin actions, other requests and origin-less actions through', () => {
    const same = { host: 'shop.example', origin: 'https://shop.example' };
    expect(crossOriginAction(request('POST', { ...same, 'next-action': 'abc' }))).toBe(false);
    expect(
      crossOriginAction(
        request('POST', {
          host: '127.0.0.1:3000',
          'x-forwarded-host': 'shop.example, proxy.internal',
          origin: 'https://shop.example',
          'next-action': 'abc',
        }),
      ),
    ).toBe(false);
    expect(
      crossOriginAction(request('GET', { host: 'shop.example', origin: 'https://evil.example' })),
    ).toBe(false);
    expect(
      crossOriginAction(
        request('POST', {
          host: 'shop.example',
          origin: 'https://evil.example',
          'content-type': 'application/json',
        }),
      ),
    ).toBe(false);
    expect(crossOriginAction(request('POST', { host: 'shop.example', 'next-action': 'abc' }))).toBe(
      false,
    );
  });
});
