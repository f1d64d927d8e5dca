import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { safeNext } from './safe-next';

/** Where a browser would go when sent to `location` from the storefront's origin. */
const ORIGIN = 'https://shop.example';
const landsOn = (location: string) => new URL(location, `${ORIGIN}/lang/en`);

describe('safeNext (the one guard for `next`)', () => {
  it('keeps same-origin paths', () => {
    expect(safeNext('/invoices?x=1')).toBe('/invoices?x=1');
    expect(safeNext('/offers/abc#prices')).toBe('/offers/abc#prices');
    expect(safeNext('/')).toBe('/');
    expect(safeNext('/%E7%AE%97%E5%8A%9B')).toBe('/%E7%AE%97%E5%8A%9B');
  });

  it('refuses what a browser would take to another origin (issue #18)', () => {
    for (const evil of [
      '/\t/evil.example',
      '/%09/evil.example'.replace('%09', '\t'),
      '/\n/evil.example',
      '/\r/evil.example',
      '//evil.example',
      '/\\evil.example',
      '\\/evil.example',
      '/\\/evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      ' /\t/evil.example',
      '/ /evil.example',
      '/\u0000/evil.example',
      '/\u000b/evil.example',
      '',
    ]) {
      expect(safeNext(evil)).toBe('/');
      expect(safeNext(evil, 'fallback')).toBe('fallback');
    }
    expect(safeNext(undefined)).toBe('/');
    expect(safeNext(['/a'])).toBe('/');
  });

  it('keeps a percent-encoded tab as it is: it stays in the path', () => {
    // `/%09/evil.example` is a path whose first segment is an encoded tab; browsers do not
    // decode it before resolving, so it stays on this origin.
    const out = safeNext('/%09/evil.example');
    expect(landsOn(out).origin).toBe(ORIGIN);
  });

  it('never hands a browser a location on another origin, whatever the input (property)', () => {
    const piece = fc.constantFrom(
      '/',
      '//',
      '\\',
      '\t',
      '\n',
      '\r',
      ' ',
      '%09',
      '%2F',
      '%5C',
      'evil.example',
      '@',
      ':',
      '?',
      '#',
      '.',
      '..',
      'http:',
      'https:',
      'a',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.string(), (parts, tail) => {
        const input = parts.join('') + tail;
        const out = safeNext(input);
        expect(out.startsWith('/')).toBe(true);
        expect(landsOn(out).origin).toBe(ORIGIN);
      }),
      { numRuns: 5000 },
    );
  });
});
