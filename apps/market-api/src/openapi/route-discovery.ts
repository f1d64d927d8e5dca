import 'reflect-metadata';
import type { DynamicModule, Type } from '@nestjs/common';
import {
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  MODULE_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import type { ApiKeyScope, Role } from '@suanli/contracts';
import {
  AGENT_KEY,
  API_KEY_SCOPE,
  PEER_KEY,
  SCRAPE_TOKEN_KEY,
  PUBLIC_KEY,
  ROLES_KEY,
} from '../auth/auth.decorators.js';
import { DEPRECATED_KEY, type DeprecationNotice } from '../common/deprecation.js';

/** Nest's RouteParamtypes (the keys of ROUTE_ARGS_METADATA are `<type>:<index>`). */
const PARAMTYPE = { BODY: 3, QUERY: 4, PARAM: 5, HEADERS: 6 } as const;
const IDEMPOTENT = 'suanli:idempotent';
const INTERCEPTORS = '__interceptors__';

export type Auth =
  | { kind: 'public' }
  | { kind: 'roles'; roles: Role[]; apiKeyScope?: ApiKeyScope }
  | { kind: 'agent' }
  | { kind: 'peer' }
  | { kind: 'scrapeToken' }
  | { kind: 'apiKey'; scope: ApiKeyScope }
  | { kind: 'closed' };

export interface RouteArg {
  kind: 'body' | 'query' | 'param' | 'header';
  /** The named value (`@Param('id')`), or undefined for the whole object (`@Body()`). */
  name?: string;
  index: number;
  /** Names of the pipes on the argument (e.g. ParseUUIDPipe). */
  pipes: string[];
}

/** One HTTP endpoint as Nest will route it, read from the controllers' decorator metadata. */
export interface DiscoveredRoute {
  controller: string;
  handler: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, e.g. `/v1/offers/{id}`. */
  path: string;
  status: number;
  auth: Auth;
  idempotency: 'required' | 'optional' | 'none';
  args: RouteArg[];
  /** The media type a `@Header('content-type', …)` sets, when the handler sets one. */
  contentType?: string;
  /** `@Deprecated(…)`: the operation is deprecated (docs/api-versioning.md). */
  deprecated?: DeprecationNotice;
}

type ModuleNode = Type | DynamicModule | Promise<DynamicModule> | { forwardRef: () => Type };

function isDynamic(m: unknown): m is DynamicModule {
  return typeof m === 'object' && m !== null && 'module' in m;
}

/** Every controller reachable from a module, in import order. */
export async function controllersOf(root: ModuleNode): Promise<Type[]> {
  const seen = new Set<unknown>();
  const out: Type[] = [];
  const visit = async (node: ModuleNode | undefined): Promise<void> => {
    if (!node) return;
    let n: unknown = node;
    if (n instanceof Promise) n = await n;
    if (typeof n === 'object' && n !== null && 'forwardRef' in n) {
      n = (n as { forwardRef: () => Type }).forwardRef();
    }
    if (seen.has(n)) return;
    seen.add(n);
    const cls = isDynamic(n) ? n.module : (n as Type);
    if (isDynamic(n)) {
      if (seen.has(cls)) return;
      seen.add(cls);
    }
    const imports: ModuleNode[] = [
      ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, cls) as ModuleNode[] | undefined) ?? []),
      ...(isDynamic(n) ? ((n.imports ?? []) as ModuleNode[]) : []),
    ];
    const controllers: Type[] = [
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, cls) as Type[] | undefined) ?? []),
      ...(isDynamic(n) ? (n.controllers ?? []) : []),
    ];
    for (const c of controllers) if (!out.includes(c)) out.push(c);
    for (const i of imports) await visit(i);
  };
  await visit(root);
  return out;
}

const joinPath = (...parts: string[]): string => {
  const p = parts
    .flatMap((s) => s.split('/'))
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(':') || s.startsWith('*') ? `{${s.slice(1)}}` : s))
    .join('/');
  return `/${p}`;
};

const METHODS: Partial<Record<RequestMethod, DiscoveredRoute['method']>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
};

