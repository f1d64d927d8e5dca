import { z } from 'zod';
import { ERROR_CODES } from '@suanli/contracts';
import { strictInput } from '../common/strict-input.js';
import type { DeprecationNotice } from '../common/deprecation.js';
import type { DiscoveredRoute } from './route-discovery.js';
import type { HandlerFacts, JsonSchema, SchemaRef } from './source-analysis.js';
import { OPERATION_NOTES } from './operation-notes.js';
import { sampleOf } from './schema-sample.js';

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>;
};
export type Operation = Record<string, unknown> & {
  operationId: string;
  parameters?: Parameter[];
  responses: Record<string, unknown>;
};
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
  example?: unknown;
}

export interface BuildInput {
  title: string;
  version: string;
  routes: DiscoveredRoute[];
  facts: (r: DiscoveredRoute) => HandlerFacts | undefined;
  /** Named schemas derived from TypeScript types (responses). */
  components: Record<string, JsonSchema>;
  /** The zod schema exported under a name from a module. */
  loadSchema: (ref: SchemaRef) => Promise<z.ZodType | undefined>;
}

/** What each error status means here; each operation lists its own error codes after it. */
const ERROR_STATUSES: Record<string, string> = {
  '400': 'The request is not valid (for a field, `details` names it).',
  '401': 'No valid credentials.',
  '403': 'The caller lacks the role or scope.',
  '404':
    'No such object visible to the caller; objects of other organizations are reported as missing.',
  '409':
    'The object is not in a state that allows this, or a request with the same `Idempotency-Key` is still in progress.',
  '413': 'The request body is larger than the limit.',
  '415': 'The request body has a media type this endpoint does not accept.',
  '422':
    'The request is well-formed but cannot be carried out (funds, signatures, keys), or its `Idempotency-Key` was used before with another request.',
  '429': 'Too many requests from this API key or address; retry after `Retry-After` seconds.',
  '502': 'Another platform of the federation answered something this one cannot pass on.',
  '504': 'Another platform of the federation does not answer, and nothing usable is cached.',
  '508': 'The request went round too many platforms (hop limit).',
};

/** The codes a status carries whatever the handler does (guards, pipes, parsers, interceptors). */
const BASE_CODES: Record<string, string[]> = {
  '400': ['validation_failed'],
  '401': ['unauthenticated'],
  '403': ['forbidden'],
  '404': ['not_found'],
  '409': ['conflict'],
  '413': ['validation_failed'],
  '415': ['validation_failed'],
  '422': [],
  '429': ['rate_limited'],
  '502': [],
  '504': [],
  '508': [],
};

/** The shared error responses (`components.responses`): a status with just its base codes. */
const ERROR_RESPONSE_NAMES: Record<string, string> = {
  '400': 'BadRequest',
  '401': 'Unauthenticated',
  '403': 'Forbidden',
  '404': 'NotFound',
  '409': 'Conflict',
  '413': 'PayloadTooLarge',
  '415': 'UnsupportedMediaType',
  '422': 'IdempotencyConflict',
  '429': 'TooManyRequests',
  '502': 'BadGateway',
  '504': 'GatewayTimeout',
  '508': 'LoopDetected',
};
const SHARED_CODES: Record<string, string[]> = { ...BASE_CODES, '422': ['idempotency_conflict'] };

/** Example messages, for the error examples. */
const EXAMPLE_MESSAGES: Record<string, string> = {
  validation_failed: 'slots: must be a positive integer',
  unauthenticated: 'a valid access token is required',
  forbidden: 'this role may not do that',
  not_found: 'lease not found',
  conflict: 'a request with this Idempotency-Key is still in progress',
  idempotency_conflict: 'this Idempotency-Key was used with another request',
  insufficient_funds: 'the wallet holds 12.00 CNY, 40.00 CNY are needed',
  capacity_unavailable: 'the offer has no free slot for that period',
  resource_offline: "the offer's resource is offline (last heartbeat 2026-11-28T09:40:00Z)",
  invalid_state: 'the lease has ended',
  rate_limited: 'too many requests from this address; retry after 3 s',
};

