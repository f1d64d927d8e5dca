import type { JsonSchema } from './source-analysis.js';

/**
 * What the code alone cannot say about a few operations: bodies that are not JSON, or are read
 * by hand. Keyed by `METHOD /path`. Everything else in the document comes from the controllers.
 */
export interface OperationNote {
  /** Replaces the request body derived from the handler. */
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  /** Extra text after the handler's JSDoc. */
  description?: string;
  /** Hand-written request example (JSON bodies). */
  example?: unknown;
  /** Replaces the success response's content derived from the handler. */
  responseContent?: Record<string, { schema: JsonSchema }>;
  /** Error statuses beyond the ones derived from the route. */
  errors?: string[];
  /** Not for the fuzzer (signed third-party callbacks). */
  internal?: boolean;
}

const cloudEvent: JsonSchema = {
  type: 'object',
  description: 'A CloudEvents 1.0 usage event (io.suanli.usage.v1).',
  properties: {
    specversion: { type: 'string', const: '1.0' },
    id: { type: 'string' },
    source: { type: 'string' },
    type: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    data: { type: 'object' },
  },
  required: ['specversion', 'id', 'source', 'type'],
};

export const OPERATION_NOTES: Record<string, OperationNote> = {
  'POST /v1/usage/events': {
    requestBody: {
      required: true,
      content: {
        'application/cloudevents+json': { schema: cloudEvent },
        'application/cloudevents-batch+json': { schema: { type: 'array', items: cloudEvent } },
      },
    },
  },
  'POST /v1/evaluations': {
    requestBody: {
      required: true,
      content: {
        'application/jose': { schema: { type: 'string', description: 'A compact JWS.' } },
        'application/json': {
          schema: {
            type: 'object',
            properties: { jws: { type: 'string' } },
            required: ['jws'],
            additionalProperties: false,
          },
        },
      },
    },
  },
  'POST /v1/stripe/webhook': {
    description: 'Called by Stripe; the body must carry a valid `Stripe-Signature`.',
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { type: 'object' } } },
    },
    internal: true,
  },
  'GET /openapi.json': {
    responseContent: { 'application/json': { schema: { type: 'object' } } },
  },
  'POST /v1/auth/login': {
    example: { email: 'buyer@example.com', password: 'correct horse battery staple' },
    description: 'A wrong e-mail or password answers 401; attempts are rate limited per address.',
    errors: ['401'],
  },
  'GET /v1/admin/privacy/pseudonym': {
    description: 'A pseudonym that maps to no organization (for that viewer) answers 404.',
    errors: ['404'],
  },
  'POST /v1/auth/refresh': {
    description: 'An unknown, used or expired refresh token answers 401.',
    errors: ['401'],
  },
};
