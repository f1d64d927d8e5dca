import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The API reference page: Redoc (the `redoc` package's standalone bundle, served by this API
 * from `node_modules`, no CDN) renders the committed `/openapi.json` (docs/decisions.md, "API
 * reference"). The page itself is static: Redoc starts from the `<redoc spec-url>` element, so
 * no inline script is needed and the CSP allows scripts only from this origin.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width,initial-scale=1">
    <title>Suanli Exchange API reference</title>
  </head>
  <body>
    <redoc spec-url="openapi.json" expand-responses="200,201,202" required-props-first="true" sort-props-alphabetically="false" path-in-middle-panel="true" hide-hostname="true" json-sample-expand-level="3"></redoc>
    <noscript>The reference needs JavaScript; the document itself is at <a href="openapi.json">openapi.json</a>.</noscript>
    <script src="docs/redoc.standalone.js"></script>
  </body>
</html>
`;

/**
 * What the page may load: its script from this origin; the inline styles Redoc's
 * styled-components insert; the search worker Redoc starts from a blob; nothing elsewhere.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  'worker-src blob:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

let bundle: string | undefined;
/** Redoc's standalone bundle, read once from the installed package. */
export function redocBundle(): string {
  bundle ??= readFileSync(
    createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'),
    'utf8',
  );
  return bundle;
}
