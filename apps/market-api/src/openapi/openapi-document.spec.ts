import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from '@suanli/contracts';
import { documentProblems, exampleProblems } from './document-lint.js';
import { DOCUMENT_FILE } from './document-file.js';
import type { OpenApiDocument } from './openapi-document.js';

type Media = { schema?: unknown; example?: unknown; examples?: unknown };
type Response = { $ref?: string; description?: string; content?: Record<string, Media> };

// The committed document (kept current by `npm run openapi:check`): every operation,
// parameter, error code and example documented.
describe('the OpenAPI document', () => {
  const doc = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
  const shared = (doc.components.responses ?? {}) as Record<string, Response>;
  const resolve = (r: Response): Response =>
    r.$ref ? (shared[r.$ref.split('/').pop() ?? ''] ?? {}) : r;
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
  );

  it('describes every operation and parameter, with an example for each parameter', () => {
    const gaps: string[] = [];
    for (const { id, op } of operations) {
      if (!op.summary) gaps.push(`${id}: summary`);
      if (!op.description) gaps.push(`${id}: description`);
      for (const p of op.parameters ?? []) {
        if (!p.description) gaps.push(`${id} ${p.name}: description`);
        if (p.example === undefined) gaps.push(`${id} ${p.name}: example`);
      }
    }
    expect(gaps).toEqual([]);
  });

  it('has a real summary and description for every operation and parameter (no placeholders)', () => {
    expect(documentProblems(doc)).toEqual([]);
  });

  it('has examples that validate against their schemas', () => {
    expect(exampleProblems(doc)).toEqual([]);
  });

  it('has an example for every request and success body', () => {
    const gaps: string[] = [];
    for (const { id, op } of operations) {
      const body = op.requestBody as { content?: Record<string, Media> } | undefined;
      for (const [type, m] of Object.entries(body?.content ?? {})) {
        if (m.example === undefined && m.examples === undefined) gaps.push(`${id} request ${type}`);
      }
      for (const [status, r] of Object.entries(op.responses as Record<string, Response>)) {
        if (status >= '400') continue;
        for (const [type, m] of Object.entries(resolve(r).content ?? {})) {
          if (m.example === undefined) gaps.push(`${id} ${status} ${type}`);
        }
      }
    }
    expect(gaps).toEqual([]);
  });

  it('lists every error response with the envelope, its codes and an example of one', () => {
    const gaps: string[] = [];
    const listed = new Set<string>();
    for (const { id, op } of operations) {
      const statuses = Object.keys(op.responses);
      for (const s of ['400', '429']) if (!statuses.includes(s)) gaps.push(`${id}: no ${s}`);
      if (op.security && (op.security as unknown[]).length > 0 && !statuses.includes('401')) {
        gaps.push(`${id}: no 401`);
      }
      for (const [status, r0] of Object.entries(op.responses as Record<string, Response>)) {
        if (status < '400') continue;
        const r = resolve(r0);
        const media = r.content?.['application/json'];
        if (JSON.stringify(media?.schema) !== '{"$ref":"#/components/schemas/ErrorEnvelope"}') {
          gaps.push(`${id} ${status}: not the error envelope`);
        }
        const codes = [...(r.description ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
        const example = media?.example as { error?: { code?: string } } | undefined;
        if (codes.length === 0) gaps.push(`${id} ${status}: no codes`);
        if (!example?.error?.code || !codes.includes(example.error.code)) {
          gaps.push(`${id} ${status}: no example of its codes`);
        }
        for (const c of codes) listed.add(c);
      }
    }
    expect(gaps).toEqual([]);
    // every code of the contract is documented on some operation ('internal' is a 500: a bug)
    expect(ERROR_CODES.filter((c) => c !== 'internal' && !listed.has(c))).toEqual([]);
  });

  it("lists the codes a handler's own code raises (followed through its services)", () => {
    const codesOf = (path: string, method: string, status: string): string => {
      const r = resolve(doc.paths[path][method].responses[status] as Response);
      return r.description ?? '';
    };
    const evaluation422 = codesOf('/v1/evaluations', 'post', '422');
    for (const c of ['unknown_key', 'bad_signature', 'evaluation_expired', 'unknown_subject']) {
      expect(evaluation422).toContain(`\`${c}\``);
    }
    expect(codesOf('/v1/orders', 'post', '409')).toContain('`capacity_unavailable`');
    expect(codesOf('/v1/orders', 'post', '422')).toContain('`insufficient_funds`');
    expect(codesOf('/v1/cri/{code}', 'get', '400')).toContain('`invalid_cri`');
  });
});