/** One error response of an operation: the status' meaning, its codes, an example. */
function errorResponse(status: string, codes: string[]): Record<string, unknown> {
  const code = codes[0] ?? 'validation_failed';
  const list = codes.map((c) => `\`${c}\``).join(', ');
  return {
    description: `${ERROR_STATUSES[status]} Codes: ${list}.`,
    content: {
      'application/json': {
        schema: errorRef,
        example: {
          error: {
            code,
            message: EXAMPLE_MESSAGES[code] ?? code.replace(/_/g, ' '),
            ...(code === 'rate_limited' ? { details: { retryAfterSeconds: 3 } } : {}),
          },
          correlationId: '0f8e2b7c-5d14-4a6b-9c3e-7a1d2f6b8e40',
        },
      },
    },
    ...(status === '429'
      ? {
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before retrying.',
              schema: { type: 'integer', minimum: 1 },
            },
          },
        }
      : {}),
  };
}

const errorRef = { $ref: '#/components/schemas/ErrorEnvelope' };

const toJsonSchema = (s: z.ZodType): JsonSchema => {
  // parseInput validates strictly: the document says so (additionalProperties: false)
  const { $schema: _ignored, ...rest } = z.toJSONSchema(strictInput(s), {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
};

const humanize = (name: string): string => {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const firstSentence = (s: string): string => {
  const line = s.split('\n\n')[0].replace(/\s+/g, ' ').trim();
  const m = /^(.+?[.!?])(\s|$)/.exec(line);
  return (m ? m[1] : line).slice(0, 120);
};

const summaryOf = (facts: HandlerFacts | undefined): { summary?: string } => {
  const text = facts?.summary ?? (facts?.description && firstSentence(facts.description));
  return text ? { summary: text } : {};
};

const withText = (text: string | undefined): { description?: string } =>
  text ? { description: text } : {};

/** Descriptions of parameters that recur across operations. */
const COMMON_PARAMS: Record<string, string> = {
  limit: 'The most items to return (page size).',
  cursor: "Where the page starts: the previous page's `nextCursor`.",
  from: 'Start of the time range (ISO 8601, inclusive).',
  to: 'End of the time range (ISO 8601, exclusive).',
  q: 'Free text, matched against names and titles.',
  sort: 'The order of the items.',
  class: 'Compute class: GEN, AI or HPC.',
  form: 'Compute form: BM, VM, CTR, API or JOB.',
  region: 'Location prefix, e.g. CN or CN-GZ.',
  currency: 'ISO 4217 currency code, e.g. CNY.',
  format: 'The representation: json, csv or pdf.',
  granularity: 'Bucket size of the usage series.',
  scope: 'What to recompute.',
  role: 'Only organizations holding this role.',
  'stripe-signature': "Stripe's signature of the body (checked against the webhook secret).",
};

/** Examples of parameters whose schema alone gives a poor one. */
const PARAM_EXAMPLES: Record<string, unknown> = {
  cursor: 'eyJhdCI6IjIwMjYtMTEtMjhUMDg6MDA6MDAuMDAwWiJ9',
  from: '2026-11-28T00:00:00.000Z',
  to: '2026-11-29T00:00:00.000Z',
  format: 'pdf',
  kid: 'lab-key-2026-11',
  code: '86.N00/CN-GZ-A1.AI.BM.H200x8.000001-K',
  ref: '3f6c2a4e-8b1d-4c3e-9a7f-2d5b8e1c0a94.pdf',
  kind: 'invoice',
  treeSize: '42',
  q: 'H200',
  'stripe-signature':
    't=1764316800,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd',
};

/** A parameter's example: the hand-written one when its schema admits it, else a sample. */
function paramExample(name: string, schema: JsonSchema, components: Record<string, JsonSchema>) {
  const given = PARAM_EXAMPLES[name];
  const pattern = schema.pattern as string | undefined;
  const fits =
    given !== undefined &&
    schema.enum === undefined &&
    schema.format === undefined &&
    (schema.type === undefined || schema.type === typeof given) &&
    (!pattern || new RegExp(pattern, 'u').test(String(given)));
  return fits ? given : sampleOf(schema, components, name);
}

/** Examples of success bodies that are not JSON, by media type. */
const CONTENT_EXAMPLES: Record<string, string> = {
  'text/html':
    '<!doctype html><html lang="en"><head><title>Suanli Exchange API</title></head><body>…</body></html>',
  'text/plain':
    '# HELP http_requests_total Requests answered, by route and status.\n# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/v1/offers",status="200"} 42\n',
  'text/csv':
    'number,period_start,period_end,line,quantity,unit,price,amount\nSL-2026-000042,2026-11-28T08:00:00Z,2026-11-28T10:00:00Z,slot_h,2,slot_h,60.00,120.00\n',
  'application/pdf': '%PDF-1.7 … (binary)',
  'text/javascript': '/*! For license information please see redoc.standalone.js.LICENSE.txt */ …',
};
const contentExample = (mediaType: string): string | undefined =>
  CONTENT_EXAMPLES[mediaType.split(';')[0].trim()];

/** Adds the fields' JSDoc to the top-level properties that have no description. */
function withFieldDocs(schema: JsonSchema, docs: Record<string, string>): JsonSchema {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!props) return schema;
  const next = Object.fromEntries(
    Object.entries(props).map(([k, v]) => [
      k,
      docs[k] && v.description === undefined && !('$ref' in v) ? { ...v, description: docs[k] } : v,
    ]),
  );
  return { ...schema, properties: next };
}

/** `{id}` after `/leases` → "The lease's id (a UUID)."; other names need the handler's `@param`. */
function pathParamText(name: string, segment: string): string | undefined {
  if (name === 'orgId') return "The organization's id (a UUID).";
  if (name === 'id' && !segment.startsWith('{')) {
    const noun = segment.replace(/-/g, ' ').replace(/ies$/, 'y').replace(/s$/, '');
    return `The ${noun}'s id (a UUID).`;
  }
  return undefined;
}

/** The response headers of a deprecated operation (docs/api-versioning.md). */
const DEPRECATION_RESPONSE_HEADERS = {
  Deprecation: {
    description: 'When the operation was deprecated (RFC 9745: `@` and seconds since the epoch).',
    schema: { type: 'string' },
    example: '@1796601600',
  },
  Sunset: {
    description: 'From when the operation may be gone (RFC 8594: an HTTP-date).',
    schema: { type: 'string' },
    example: 'Sat, 01 Jul 2028 00:00:00 GMT',
  },
};

/** Marks an operation deprecated and says since when, until when and what replaces it. */
function deprecate(op: Operation, n: DeprecationNotice): void {
  op.deprecated = true;
  const instead = n.successor ? ` Use \`${n.successor}\` instead.` : '';
  op.description =
    `**Deprecated** since ${n.since}; it may be removed from ${n.sunset} (the \`Sunset\` ` +
    `header of every answer).${instead}\n\n${op.description}`;
}

function operationId(r: DiscoveredRoute, taken: Set<string>): string {
  const base = r.controller.replace(/Controller$/, '');
  const id0 = `${base.charAt(0).toLowerCase()}${base.slice(1)}${r.handler.charAt(0).toUpperCase()}${r.handler.slice(1)}`;
  let id = id0;
  for (let i = 2; taken.has(id); i++) id = `${id0}${i}`;
  taken.add(id);
  return id;
}

function securityOf(r: DiscoveredRoute): Record<string, string[]>[] | undefined {
  switch (r.auth.kind) {
    case 'public':
      return [];
    case 'roles':
      return [
        { accessToken: r.auth.roles },
        ...(r.auth.apiKeyScope ? [{ apiKey: [r.auth.apiKeyScope] }] : []),
      ];
    case 'agent':
      return [{ agentToken: [] }];
    case 'peer':
      return [{ peerAssertion: [] }];
    case 'scrapeToken':
      return [{ scrapeToken: [] }];
    case 'apiKey':
      return [{ apiKey: [r.auth.scope] }];
    case 'closed':
      return undefined;
  }
}

function authText(r: DiscoveredRoute): string {
  switch (r.auth.kind) {
    case 'public':
      return 'Public: no credentials needed.';
    case 'roles':
      return (
        `Requires an access token of an organization with one of the roles: ${r.auth.roles.map((x) => `\`${x}\``).join(', ')}.` +
        (r.auth.apiKeyScope ? ` Or an API key with the scope \`${r.auth.apiKeyScope}\`.` : '')
      );
    case 'agent':
      return "Requires a token signed by the metering agent's enrolled key.";
    case 'peer':
      return 'Platform-to-platform: requires a client assertion of a platform of the federation (docs/federation.md).';
    case 'scrapeToken':
      return 'For Prometheus: requires the scrape token the server is configured with (`METRICS_TOKEN`, `Authorization: Bearer …`); without one configured the route answers 404.';
    case 'apiKey':
      return `Requires an organization API key (\`Authorization: Bearer sk_…\`) with the scope \`${r.auth.scope}\`.`;
    case 'closed':
      return 'Closed: no caller may use it.';
  }
}

