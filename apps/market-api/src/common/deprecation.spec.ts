import { Controller, Get, Post } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { buildDocument } from '../openapi/openapi-document.js';
import { routesOf } from '../openapi/route-discovery.js';
import { checkNotice, Deprecated, deprecationHeaders } from './deprecation.js';

describe('deprecation notices (docs/api-versioning.md)', () => {
  it('answers with RFC 9745 Deprecation, RFC 8594 Sunset and the links', () => {
    expect(
      deprecationHeaders({
        since: '2026-12-07',
        sunset: '2027-06-30',
        successor: 'GET /v1/transparency/log/checkpoint',
      }),
    ).toEqual({
      Deprecation: '@1796601600',
      Sunset: 'Wed, 30 Jun 2027 00:00:00 GMT',
      Link: '</docs>; rel="deprecation"; type="text/html", </v1/transparency/log/checkpoint>; rel="successor-version"',
    });
    expect(deprecationHeaders({ since: '2026-12-07', sunset: '2027-06-30' }).Link).toBe(
      '</docs>; rel="deprecation"; type="text/html"',
    );
  });

  it('refuses notices the policy does not allow', () => {
    expect(() => checkNotice({ since: '2026-12-07', sunset: '2027-01-07' })).toThrow(
      'at least 182 days after since',
    );
    expect(() => checkNotice({ since: '7 Dec 2026', sunset: '2027-06-30' })).toThrow(
      'expected YYYY-MM-DD',
    );
    expect(() =>
      checkNotice({ since: '2026-12-07', sunset: '2027-06-30', successor: '/v1/x' }),
    ).toThrow('expected "METHOD /v1/…"');
  });

  it('marks the operation deprecated in the OpenAPI document, with its response headers', async () => {
    @Controller('v1')
    class OldController {
      @Deprecated({ since: '2026-12-07', sunset: '2027-06-30', successor: 'POST /v1/new' })
      @Get('old')
      old() {
        return { ok: true };
      }

      @Post('new')
      current() {
        return { ok: true };
      }
    }
    const doc = await buildDocument({
      title: 't',
      version: '0',
      routes: routesOf([OldController]),
      facts: () => undefined,
      components: {},
      loadSchema: () => Promise.resolve(undefined),
    });
    const old = doc.paths['/v1/old'].get;
    expect(old.deprecated).toBe(true);
    expect(old.description).toMatch(
      /^\*\*Deprecated\*\* since 2026-12-07; it may be removed from 2027-06-30 .* Use `POST \/v1\/new` instead\./,
    );
    expect(Object.keys((old.responses['200'] as { headers: object }).headers)).toEqual([
      'Deprecation',
      'Sunset',
    ]);
    expect(doc.paths['/v1/new'].post.deprecated).toBeUndefined();
  });
});
