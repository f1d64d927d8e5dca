import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import type { ResourceView } from '@suanli/contracts';
import { generateSigningKey } from '@suanli/crypto';
import {
  signAssertion,
  signDirectory,
  signStatusReport,
  verifyDirectory,
  verifyResolutionRecord,
  verifyStatusReport,
  type Directory,
  type StatusReport,
} from '@suanli/federation';
import {
  dropFederationDatabases,
  operatorToken,
  startFederation,
  type FederatedPlatform,
} from '../../tools/dev/federation.js';
import { apiClient } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { expectEventually } from '../support/eventually.js';

jest.setTimeout(300_000);

const PREFIX = `${process.env.SUANLI_TEST_DB ?? 'suanli_test'}_fed`;
type Answer = Record<string, unknown> & {
  error: { code: string; details: Record<string, unknown> };
};
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Three real platform processes (docs/federation.md): 86.N00 national, 86.R03 regional, 86.I05
 * industry, each its own market-api and database. R03 reaches the national platform through a
 * proxy the test can turn into a liar (a tampered or an older directory).
 */
describe('federation: three platforms, directory, peer trust and resolution', () => {
  let n00: FederatedPlatform;
  let r03: FederatedPlatform;
  let i05: FederatedPlatform;
  let proxy: Server;
  let proxyMode: { directory?: string } = {};
  let pin: string;
  const resources: Record<string, ResourceView[]> = {};

  beforeAll(async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const proxyPort = await freePort();
    const nationalUrl = `http://127.0.0.1:${ports[0]}`;
    // R03's national URL: passes every call through, unless told to serve another directory
    proxy = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/federation/directory' && proxyMode.directory) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ directory: proxyMode.directory }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const assertion = req.headers['suanli-client-assertion'];
        fetch(`${nationalUrl}${req.url}`, {
          method: req.method,
          headers: {
            'content-type': 'application/json',
            ...(typeof assertion === 'string' ? { 'suanli-client-assertion': assertion } : {}),
          },
          body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
        })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': 'application/json' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      });
    });
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
    const platforms = await startFederation({
      databaseUrl: String(process.env.DATABASE_URL),
      kafkaBrokers: String(process.env.KAFKA_BROKERS),
      stripeApiBase: String(process.env.STRIPE_API_BASE),
      portOffset: 0,
      ports,
      databasePrefix: PREFIX,
      fresh: true,
      refreshSeconds: 1,
      nationalUrlFor: (code) => (code === '86.R03' ? `http://127.0.0.1:${proxyPort}` : nationalUrl),
      env: {
        FEDERATION_RESOLUTION_FRESH_SECONDS: '1',
        FEDERATION_RESOLUTION_STALE_SECONDS: '6',
        FEDERATION_CALL_TIMEOUT_MS: '1000',
        FEDERATION_REPORT_SECONDS: '1',
        FEDERATION_REPORT_STALE_SECONDS: '3',
        SETTLEMENT_SCHEDULER: 'off',
      },
    });
    [n00, r03, i05] = platforms as [FederatedPlatform, FederatedPlatform, FederatedPlatform];
    pin = n00.thumbprint;
    // each platform registers its own resources (two each: one is never resolved elsewhere)
    for (const p of platforms) {
      const signup = await apiClient(p.url).post<{ accessToken: string }>('/v1/auth/signup', {
        email: `seller@${p.code.replace('.', '-').toLowerCase()}.test`,
        password: 'seller-password-1',
        displayName: 'Seller',
        organization: { name: `Seller of ${p.code}`, roles: ['seller'], industry: 'I' },
      });
      expect(signup.status).toBe(201);
      const seller = apiClient(p.url, signup.body.accessToken);
      resources[p.code] = [];
      for (const site of ['GA1', 'GA2']) {
        const r = await seller.post<ResourceView>('/v1/resources', {
          name: `${p.code} node ${site}`,
          class: 'AI',
          form: 'CTR',
          location: { country: 'CN', subdivision: 'GZ', site },
          spec: { cpu: 96, memGiB: 1536, accel: { count: 8, model: 'H200' } },
        });
        expect(r.status).toBe(201);
        resources[p.code]!.push(r.body);
      }
    }
  });

  afterAll(async () => {
    await Promise.all([n00, r03, i05].map((p) => p?.stop()));
    await new Promise((r) => proxy?.close(r));
    await dropFederationDatabases(String(process.env.DATABASE_URL), PREFIX).catch(() => undefined);
  });

  const directoryOf = async (p: FederatedPlatform): Promise<{ jws: string; d: Directory }> => {
    const r = await apiClient(p.url).get<{ directory: string }>('/v1/federation/directory');
    expect(r.status).toBe(200);
    return {
      jws: r.body.directory,
      d: await verifyDirectory(r.body.directory, { pins: [pin], nowSeconds: nowSeconds() }),
    };
  };

  it('admitted R03 and I05: the signed directory lists all three, active, with the audit trail', async () => {
    const { d } = await directoryOf(n00);
    expect(d.platforms.map((p) => [p.code, p.level, p.state])).toEqual([
      ['86.N00', 'national', 'active'],
      ['86.I05', 'industry', 'active'],
      ['86.R03', 'regional', 'active'],
    ]);
    expect(d.platforms.find((p) => p.code === '86.R03')?.thumbprints).toEqual([r03.thumbprint]);
    const op = apiClient(n00.url, await operatorToken(n00.url));
    const audit = await op.get<{ items: { action: string; target: { id: string } | null }[] }>(
      '/v1/admin/audit-events?action=federation.',
    );
    expect(audit.status).toBe(200);
    const actions = audit.body.items.map((e) => `${e.action} ${e.target?.id}`);
    for (const code of ['86.R03', '86.I05']) {
      expect(actions).toContain(`federation.platform.admitted ${code}`);
      expect(actions).toContain(`federation.platform.joined ${code}`);
    }
    // members cached the same directory (verified against the pin)
    await expectEventually(async () => {
      const [a, b] = await Promise.all([directoryOf(r03), directoryOf(i05)]);
      expect([a.d.serial, b.d.serial]).toEqual([d.serial, d.serial]);
    });
  });

  type Monitoring = {
    platforms: {
      code: string;
      stale: boolean;
      reportedAt: string | null;
      record: string | null;
      report: StatusReport | null;
    }[];
    alerts: { platform: string; kind: string }[];
    federation: { platforms: string[]; totals: { resources: number } };
  };
  const monitoring = async () => {
    const r = await apiClient(n00.url).get<Monitoring>('/v1/federation/monitoring');
    expect(r.status).toBe(200);
    return r.body;
  };

  it('every platform’s signed status report arrives on the national federation page', async () => {
    const { d } = await directoryOf(n00);
    await expectEventually(async () => {
      const m = await monitoring();
      expect(m.platforms.map((p) => [p.code, p.stale])).toEqual([
        ['86.N00', false],
        ['86.I05', false],
        ['86.R03', false],
      ]);
      // every report counts the two resources its platform registered
      expect(m.platforms.map((p) => p.report?.supply.reduce((t, c) => t + c.resources, 0))).toEqual(
        [2, 2, 2],
      );
      expect(m.federation.platforms).toHaveLength(3);
      expect(m.federation.totals.resources).toBe(6);
      expect(m.alerts).toEqual([]);
      for (const p of m.platforms) {
        const verified = await verifyStatusReport(String(p.record), {
          directory: d,
          issuer: p.code,
          nowSeconds: nowSeconds(),
        });
        expect(verified.platform).toBe(p.code);
      }
    });
    // the same figures as the platform's own market statistics
    const own = await apiClient(r03.url).get<{ aggregate: { totals: { resources: number } } }>(
      '/v1/statistics/overview',
    );
    expect(own.status).toBe(200);
    expect(own.body.aggregate.totals.resources).toBe(2);
    // only the national platform keeps the federation page
    expect((await apiClient(r03.url).get('/v1/federation/monitoring')).status).toBe(403);
  });

  it('refuses a status report with a bad signature or about another platform (422, nothing stored)', async () => {
    const post = async (from: FederatedPlatform, report: string) => {
      const assertion = await signAssertion(
        { iss: from.code, aud: '86.N00', nowSeconds: nowSeconds() },
        from.privateJwk,
      );
      const r = await fetch(`${n00.url}/v1/federation/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'suanli-client-assertion': assertion },
        body: JSON.stringify({ report }),
      });
      return { status: r.status, body: (await r.json()) as Answer };
    };
    const body = (platform: string) => ({
      windowHours: 24,
      resources: [{ class: 'AI', state: 'listed', count: 999 }],
      supply: [],
      volume: [],
      priceIndex: [],
      platform,
      iat: nowSeconds(),
      health: { status: 'ok' as const, directorySerial: 1 },
    });
    const mallory = await generateSigningKey();
    const forged = await signStatusReport(body('86.I05'), mallory.privateJwk);
    const bad = await post(i05, forged);
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_report',
      details: { reason: 'bad_signature' },
    });
    // R03 signs a report about I05 with its own genuine key
    const impostor = await signStatusReport(body('86.I05'), r03.privateJwk);
    const other = await post(r03, impostor);
    expect(other.status).toBe(422);
    expect(other.body.error.details.reason).toBe('untrusted_key');
    // without a client assertion: 401
    const anonymous = await fetch(`${n00.url}/v1/federation/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ report: forged }),
    });
    expect(anonymous.status).toBe(401);
    const m = await monitoring();
    expect(m.platforms.map((p) => p.record)).not.toContain(forged);
    expect(m.platforms.map((p) => p.record)).not.toContain(impostor);
  });

  it('resolves every platform’s CRIs from every platform (9 pairs) with the owner’s signed record', async () => {
    const { d } = await directoryOf(n00);
    for (const from of [n00, r03, i05]) {
      for (const owner of [n00, r03, i05]) {
        const res = resources[owner.code]![0]!;
        const r = await apiClient(from.url).get<Record<string, unknown>>(
          `/v1/cri/${encodeURIComponent(res.cri)}`,
        );
        expect({ from: from.code, owner: owner.code, status: r.status }).toEqual({
          from: from.code,
          owner: owner.code,
          status: 200,
        });
        expect(r.body).toMatchObject({
          cri: res.cri,
          handle: res.handle,
          authority: owner.code,
          forwarded: from !== owner,
          stale: false,
        });
        const { record } = await verifyResolutionRecord(String(r.body.record), d);
        expect(record.authority).toBe(owner.code);
        expect(record.code).toBe(res.cri);
      }
    }
  });

  it('answers a handle, 404 for an unknown prefix, and the CLI resolves and verifies offline', async () => {
    const h = resources['86.I05']![0]!.handle;
    const byHandle = await apiClient(r03.url).get<{ authority: string }>(
      `/v1/cri/${encodeURIComponent(h)}`,
    );
    expect(byHandle.body.authority).toBe('86.I05');
    const unknown = await apiClient(r03.url).get<{ error: { details: Record<string, unknown> } }>(
      `/v1/cri/${encodeURIComponent('86.R07.E00001/000001')}`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details).toMatchObject({ authority: '86.R07', known: false });

    const cri = resources['86.R03']![0]!.cri;
    // the CLI as a child process, asynchronously (a blocked test process drops its connections)
    const cli = (args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['tools/cli/suanli.mjs', ...args], (err, stdout, stderr) =>
          resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const resolved = await cli(['cri', 'resolve', cri, '--api', i05.url]);
    expect(resolved.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'fed-'));
    writeFileSync(join(dir, 'resolution.json'), resolved.stdout);
    writeFileSync(
      join(dir, 'directory.json'),
      JSON.stringify({ directory: (await directoryOf(n00)).jws }),
    );
    const verified = await cli([
      'verify',
      'resolution',
      join(dir, 'resolution.json'),
      '--directory',
      join(dir, 'directory.json'),
      '--pin',
      pin,
    ]);
    expect(verified.stdout).toContain(`verified: ${cri} resolved by 86.R03`);
    expect(verified.status).toBe(0);
    const wrongPin = await cli([
      'verify',
      'resolution',
      join(dir, 'resolution.json'),
      '--directory',
      join(dir, 'directory.json'),
      '--pin',
      r03.thumbprint,
    ]);
    expect(wrongPin.status).toBe(1);
    expect(wrongPin.stderr).toContain('untrusted_key');
  });

  it('refuses forged and replayed client assertions (401)', async () => {
    const code = resources['86.R03']![0]!.cri;
    const path = `/v1/federation/records/${encodeURIComponent(code)}`;
    const call = (assertion?: string) =>
      fetch(`${r03.url}${path}`, {
        headers: assertion ? { 'suanli-client-assertion': assertion } : {},
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Answer }));

    const genuine = await signAssertion(
      { iss: '86.I05', aud: '86.R03', nowSeconds: nowSeconds() },
      i05.privateJwk,
    );
    const first = await call(genuine);
    expect(first.status).toBe(200);
    expect(typeof first.body.record).toBe('string');
    const replay = await call(genuine);
    expect(replay.status).toBe(401);
    expect(replay.body.error.details.reason).toBe('replayed');

    const mallory = await generateSigningKey();
    const forged = await signAssertion(
      { iss: '86.I05', aud: '86.R03', nowSeconds: nowSeconds() },
      mallory.privateJwk,
    );
    expect((await call(forged)).status).toBe(401);
    const elsewhere = await signAssertion(
      { iss: '86.I05', aud: '86.N00', nowSeconds: nowSeconds() },
      i05.privateJwk,
    );
    expect((await call(elsewhere)).body.error.details.reason).toBe('wrong_audience');
    expect((await call()).status).toBe(401);
  });

  it('refuses a directory with a bad signature or an older serial and keeps the cached one', async () => {
    const op = apiClient(r03.url, await operatorToken(r03.url));
    const before = await directoryOf(r03);
    const refresh = () =>
      op.post<{ accepted: boolean; serial: number; refusal?: string }>(
        '/v1/federation/directory/refresh',
        {},
      );
    // signed by a key that is not the pinned national key
    const mallory = await generateSigningKey();
    proxyMode = {
      directory: await signDirectory(
        { ...before.d, serial: before.d.serial + 10, platforms: before.d.platforms },
        mallory.privateJwk,
      ),
    };
    const bad = await refresh();
    expect(bad.body).toMatchObject({ accepted: false, refusal: 'bad_signature' });
    // genuinely signed by the national key, but older than the cached one
    proxyMode = {
      directory: await signDirectory({ ...before.d, serial: before.d.serial - 1 }, n00.privateJwk),
    };
    const older = await refresh();
    expect(older.body).toMatchObject({ accepted: false, refusal: 'stale_serial' });
    proxyMode = {};
    const after = await directoryOf(r03);
    expect(after.jws).toBe(before.jws);
    const status = await apiClient(r03.url).get<{ lastRefusal: { code: string } }>(
      '/v1/federation/status',
    );
    expect(status.body.lastRefusal.code).toBe('stale_serial');
    expect((await refresh()).body).toMatchObject({ accepted: true, serial: before.d.serial });
  });

  it('a platform stopped: served stale from cache, then 504, then recovered', async () => {
    const seen = resources['86.I05']![0]!.cri;
    const never = resources['86.I05']![1]!.cri;
    const resolveOn = (p: FederatedPlatform, code: string) =>
      apiClient(p.url).get<Answer>(`/v1/cri/${encodeURIComponent(code)}`);
    expect((await resolveOn(r03, seen)).status).toBe(200); // cached now
    await i05.stop();
    await new Promise((r) => setTimeout(r, 1200)); // past fresh (1 s)
    const stale = await resolveOn(r03, seen);
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ authority: '86.I05', forwarded: true, stale: true });
    const nothing = await resolveOn(r03, never);
    expect(nothing.status).toBe(504);
    expect(nothing.body.error.code).toBe('upstream_unreachable');
    await new Promise((r) => setTimeout(r, 6000)); // past stale (6 s)
    expect((await resolveOn(r03, seen)).status).toBe(504);
    // silent for longer than 3 s: the national page marks it stale, alerts and leaves it out
    await expectEventually(async () => {
      const m = await monitoring();
      expect(m.platforms.find((p) => p.code === '86.I05')?.stale).toBe(true);
      expect(m.alerts).toContainEqual({
        platform: '86.I05',
        kind: 'not_reporting',
        since: expect.any(String),
      });
      expect(m.federation.platforms).not.toContain('86.I05');
    });
    const op = apiClient(n00.url, await operatorToken(n00.url));
    await expectEventually(async () => {
      const audit = await op.get<{ items: { action: string; target: { id: string } | null }[] }>(
        '/v1/admin/audit-events?action=federation.&limit=200',
      );
      expect(audit.status).toBe(200);
      const silent = audit.body.items.filter(
        (e) => e.action === 'federation.platform.not_reporting',
      );
      expect(silent.map((e) => e.target?.id)).toContain('86.I05');
    });
    await i05.start();
    const back = await resolveOn(r03, seen);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ authority: '86.I05', forwarded: true, stale: false });
    expect((await resolveOn(n00, never)).status).toBe(200);
    await expectEventually(async () => {
      const m = await monitoring();
      expect(m.platforms.find((p) => p.code === '86.I05')?.stale).toBe(false);
      expect(m.alerts).toEqual([]);
    });
  });

  it('a suspended platform: its records hidden and its calls refused; resumed, it works again', async () => {
    const op = apiClient(n00.url, await operatorToken(n00.url));
    expect((await op.post('/v1/federation/platforms/86.I05/suspend', {})).status).toBe(200);
    const code = resources['86.I05']![0]!.cri;
    const hidden = await apiClient(n00.url).get<{ error: { details: Record<string, unknown> } }>(
      `/v1/cri/${encodeURIComponent(code)}`,
    );
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.details).toMatchObject({ authority: '86.I05', state: 'suspended' });
    const fromSuspended = await signAssertion(
      { iss: '86.I05', aud: '86.N00', nowSeconds: nowSeconds() },
      i05.privateJwk,
    );
    const refused = await fetch(
      `${n00.url}/v1/federation/records/${encodeURIComponent(resources['86.N00']![0]!.cri)}`,
      { headers: { 'suanli-client-assertion': fromSuspended } },
    );
    expect(refused.status).toBe(401);
    expect((await op.post('/v1/federation/platforms/86.I05/resume', {})).status).toBe(200);
    expect((await apiClient(n00.url).get(`/v1/cri/${encodeURIComponent(code)}`)).status).toBe(200);
  });
});
