import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/auth.decorators.js';
import { DOCUMENT_FILE } from './document-file.js';
import { DOCS_STYLE_HASH, renderDocsPage } from './docs-page.js';
import type { OpenApiDocument } from './openapi-document.js';

let cached: { doc: OpenApiDocument; html: string } | undefined;
const load = (): { doc: OpenApiDocument; html: string } => {
  if (!cached) {
    const doc = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
    cached = { doc, html: renderDocsPage(doc) };
  }
  return cached;
};

/** The committed OpenAPI document and a browsable reference rendered from it. */
@Controller()
export class OpenApiController {
  /** The OpenAPI 3.1 document of this API. */
  @Public()
  @Get('openapi.json')
  document(): Record<string, unknown> {
    return load().doc;
  }

  /** The API reference as one self-contained HTML page (no scripts, no external assets). */
  @Public()
  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header(
    'content-security-policy',
    `default-src 'none'; style-src '${DOCS_STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  )
  docs(): string {
    return load().html;
  }
}