function authOf(cls: Type, fn: object): Auth {
  const get = <T>(key: string): T | undefined =>
    (Reflect.getMetadata(key, fn) as T | undefined) ?? (Reflect.getMetadata(key, cls) as T);
  const scope = get<ApiKeyScope>(API_KEY_SCOPE);
  if (get<boolean>(PEER_KEY)) return { kind: 'peer' };
  if (get<boolean>(SCRAPE_TOKEN_KEY)) return { kind: 'scrapeToken' };
  if (get<boolean>(PUBLIC_KEY)) return { kind: 'public' };
  const roles = get<Role[]>(ROLES_KEY);
  if (roles) return { kind: 'roles', roles, ...(scope ? { apiKeyScope: scope } : {}) };
  if (get<boolean>(AGENT_KEY)) return { kind: 'agent' };
  if (scope) return { kind: 'apiKey', scope };
  return { kind: 'closed' };
}

function pipeName(p: unknown): string {
  if (typeof p === 'function') return p.name;
  if (typeof p === 'object' && p !== null) return p.constructor.name;
  return String(p);
}

/** The routes of the given controllers, with path, method, status, auth and arguments. */
export function routesOf(controllers: Type[]): DiscoveredRoute[] {
  const routes: DiscoveredRoute[] = [];
  for (const cls of controllers) {
    const base = (Reflect.getMetadata(PATH_METADATA, cls) as string | string[] | undefined) ?? '';
    const bases = Array.isArray(base) ? base : [base];
    const proto = cls.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor') continue;
      const fn = proto[name];
      if (typeof fn !== 'function') continue;
      const rm = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
      const sub = Reflect.getMetadata(PATH_METADATA, fn) as string | string[] | undefined;
      if (rm === undefined || sub === undefined) continue;
      const method = METHODS[rm];
      if (!method) continue;
      const rawArgs =
        (Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, name) as
          Record<string, { index: number; data?: unknown; pipes?: unknown[] }> | undefined) ?? {};
      const args: RouteArg[] = [];
      for (const [key, a] of Object.entries(rawArgs)) {
        const type = Number(key.split(':')[0]);
        const kind =
          type === PARAMTYPE.BODY
            ? 'body'
            : type === PARAMTYPE.QUERY
              ? 'query'
              : type === PARAMTYPE.PARAM
                ? 'param'
                : type === PARAMTYPE.HEADERS
                  ? 'header'
                  : undefined;
        if (!kind) continue;
        args.push({
          kind,
          index: a.index,
          ...(typeof a.data === 'string' ? { name: a.data } : {}),
          pipes: (a.pipes ?? []).map(pipeName),
        });
      }
      args.sort((x, y) => x.index - y.index);
      const interceptors = (Reflect.getMetadata(INTERCEPTORS, fn) as unknown[] | undefined) ?? [];
      const idempotency = Reflect.getMetadata(IDEMPOTENT, fn)
        ? 'required'
        : interceptors.some((i) => pipeName(i) === 'OptionalIdempotencyInterceptor')
          ? 'optional'
          : 'none';
      const status =
        (Reflect.getMetadata(HTTP_CODE_METADATA, fn) as number | undefined) ??
        (method === 'post' ? 201 : 200);
      const headers =
        (Reflect.getMetadata(HEADERS_METADATA, fn) as
          { name: string; value: string }[] | undefined) ?? [];
      const contentType = headers
        .find((h) => h.name.toLowerCase() === 'content-type')
        ?.value.split(';')[0]
        .trim();
      const deprecated = Reflect.getMetadata(DEPRECATED_KEY, fn) as DeprecationNotice | undefined;
      for (const b of bases) {
        for (const s of Array.isArray(sub) ? sub : [sub]) {
          routes.push({
            controller: cls.name,
            handler: name,
            method,
            path: joinPath(b, s),
            status,
            auth: authOf(cls, fn),
            idempotency,
            args,
            ...(contentType ? { contentType } : {}),
            ...(deprecated ? { deprecated } : {}),
          });
        }
      }
    }
  }
  return routes;
}
