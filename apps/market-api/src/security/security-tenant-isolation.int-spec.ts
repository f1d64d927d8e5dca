import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateSigningKey } from '@suanli/crypto';
import type { CreatedApiKeyView, OrderView } from '@suanli/contracts';
import { DOCUMENT_FILE } from '../openapi/document-file.js';
import type { OpenApiDocument, Operation } from '../openapi/openapi-document.js';
import { sampleOf } from '../openapi/schema-sample.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';

jest.setTimeout(180_000);

type Role = 'buyer' | 'seller' | 'assessor' | 'operator';
const ROLES: Role[] = ['buyer', 'seller', 'assessor', 'operator'];

interface Endpoint {
  method: string;
  path: string;
  op: Operation;
  /** Roles the document admits (access tokens). */
  roles: Role[];
}

/**
 * Every operation of the committed OpenAPI document that names an object in its path and is
 * not public: the matrix below walks them all, so a new endpoint is covered as soon as the
 * document lists it.
 */
function objectEndpoints(doc: OpenApiDocument): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.includes('{')) continue;
    for (const [method, op] of Object.entries(ops)) {
      const security = op.security as Record<string, string[]>[] | undefined;
      if (!security || security.length === 0) continue; // public
      const roles = security.flatMap((s) => s.accessToken ?? []) as Role[];
      if (roles.length === 0) continue; // agents' own endpoints: no object of another party
      out.push({ method: method.toUpperCase(), path, op, roles });
    }
  }
  return out;
}

describe('tenant isolation: every object endpoint × every role', () => {
  const doc = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
  const endpoints = objectEndpoints(doc);
  let api: TestMarketApi;
  /** Organization A's objects, by the path segment that names them. */
  const owned: Record<string, string> = {};
  /** A's members, per role (to prove the ids are real). */
  const owners: Partial<Record<Role, string>> = {};
  /** Members of other organizations, per role. */
  const others: Partial<Record<Role, string>> = {};

  async function assessor(): Promise<{ token: string; orgId: string }> {
    const op = apiClient(api.url, await api.operatorToken());
    const email = `iso-assessor-${randomUUID()}@suanli.test`;
    const password = 'assessor-password-1';
    const created = await op.post<{ organization: { id: string } }>('/v1/admin/organizations', {
      email,
      password,
      displayName: 'Assessor',
      organization: { name: 'Isolation lab', roles: ['assessor'], industry: 'M' },
    });
    expect(created.status).toBe(201);
    const login = await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', {
      email,
      password,
    });
    return { token: login.body.accessToken, orgId: created.body.organization.id };
  }

  beforeAll(async () => {
    api = await startMarketApi();
    // organization A: a seller with a resource, an agent, an offer and an API key; a buyer of
    // that offer with a lease; an assessor with a key
    const a = await sellerWithOffer(api);
    const buyerA = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyerA.orgId, 'CNY', '1000.00');
    const order = await buyerA.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: a.offer.id,
      slots: 1,
      hours: 2,
    });
    expect(order.status).toBe(201);
    const key = await a.seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
      name: 'collector',
      scopes: ['usage:write'],
    });
    expect(key.status).toBe(201);
    const assessorA = await assessor();
    const ak = await generateSigningKey();
    const reg = await apiClient(api.url, assessorA.token).post('/v1/assessors/me/keys', {
      publicJwk: ak.publicJwk,
    });
    expect(reg.status).toBe(201);

    Object.assign(owned, {
      resources: a.resource.id,
      offers: a.offer.id,
      leases: order.body.lease.id,
      'api-keys': key.body.id,
      keys: ak.kid,
      // no invoice or evaluation exists for A yet: ids that name nothing, still refused as 404
      invoices: order.body.lease.id,
      evaluations: randomUUID(),
      organizations: a.seller.orgId,
      wallets: buyerA.orgId,
      assessors: assessorA.orgId,
      // /v1/transparency/records/{kind}/{id}: no settlement record of A exists yet
      records: 'debit_note',
      '{kind}': randomUUID(),
    });
    owners.seller = a.seller.token;
    owners.buyer = buyerA.token;
    owners.assessor = assessorA.token;

    others.buyer = (await signUpActor(api, ['buyer'])).token;
    others.seller = (await signUpActor(api, ['seller'])).token;
    others.assessor = (await assessor()).token;
    others.operator = await api.operatorToken();
  });
  afterAll(async () => {
    await api?.close();
  });

  /** The concrete path of A's object for an endpoint (undefined: no fixture names it). */
  function concrete(path: string): string | undefined {
    let missing = false;
    const out = path.replace(/\{(\w+)\}/g, (_m, _name: string, offset: number) => {
      const segment = path.slice(0, offset).split('/').filter(Boolean).pop() ?? '';
      const id = owned[segment];
      if (!id) missing = true;
      return id ?? '';
    });
    return missing ? undefined : out;
  }

  async function call(e: Endpoint, token: string): Promise<number> {
    const path = concrete(e.path) as string;
    const media = (
      e.op.requestBody as { content?: Record<string, { example?: unknown; schema?: object }> }
    )?.content?.['application/json'];
    const body =
      media === undefined
        ? undefined
        : JSON.stringify(
            media.example ??
              sampleOf((media.schema ?? {}) as Record<string, unknown>, doc.components.schemas),
          );
    const r = await fetch(`${api.url}${path}`, {
      method: e.method,
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': `iso-${randomUUID()}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });
    await r.arrayBuffer();
    return r.status;
  }

  it('knows an object of organization A for every object endpoint of the document', () => {
    const unknown = endpoints.filter((e) => !concrete(e.path)).map((e) => `${e.method} ${e.path}`);
    // a new kind of object in a path needs a fixture above
    expect(unknown).toEqual([]);
    expect(endpoints.length).toBeGreaterThan(20);
  });

  it('answers 403 to a wrong role and 404 to another organization, everywhere', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const e of endpoints.filter((x) => concrete(x.path))) {
      for (const role of ROLES) {
        const token = others[role] as string;
        const allowed = e.roles.includes(role);
        // operators act on every organization by design (their endpoints are theirs alone)
        if (allowed && role === 'operator') continue;
        const expected = allowed ? 404 : 403;
        const status = await call(e, token);
        checked++;
        if (status !== expected)
          wrong.push(`${role} ${e.method} ${e.path}: ${status}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it("A's own members can read the same objects (the ids are real)", async () => {
    const wrong: string[] = [];
    // (A has no invoice, evaluation or settlement record to read yet)
    const reads = endpoints.filter(
      (e) =>
        e.method === 'GET' &&
        !e.path.startsWith('/v1/invoices') &&
        !e.path.startsWith('/v1/transparency') &&
        !e.path.includes('/evaluations/'),
    );
    for (const e of reads.filter((x) => concrete(x.path))) {
      const role = e.roles.find((r) => owners[r] !== undefined && r !== 'operator');
      if (!role) continue;
      const status = await call(e, owners[role] as string);
      if (status !== 200) wrong.push(`${role} ${e.method} ${e.path}: ${status}`);
    }
    expect(wrong).toEqual([]);
  });
});