/** Builds the OpenAPI 3.1 document of the discovered routes. */
export async function buildDocument(input: BuildInput): Promise<OpenApiDocument> {
  const components: Record<string, JsonSchema> = { ...input.components };
  components.ErrorEnvelope = {
    type: 'object',
    description: 'The one error envelope every endpoint answers failures with.',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: [...ERROR_CODES] },
          message: { type: 'string' },
          details: { type: 'object' },
        },
        required: ['code', 'message'],
      },
      correlationId: { type: 'string' },
    },
    required: ['error', 'correlationId'],
  };
  const paths: OpenApiDocument['paths'] = {};
  const taken = new Set<string>();
  const usedShared = new Set<string>();
  const routes = [...input.routes].sort(
    (a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method),
  );
  for (const r of routes) {
    const key = `${r.method.toUpperCase()} ${r.path}`;
    const note = OPERATION_NOTES[key];
    const facts = input.facts(r);
    const parameters: Parameter[] = [];
    let body: JsonSchema | undefined;
    let acceptsBody = false;
    for (const a of r.args) {
      const parsed = facts?.parsed.find((p) => p.argIndex === a.index);
      const schema = parsed?.schema ? await input.loadSchema(parsed.schema) : undefined;
      if (a.kind === 'param' && a.name) {
        const uuid = a.pipes.includes('ParseUUIDPipe');
        const segment = r.path.split(`{${a.name}}`)[0].split('/').filter(Boolean).pop() ?? '';
        const text = facts?.paramDocs[a.index] ?? pathParamText(a.name, segment);
        parameters.push({
          name: a.name,
          in: 'path',
          required: true,
          ...(text ? { description: text } : {}),
          schema: uuid ? { type: 'string', format: 'uuid' } : { type: 'string' },
          example: uuid
            ? sampleOf({ type: 'string', format: 'uuid' }, components)
            : paramExample(a.name, { type: 'string' }, components),
        });
      } else if (a.kind === 'query' && a.name) {
        parameters.push({
          name: a.name,
          in: 'query',
          required: false,
          ...withText(facts?.paramDocs[a.index] ?? COMMON_PARAMS[a.name]),
          schema: { type: 'string' },
          example: paramExample(a.name, { type: 'string' }, components),
        });
      } else if (a.kind === 'query' && schema) {
        const js = toJsonSchema(schema);
        const props = (js.properties as Record<string, JsonSchema> | undefined) ?? {};
        const required = new Set((js.required as string[] | undefined) ?? []);
        for (const [name, ps] of Object.entries(props)) {
          const { description, ...rest } = ps;
          const text =
            (typeof description === 'string' ? description : undefined) ??
            parsed?.schema?.fieldDocs[name] ??
            COMMON_PARAMS[name];
          parameters.push({
            name,
            in: 'query',
            required: required.has(name),
            ...(text ? { description: text } : {}),
            schema: rest,
            example: paramExample(name, rest, components),
          });
        }
      } else if (a.kind === 'header' && a.name && a.name.toLowerCase() !== 'idempotency-key') {
        parameters.push({
          name: a.name,
          in: 'header',
          required: false,
          ...withText(facts?.paramDocs[a.index] ?? COMMON_PARAMS[a.name]),
          schema: { type: 'string' },
          example: paramExample(a.name.toLowerCase(), { type: 'string' }, components),
        });
      } else if (a.kind === 'body') {
        acceptsBody = true;
        if (schema) body = withFieldDocs(toJsonSchema(schema), parsed?.schema?.fieldDocs ?? {});
        else if (parsed?.typeSchema) body = parsed.typeSchema;
      }
    }
    if (r.idempotency !== 'none') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: r.idempotency === 'required',
        description:
          'Makes the request safe to retry: the first answer is stored and replayed for the same key and body; the same key with another body is refused with 422 (`idempotency_conflict`).',
        schema: { type: 'string', pattern: '^[\\w.:-]{8,128}$' },
        example: 'order-2026-11-28-0001',
      });
    }
    for (const p of parameters) if (p.example === undefined) delete p.example;

    const op: Operation = {
      operationId: operationId(r, taken),
      tags: [humanize(r.controller.replace(/Controller$/, ''))],
      // the handler's `@summary`, else its JSDoc's first sentence; none at all fails the lint
      ...summaryOf(facts),
      description: [facts?.description, note?.description, authText(r)]
        .filter((x) => x)
        .join('\n\n'),
      responses: {},
    };
    if (r.deprecated) deprecate(op, r.deprecated);
    const security = securityOf(r);
    if (security) op.security = security;
    if (parameters.length > 0) op.parameters = parameters;
    if (note?.requestBody) {
      op.requestBody = note.requestBody;
    } else if (body || acceptsBody) {
      const schema = body ?? { type: 'object' };
      op.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema,
            example: note?.example ?? sampleOf(schema, components, '', 0, true),
          },
        },
      };
    }
    if (note?.internal) op['x-internal'] = true;

    const ok: Record<string, unknown> = {
      description: r.status === 201 ? 'Created.' : r.status === 202 ? 'Accepted.' : 'OK.',
    };
    if (note?.responseContent) {
      ok.content = note.responseContent;
    } else if (r.contentType && r.contentType !== 'application/json') {
      const example = contentExample(r.contentType);
      ok.content = {
        [r.contentType]: { schema: { type: 'string' }, ...(example ? { example } : {}) },
      };
    } else if (facts?.response || facts?.binary) {
      const content: Record<string, unknown> = {};
      if (facts.response) {
        content['application/json'] = {
          schema: facts.response,
          example: sampleOf(facts.response, components),
        };
      }
      if (facts.binary) {
        content['application/pdf'] = {
          schema: { type: 'string', contentMediaType: 'application/pdf' },
          example: contentExample('application/pdf'),
        };
        content['text/csv'] = { schema: { type: 'string' }, example: contentExample('text/csv') };
      }
      ok.content = content;
    } else if (!facts) {
      ok.content = { 'application/json': { schema: {} } };
    }
    if (r.deprecated) ok.headers = DEPRECATION_RESPONSE_HEADERS;
    op.responses[String(r.status)] = ok;

    const errors = new Set<string>(['400', '429']);
    if (r.auth.kind !== 'public') errors.add('401');
    if (!['public', 'agent', 'peer', 'scrapeToken'].includes(r.auth.kind)) errors.add('403');
    if (r.auth.kind === 'scrapeToken') errors.add('404');
    if (r.path.includes('{') || r.method !== 'get') errors.add('404');
    if (r.method !== 'get') errors.add('409');
    if (op.requestBody) {
      errors.add('413');
      errors.add('415');
    }
    const codes = new Map<string, Set<string>>();
    const addCode = (status: string, code: string): void => {
      errors.add(status);
      (codes.get(status) ?? codes.set(status, new Set()).get(status))?.add(code);
    };
    if (r.idempotency !== 'none') addCode('422', 'idempotency_conflict');
    for (const e of note?.errors ?? []) errors.add(e);
    // the codes the handler's own code raises (source analysis), under their statuses
    for (const e of facts?.errors ?? []) {
      if (ERROR_STATUSES[String(e.status)]) addCode(String(e.status), e.code);
    }
    for (const s of [...errors].sort()) {
      const base = s === '409' && r.method === 'get' ? [] : BASE_CODES[s];
      const all = [...new Set([...base, ...(codes.get(s) ?? [])])];
      const shared = all.join() === SHARED_CODES[s].join();
      if (shared) usedShared.add(s);
      op.responses[s] = shared
        ? { $ref: `#/components/responses/${ERROR_RESPONSE_NAMES[s]}` }
        : errorResponse(s, all);
    }
    (paths[r.path] ??= {})[r.method] = op;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: input.title,
      version: input.version,
      description: DESCRIPTION,
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [...new Set(routes.map((r) => humanize(r.controller.replace(/Controller$/, ''))))]
      .sort()
      .map((name) => ({ name })),
    paths,
    components: {
      schemas: Object.fromEntries(
        Object.entries(components).sort(([a], [b]) => a.localeCompare(b)),
      ),
      // the shared error responses some operation refers to
      responses: Object.fromEntries(
        Object.keys(ERROR_STATUSES)
          .filter((status) => usedShared.has(status))
          .map((status) => [
            ERROR_RESPONSE_NAMES[status],
            errorResponse(status, SHARED_CODES[status]),
          ]),
      ),
      securitySchemes: {
        accessToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An EdDSA access token from `POST /v1/auth/login` (15 minutes; renew with `POST /v1/auth/refresh`). The scopes listed are the roles that may call the operation.',
        },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'sk_…',
          description:
            'An organization API key from `POST /v1/api-keys` (shown once), sent as `Authorization: Bearer sk_…`. The scopes listed are the key scopes required.',
        },
        agentToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "A short-lived JWT signed by a metering agent's enrolled Ed25519 key.",
        },
        scrapeToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "The metrics scrape token (`METRICS_TOKEN` of the server's configuration), for Prometheus only (docs/operations.md).",
        },
        peerAssertion: {
          type: 'apiKey',
          in: 'header',
          name: 'suanli-client-assertion',
          description:
            "A platform's client assertion (EdDSA JWT with `iss`, `aud`, a short `exp` and a single-use `jti`), signed by a key of the federation's directory (docs/federation.md).",
        },
      },
    },
  };
}

const DESCRIPTION = `The public HTTP API of Suanli Exchange (算力交易所): register compute, publish offers, order leases, read usage, invoices and wallets.

- **Versioning.** Every business path starts with \`/v1\`; a breaking change gets a new prefix.
- **Authentication.** \`Authorization: Bearer <token>\` with an access token (users), an organization API key \`sk_…\` (integrations, where an operation lists the \`apiKey\` scheme) or an agent token (metering agents).
- **Errors.** Every failure answers \`{"error":{"code","message","details"},"correlationId"}\`; \`code\` is one of a fixed list. Objects of other organizations answer 404, a wrong role 403.
- **Input.** Bodies and queries are validated strictly: an unknown field is a 400. Bodies are limited in size (413).
- **Money.** Amounts and quantities are decimal strings (\`"12.50"\`), never binary floats.
- **Idempotency.** POSTs that create or move money take an \`Idempotency-Key\` header.
- **Rate limits.** Per API key and per address; a 429 carries \`Retry-After\`.`;
