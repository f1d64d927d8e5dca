import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/auth.decorators.js';
import { DOCUMENT_FILE } from './document-file.js';
import { DOCS_CSP, DOCS_PAGE, redocBundle } from './docs-page.js';
import type { OpenApiDocument } from './openapi-document.js';

let cached: OpenApiDocument | undefined;
const load = (): OpenApiDocument =>
  (cached ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument);

/** The committed OpenAPI document and the reference page that renders it. */
@Controller()
export class OpenApiController {
  /**
   * The OpenAPI 3.1 document of this API.
   *
   * The committed `apps/market-api/openapi.json`, generated from the controllers and the zod
   * contracts; the typed client (`@suanli/sdk`) is generated from it.
   *
   * @summary Get the OpenAPI document
   */
  @Public()
  @Get('openapi.json')
  document(): Record<string, unknown> {
    return load();
  }

  /**
   * The API reference: this document rendered by Redoc in the browser.
   *
   * A static HTML page; its one script, Redoc's standalone bundle, is served by this API from
   * `/docs/redoc.standalone.js` (nothing from another origin).
   *
   * @summary Read the API reference
   */
  @Public()
  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', DOCS_CSP)
  docs(): string {
    return DOCS_PAGE;
  }

  /**
   * The reference page's script: Redoc's standalone bundle (the `redoc` npm package).
   *
   * Versioned with the API's dependencies, so it may be cached for a day.
   *
   * @summary Get the reference page's script
   */
  @Public()
  @Get('docs/redoc.standalone.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  docsScript(): string {
    return redocBundle();
  }
}
