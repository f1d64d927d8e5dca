import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
/** A hook around each call (openapi-fetch's middleware: onRequest, onResponse, onError). */
export type { Middleware as MarketApiMiddleware } from 'openapi-fetch';

/** The market API, typed from its OpenAPI document (see generate.ts). */
export type MarketApiClient = Client<paths>;

export interface MarketApiClientOptions {
  baseUrl: string;
  /** A bearer access token, sent as `Authorization`. */
  token?: string;
  headers?: Record<string, string>;
  fetch?: ClientOptions['fetch'];
}

export function createMarketApiClient(options: MarketApiClientOptions): MarketApiClient {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
