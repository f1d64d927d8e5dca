import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { OpenApiDocument } from './openapi-document.js';
import type { JsonSchema } from './source-analysis.js';

/**
 * Checks of the generated document that the OpenAPI lint (`redocly.yaml`) also runs, as pure
 * functions for the unit test: real summaries and descriptions, no generated placeholders, and
 * examples that validate against their schemas (docs/decisions.md, "API reference").
 */

/** Texts the generator used to make up from a name: they say nothing a reader can use. */
export const PLACEHOLDERS: RegExp[] = [
  /^The [\w-]+\.$/, // "The code.", "The kid."
  /^Only items whose .+ matches\.$/,
  /^The [\w-]+ header\.$/,
];

/** A summary is a short title of two words or more (not a sentence, not one word). */
export function summaryProblem(summary: unknown): string | undefined {
  if (typeof summary !== 'string' || summary.trim() === '') return 'no summary';
  if (summary.trim().split(/\s+/).length < 2) return `one-word summary "${summary}"`;
  if (summary.length > 80) return `summary longer than 80 characters "${summary}"`;
  if (/[.:;]$/.test(summary)) return `summary ends like a sentence "${summary}"`;
  return undefined;
}

const placeholder = (text: unknown): boolean =>
  typeof text !== 'string' || text.trim() === '' || PLACEHOLDERS.some((p) => p.test(text.trim()));

type Op = OpenApiDocument['paths'][string][string];
const operations = (doc: OpenApiDocument): { id: string; op: Op; pointer: string }[] =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      id: `${method.toUpperCase()} ${path}`,
      op,
      pointer: `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`,
    })),
  );

/** Operations without a real summary or description, parameters without a real description. */
export function documentProblems(doc: OpenApiDocument): string[] {
  const out: string[] = [];
  for (const { id, op } of operations(doc)) {
    const s = summaryProblem(op.summary);
    if (s) out.push(`${id}: ${s}`);
    if (typeof op.description !== 'string' || op.description.trim() === '') {
      out.push(`${id}: no description`);
    }
    for (const p of op.parameters ?? []) {
      if (placeholder(p.description)) {
        out.push(
          `${id} ${p.in} ${p.name}: ${p.description ? `placeholder "${p.description}"` : 'no description'}`,
        );
      }
    }
  }
  return out;
}

type Media = { schema?: JsonSchema; example?: unknown };

/** Every example (parameters, request and response bodies) that its schema refuses. */
export function exampleProblems(doc: OpenApiDocument): string[] {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
  const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: 'openapi.json' } as JsonSchema);
  const check = (where: string, pointer: string, example: unknown): string | undefined => {
    let validate: ValidateFunction;
    try {
      validate = ajv.compile({ $ref: `openapi.json${pointer}` });
    } catch (e) {
      return `${where}: schema does not compile (${(e as Error).message})`;
    }
    if (validate(example)) return undefined;
    const e = (validate.errors ?? [])[0] as ErrorObject | undefined;
    return `${where}: ${e ? `${e.instancePath || '(root)'} ${e.message ?? ''}` : 'invalid'}`;
  };
  const out: string[] = [];
  const shared = (doc.components.responses ?? {}) as Record<
    string,
    { content?: Record<string, Media> }
  >;
  for (const [name, r] of Object.entries(shared)) {
    for (const [type, m] of Object.entries(r.content ?? {})) {
      if (m.example === undefined || !m.schema) continue;
      const ptr = `#/components/responses/${name}/content/${type.replace(/\//g, '~1')}/schema`;
      const p = check(`response ${name} ${type}`, ptr, m.example);
      if (p) out.push(p);
    }
  }
  for (const { id, op, pointer } of operations(doc)) {
    (op.parameters ?? []).forEach((param, i) => {
      if (param.example === undefined) return;
      const p = check(
        `${id} parameter ${param.name}`,
        `${pointer}/parameters/${i}/schema`,
        param.example,
      );
      if (p) out.push(p);
    });
    const body = op.requestBody as { content?: Record<string, Media> } | undefined;
    for (const [type, m] of Object.entries(body?.content ?? {})) {
      if (m.example === undefined || !m.schema) continue;
      const ptr = `${pointer}/requestBody/content/${type.replace(/\//g, '~1')}/schema`;
      const p = check(`${id} request ${type}`, ptr, m.example);
      if (p) out.push(p);
    }
    for (const [status, r] of Object.entries(
      op.responses as Record<string, { content?: Record<string, Media> }>,
    )) {
      for (const [type, m] of Object.entries(r.content ?? {})) {
        if (m.example === undefined || !m.schema) continue;
        const ptr = `${pointer}/responses/${status}/content/${type.replace(/\//g, '~1')}/schema`;
        const p = check(`${id} ${status} ${type}`, ptr, m.example);
        if (p) out.push(p);
      }
    }
  }
  return out;
}
