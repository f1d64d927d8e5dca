import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { AppConfig } from './config/app-config.js';
import { SystemClock } from './common/clock.js';
import { AppModule } from './app.module.js';
import { controllersOf, routesOf } from './openapi/route-discovery.js';
import { controllerFiles, SourceAnalysis, type SchemaRef } from './openapi/source-analysis.js';
import { API_ROOT, DOCUMENT_FILE, REPO_ROOT } from './openapi/document-file.js';
import { buildDocument, type OpenApiDocument } from './openapi/openapi-document.js';

/**
 * Generates the OpenAPI document from the code: routes, methods, statuses, roles and path
 * parameters from the controllers' Nest metadata; body and query schemas from the zod schemas
 * the handlers parse with; response schemas from the handlers' TypeScript return types.
 */
export async function generateDocument(): Promise<OpenApiDocument> {
  const config = AppConfig.fromEnv({
    DATABASE_URL: 'postgres://openapi@localhost/openapi',
    PLATFORM_SIGNING_JWK: '{}',
  });
  const controllers = await controllersOf(AppModule.forRoot(config, new SystemClock()));
  const routes = routesOf(controllers);
  const analysis = new SourceAnalysis(controllerFiles(join(API_ROOT, 'src')), REPO_ROOT);
  const facts = new Map(routes.map((r) => [r, analysis.handler(r.controller, r.handler)]));
  const pkg = JSON.parse(readFileSync(join(API_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return buildDocument({
    title: 'Suanli Exchange API',
    version: pkg.version,
    routes,
    facts: (r) => facts.get(r),
    components: analysis.components,
    loadSchema: async (ref: SchemaRef) => {
      const mod = (await import(pathToFileURL(ref.file).href)) as Record<string, unknown>;
      const s = mod[ref.exportName];
      return s && typeof s === 'object' && 'safeParse' in s ? (s as z.ZodType) : undefined;
    },
  });
}

/** The document as committed: JSON formatted by Prettier with the repository's settings. */
export async function documentText(doc: OpenApiDocument): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(DOCUMENT_FILE)) ?? {};
  return prettier.format(JSON.stringify(doc), { ...options, parser: 'json' });
}
