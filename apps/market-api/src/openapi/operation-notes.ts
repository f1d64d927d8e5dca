import { z } from 'zod';
import { USAGE_EVENT_TYPE, unsignedUsageEventSchema } from '@suanli/contracts';
import type { JsonSchema } from './source-analysis.js';

/**
 * What the code alone cannot say about a few operations: bodies that are not JSON, or are read
 * by hand. Keyed by `METHOD /path`. Everything else in the document comes from the controllers.
 */
export interface OperationNote {
  /** Replaces the request body derived from the handler. */
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: JsonSchema; example?: unknown }>;
  };
  /** Extra text after the handler's JSDoc. */
  description?: string;
  /** Hand-written request example (JSON bodies). */
  example?: unknown;
  /** Replaces the success response's content derived from the handler. */
  responseContent?: Record<string, { schema: JsonSchema; example?: unknown }>;
  /** Error statuses beyond the ones derived from the route. */
  errors?: string[];
  /** Not for the fuzzer (signed third-party callbacks). */
  internal?: boolean;
}

/** A CloudEvents 1.0 usage event, from the contract the API validates with. */
const cloudEvent: JsonSchema = (() => {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(unsignedUsageEventSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return {
    ...schema,
    description:
      `A CloudEvents 1.0 usage event (\`${USAGE_EVENT_TYPE}\`). \`data.units\` may be left ` +
      'out: the exchange then rates the raw `usage` with `data.catalog` (or the current catalog).',
  };
})();

/** Binary content mode's body: the event's `data` alone (its attributes are `ce-*` headers). */
const cloudEventData: JsonSchema = (() => {
  const data = (cloudEvent.properties as Record<string, JsonSchema>).data as JsonSchema;
  return {
    ...data,
    description:
      "Binary content mode: the event's `data`; its attributes travel as headers " +
      '(`ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-subject`, `ce-time`).',
  };
})();

const usageEvent = {
  specversion: '1.0',
  id: 'collector-7f3a-000123',
  source: '//collector.example/site-gz1',
  type: USAGE_EVENT_TYPE,
  subject: '3f6c2a4e-8b1d-4c3e-9a7f-2d5b8e1c0a94',
  time: '2026-11-28T08:01:00.000Z',
  datacontenttype: 'application/json',
  data: {
    cri: '86.N00/CN-GZ-A1.AI.BM.H200x8.000001-K',
    window: { start: '2026-11-28T08:00:00.000Z', end: '2026-11-28T08:01:00.000Z' },
    usage: { duration_s: '60', acc_s: { H200: '480' } },
    units: { 'scu.ai': '0.131866667' },
    catalog: '2026.1',
  },
};

/** The same window with raw usage only: the exchange rates it with the current catalog. */
const rawUsageEvent = {
  ...usageEvent,
  id: 'collector-7f3a-000124',
  data: {
    cri: usageEvent.data.cri,
    window: usageEvent.data.window,
    usage: usageEvent.data.usage,
  },
};

/** A compact JWS of an evaluation (header.payload.signature, shortened). */
const evaluationJws =
  'eyJhbGciOiJFZERTQSIsImtpZCI6ImxhYi1rZXktMjAyNi0xMSJ9.eyJpc3MiOiIzZjZjMmE0ZS04YjFkLTRjM2UtOWE3Zi0yZDViOGUxYzBhOTQiLCJzdWIiOiI4Ni5OMDAvQ04tR1otQTEuQUkuQk0uSDIwMHg4LjAwMDAwMS1LIn0.c2lnbmF0dXJl';

export const OPERATION_NOTES: Record<string, OperationNote> = {
  'GET /v1/transparency/log/checkpoint': {
    responseContent: {
      'text/plain': {
        schema: { type: 'string', description: 'A C2SP tlog-checkpoint signed note.' },
        example:
          '86.N00/settlement\n1024\nz3yWo3bDn1DHhJDZn6rA2KkPqgmJ9D0rjSg5Vo2hNbE=\n\n— 86.N00/settlement qDjcmF8g1KzQ…\n',
      },
    },
  },
  'GET /v1/transparency/log/tile/{path}': {
    description:
      '`path` is a C2SP tlog-tiles path below `tile/`: `<L>/<N>[.p/<W>]` (N in 3-digit ' +
      'elements, all but the last prefixed with `x`, e.g. `0/x001/234`) or `entries/<N>[.p/<W>]`.',
    responseContent: {
      'application/octet-stream': {
        schema: {
          type: 'string',
          contentMediaType: 'application/octet-stream',
          description:
            'W (256 when full) 32-byte hashes, or an entry bundle of uint16 length-prefixed leaves.',
        },
        example: '(binary: 8,192 bytes for a full tile)',
      },
    },
  },
  'POST /v1/usage/events': {
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: cloudEventData, example: rawUsageEvent.data },
        'application/cloudevents+json': { schema: cloudEvent, example: usageEvent },
        'application/cloudevents-batch+json': {
          schema: { type: 'array', items: cloudEvent },
          example: [usageEvent, rawUsageEvent],
        },
      },
    },
    description:
      'Binary content mode (`application/json` with `ce-*` headers) is what the official ' +
      'CloudEvents SDKs send by default; `application/json` without them is 415.',
  },
  'POST /v1/evaluations': {
    requestBody: {
      required: true,
      content: {
        'application/jose': {
          schema: { type: 'string', description: 'A compact JWS.' },
          example: evaluationJws,
        },
        'application/json': {
          schema: {
            type: 'object',
            properties: { jws: { type: 'string' } },
            required: ['jws'],
            additionalProperties: false,
          },
          example: { jws: evaluationJws },
        },
      },
    },
  },
  'POST /v1/stripe/webhook': {
    description: 'Called by Stripe; the body must carry a valid `Stripe-Signature`.',
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { type: 'object' },
          example: {
            id: 'evt_1QExample',
            type: 'payment_intent.succeeded',
            data: { object: { id: 'pi_1QExample', amount: 10000, currency: 'cny' } },
          },
        },
      },
    },
    internal: true,
  },
  'GET /openapi.json': {
    responseContent: {
      'application/json': {
        schema: { type: 'object' },
        example: { openapi: '3.1.0', info: { title: 'Suanli Exchange API' }, paths: {} },
      },
    },
  },
  'POST /v1/auth/login': {
    example: { email: 'buyer@example.com', password: 'correct horse battery staple' },
    description:
      'A wrong e-mail or password answers 401, in about the same time whether or not the e-mail has an account. Attempts are rate limited per address, and per account: after 5 consecutive failures each further attempt waits 1 s, doubling up to 15 minutes (429 with Retry-After, the same for every e-mail).',
    errors: ['401', '429'],
  },
  'GET /v1/admin/privacy/pseudonym': {
    description: 'A pseudonym that maps to no organization (for that viewer) answers 404.',
    errors: ['404'],
  },
  'POST /v1/auth/refresh': {
    description:
      'An unknown, used or expired refresh token answers 401. A used one presented again revokes every token rotated from the same log-in (a replay means two parties hold the session).',
    errors: ['401'],
  },
  'POST /v1/auth/revoke': {
    example: { refreshToken: 'rt_0123456789abcdef' },
    description:
      'Log-out: revokes the session the refresh token belongs to, with every token rotated from the same log-in. The answer is the same whether or not the token was known.',
  },
};
