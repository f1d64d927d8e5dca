import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import { generateSigningKey, signJws } from '@suanli/crypto';
import type {
  CreatedApiKeyView,
  DebitNoteView,
  EvaluationView,
  InvoiceView,
  OrderView,
  Page,
} from '@suanli/contracts';
import { DOCUMENT_FILE } from '../openapi/document-file.js';
import type { OpenApiDocument, Operation } from '../openapi/openapi-document.js';
import { sampleOf } from '../openapi/schema-sample.js';
import { reportOnline } from '../settlement/testing/settlement-fixtures.js';
import type { LeafView } from '../settlement-log/settlement-log.service.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { fundWallet, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { apiClient } from '../../../../test/support/http.js';

jest.setTimeout(300_000);

/** A fresh OpenSSH `ssh-ed25519` public key line (RFC 8709 wire format). */
function sshPublicKey(): string {
  const raw = generateKeyPairSync('ed25519')
    .publicKey.export({ format: 'der', type: 'spki' })
    .subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} tenant-a`;
}

const HOUR = 3_600_000;
type Role = 'buyer' | 'seller' | 'assessor' | 'operator';
const ROLES: Role[] = ['buyer', 'seller', 'assessor', 'operator'];

interface Endpoint {
  method: string;
  path: string;
  op: Operation;
  /** Roles the document admits (access tokens); empty for public operations. */
  roles: Role[];
  public: boolean;
}

/** Path parameters' values naming one of organization A's objects. */
type Binding = Record<string, string>;

/**
 * The kind of object a path names: each run of parameters with the segment before it
 * (`/v1/leases/{id}/cancel` → `leases/{id}`, `/v1/transparency/records/{kind}/{id}` →
 * `records/{kind}/{id}`). Operations naming the same kind share fixtures.
 */
function pathKinds(path: string): string[] {
  const segments = path.split('/').filter(Boolean);
  const kinds: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (!segments[i].startsWith('{') || (i > 0 && segments[i - 1].startsWith('{'))) continue;
    let j = i;
    while (j < segments.length && segments[j].startsWith('{')) j++;
    kinds.push([segments[i - 1], ...segments.slice(i, j)].join('/'));
  }
  return kinds;
}

/** Every operation of the committed document that names an object in its path. */
function objectEndpoints(doc: OpenApiDocument): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.includes('{')) continue;
    for (const [method, op] of Object.entries(ops)) {
      const security = (op.security ?? []) as Record<string, string[]>[];
      const roles = security.flatMap((s) => s.accessToken ?? []) as Role[];
      const isPublic = security.length === 0;
      // agents' own endpoints name no object of another party
      if (!isPublic && roles.length === 0) continue;
      out.push({ method: method.toUpperCase(), path, op, roles, public: isPublic });
    }
  }
  return out;
}

describe('tenant isolation: every object endpoint × every role, on real objects', () => {
  const doc = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
  const endpoints = objectEndpoints(doc);
  let api: TestMarketApi;
  /** Organization A's real objects, per path kind (several where a kind has variants). */
  const fixtures: Record<string, Binding[]> = {};
  /** A's members, per role. */
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
    const ds = api.app.get(DataSource);
    const operator = apiClient(api.url, await api.operatorToken());
    // Organization A: a seller with a resource (SLA offer), an agent and an API key; a buyer of
    // that offer with a settled lease (debit notes, invoice, SLA credit), a payout to the
    // seller, an active lease; an assessor with a key and an evaluation of A's resource.
    const a = await sellerWithOffer(api, {
      prices: [{ unit: 'slot_h', price: '100.00' }],
      sla: { target: '99.9', schedule: [{ below: '99.9', credit: '10' }] },
    });
    const buyerA = await signUpActor(api, ['buyer']);
    await fundWallet(api, buyerA.orgId, 'CNY', '2000.00');
    const settled = await buyerA.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: a.offer.id,
      slots: 1,
      hours: 2,
    });
    expect(settled.status).toBe(201);
    // online 118 of 120 minutes: below the 99.9 % target, a 10 % credit
    const start = api.clock.now();
    await reportOnline(ds, a.resource.id, start, new Date(start.getTime() + 2 * HOUR - 120_000));
    api.clock.advance(2 * HOUR);
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    expect((await a.seller.client.post('/v1/earnings/connect-account', {})).status).toBe(200);
    const payouts = await operator.post<{ booked: number }>('/v1/admin/payouts/run', {});
    expect(payouts.body.booked).toBe(1);

    const invoices = await buyerA.client.get<Page<InvoiceView>>('/v1/invoices');
    const invoice = invoices.body.items.find((i) => i.leaseId === settled.body.lease.id);
    if (!invoice) throw new Error('no invoice for the settled lease');
    const notes = await buyerA.client.get<Page<DebitNoteView>>(
      `/v1/leases/${settled.body.lease.id}/debit-notes`,
    );
    expect(notes.body.items.length).toBeGreaterThan(0);
    const records = await a.seller.client.get<Page<LeafView>>('/v1/seller/records');
    const recordOf = (kind: string): string => {
      const leaf = records.body.items.find((r) => r.kind === kind);
      if (!leaf) throw new Error(`no ${kind} record for A`);
      // records are addressed by their record id (a payout's is its reference)
      return leaf.recordId;
    };

    await a.beat(); // two hours on: the agent is still there, so the resource is online
    const active = await buyerA.client.postIdempotent<OrderView>('/v1/orders', {
      offerId: a.offer.id,
      slots: 1,
      hours: 2,
    });
    expect(active.status).toBe(201);
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
    const nowS = Math.floor(api.clock.now().getTime() / 1000);
    const jws = await signJws(
      {
        iss: assessorA.orgId,
        sub: a.resource.cri,
        iat: nowS,
        exp: nowS + 30 * 86400,
        jti: randomUUID(),
        method: 'uptime-probe.v1',
        metrics: { availability: '0.9993', latency_ms_p50: '12' },
        evidence: { uri: 'https://lab.example/report/1', sha256: 'ab'.repeat(32) },
        summary: 'probed every minute for a week',
      },
      ak.privateJwk,
    );
    const evaluation = await apiClient(api.url, assessorA.token).post<EvaluationView>(
      '/v1/evaluations',
      { jws },
    );
    expect(evaluation.status).toBe(201);
    const { body: checkpoint } = await apiClient(api.url).get<{ treeSize: number }>(
      '/v1/transparency/checkpoint',
    );

    // the log's first tile as it stands (a partial tile at the checkpoint's size: a real, served tile)
    const note = await fetch(`${api.url}/v1/transparency/log/checkpoint`).then((r) => r.text());
    const logSize = Number(note.split('\n')[1]);
    expect(logSize).toBeGreaterThan(0);
    const firstTile = logSize >= 256 ? '0/000' : `0/000.p/${logSize}`;

    const sshKey = await buyerA.client.post<{ id: string }>('/v1/ssh-keys', {
      name: 'laptop',
      publicKey: sshPublicKey(),
    });
    expect(sshKey.status).toBe(201);

    const leases = [active.body.lease.id, settled.body.lease.id];
    Object.assign(fixtures, {
      'resources/{id}': [{ id: a.resource.id }],
      'offers/{id}': [{ id: a.offer.id }],
      'leases/{id}': leases.map((id) => ({ id })),
      'api-keys/{id}': [{ id: key.body.id }],
      'keys/{kid}': [{ kid: ak.kid }],
      'invoices/{ref}': [
        { ref: invoice.id },
        { ref: `${invoice.id}.csv` },
        { ref: `${invoice.id}.pdf` },
      ],
      'evaluations/{id}': [{ id: evaluation.body.id }],
      'organizations/{id}': [{ id: a.seller.orgId }, { id: buyerA.orgId }],
      'wallets/{orgId}': [{ orgId: buyerA.orgId }],
      'assessors/{orgId}': [{ orgId: assessorA.orgId }],
      'sellers/{orgId}': [{ orgId: a.seller.orgId }],
      'cri/{code}': [{ code: a.resource.cri }, { code: a.resource.handle }],
      'checkpoints/{treeSize}': [{ treeSize: String(checkpoint.treeSize) }],
      'tile/{path}': [{ path: firstTile }],
      'ssh-keys/{id}': [{ id: sshKey.body.id }],
      // the platform this API runs as (operators' endpoints only: others get 403 before any lookup)
      'platforms/{code}': [{ code: '86.N00' }],
      // platform-to-platform (a peer assertion, not a tenant's credentials): a real code all the same
      'records/{code}': [{ code: a.resource.cri }],
      'records/{kind}/{id}': [
        ...notes.body.items.map((n) => ({ kind: 'debit_note', id: n.id })),
        { kind: 'invoice', id: invoice.id },
        { kind: 'credit', id: recordOf('credit') },
        { kind: 'payout', id: recordOf('payout') },
      ],
    } satisfies Record<string, Binding[]>);
    owners.seller = a.seller.token;
    owners.buyer = buyerA.token;
    owners.assessor = assessorA.token;
    owners.operator = await api.operatorToken();

    others.buyer = (await signUpActor(api, ['buyer'])).token;
    others.seller = (await signUpActor(api, ['seller'])).token;
    others.assessor = (await assessor()).token;
    others.operator = await api.operatorToken();
  });
  afterAll(async () => {
    await api?.close();
  });

  /** Every concrete path of A's objects for an endpoint (empty: no fixture for a kind). */
  function concrete(path: string): string[] {
    let bindings: Binding[] = [{}];
    for (const kind of pathKinds(path)) {
      const values = fixtures[kind] ?? [];
      bindings = bindings.flatMap((b) => values.map((v) => ({ ...b, ...v })));
    }
    return bindings.map((b) =>
      // a tile path spans segments (a wildcard parameter): its slashes stay slashes
      path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === 'path'
          ? (b[name] ?? '').split('/').map(encodeURIComponent).join('/')
          : encodeURIComponent(b[name] ?? ''),
      ),
    );
  }

  async function call(e: Endpoint, path: string, token: string | undefined): Promise<number> {
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
    // required query parameters, from their documented examples (or schemas)
    const query = new URLSearchParams();
    for (const p of e.op.parameters ?? []) {
      if (p.in !== 'query' || !p.required) continue;
      query.set(p.name, String(p.example ?? sampleOf(p.schema, doc.components.schemas)));
    }
    const qs = query.size > 0 ? `?${query.toString()}` : '';
    const r = await fetch(`${api.url}${path}${qs}`, {
      method: e.method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'idempotency-key': `iso-${randomUUID()}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });
    await r.arrayBuffer();
    return r.status;
  }

  it('has a real object of organization A for every kind of path parameter in the document', () => {
    const kinds = new Set(Object.keys(doc.paths).flatMap(pathKinds));
    // a new kind of object in a path needs a fixture above (and a real object behind it)
    const missing = [...kinds].filter((k) => (fixtures[k] ?? []).length === 0);
    expect(missing).toEqual([]);
    expect(kinds.size).toBeGreaterThanOrEqual(14);
    const uncovered = endpoints
      .filter((e) => concrete(e.path).length === 0)
      .map((e) => `${e.method} ${e.path}`);
    expect(uncovered).toEqual([]);
    expect(endpoints.filter((e) => !e.public).length).toBeGreaterThan(20);
  });

  it("answers 403 to a wrong role and 404 to another organization, on each of A's objects", async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const e of endpoints.filter((x) => !x.public)) {
      for (const path of concrete(e.path)) {
        for (const role of ROLES) {
          const allowed = e.roles.includes(role);
          // operators act on every organization by design (their endpoints are theirs alone)
          if (allowed && role === 'operator') continue;
          const expected = allowed ? 404 : 403;
          const status = await call(e, path, others[role]);
          checked++;
          if (status !== expected)
            wrong.push(`${role} ${e.method} ${path}: ${status}, want ${expected}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  it("A's own members read every one of the same objects (200): the ids are real", async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const e of endpoints.filter((x) => x.method === 'GET')) {
      for (const path of concrete(e.path)) {
        // public reads: anyone; others: some member of A with a role the operation admits
        const tokens = e.public
          ? [undefined]
          : e.roles.filter((r) => owners[r] !== undefined).map((r) => owners[r]);
        const statuses = await Promise.all(tokens.map((t) => call(e, path, t)));
        checked++;
        if (!statuses.includes(200)) wrong.push(`${e.method} ${path}: ${statuses.join(', ')}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it("A's own members are not refused (403/404) by A's write endpoints", async () => {
    // after the reads: these writes change A's objects (close, retire, revoke…)
    const wrong: string[] = [];
    let checked = 0;
    for (const e of endpoints.filter((x) => x.method !== 'GET' && !x.public)) {
      // tenants' own writes (operators' endpoints act on any organization: not a tenant's)
      const role = e.roles.find((r) => r !== 'operator' && owners[r] !== undefined);
      if (!role) continue;
      for (const path of concrete(e.path)) {
        const status = await call(e, path, owners[role]);
        checked++;
        if (status === 403 || status === 404 || status >= 500) {
          wrong.push(`${role} ${e.method} ${path}: ${status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });
});
