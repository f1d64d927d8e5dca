import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvaluationView } from '@suanli/contracts';
import { type JWK, verifyJws } from '@suanli/crypto';
import { apiClient } from '../../../test/support/http.js';
import { sellerWithOffer } from '../../../test/support/actors.js';
import { startMarketApi, type TestMarketApi } from '../../../test/support/market-api.js';

jest.setTimeout(120_000);

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'suanli.mjs');

describe('suanli assessor keygen | register | sign | submit (real API)', () => {
  let api: TestMarketApi;
  let dir: string;
  beforeAll(async () => {
    api = await startMarketApi();
    dir = mkdtempSync(join(tmpdir(), 'suanli-assessor-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const f = (name: string) => join(dir, name);
  /** Runs the CLI asynchronously: the API under test lives in this process's event loop. */
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'assessor', ...args], {
        // The launcher resolves @swc-node/register from the working directory: stay in the repo.
        cwd: join(dirname(cli), '..', '..'),
        env: { ...process.env, MARKET_API_URL: api.url, SUANLI_TOKEN: '', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('keygen, register, sign and submit an evaluation the market verifies and stores', async () => {
    const op = apiClient(api.url, await api.operatorToken());
    const email = `cli-assessor-${Date.now()}@suanli.test`;
    const created = await op.post<{ organization: { id: string } }>('/v1/admin/organizations', {
      email,
      password: 'assessor-password-1',
      displayName: 'CLI assessor',
      organization: { name: 'CLI lab', roles: ['assessor'], industry: 'M' },
    });
    const orgId = created.body.organization.id;
    const token = (
      await apiClient(api.url).post<{ accessToken: string }>('/v1/auth/login', {
        email,
        password: 'assessor-password-1',
      })
    ).body.accessToken;
    const { resource } = await sellerWithOffer(api);

    const gen = await run(['keygen', '--out', f('key.jwk')]);
    expect(gen.status).toBe(0);
    const pub = JSON.parse(gen.stdout) as JWK;
    expect(pub).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(pub.d).toBeUndefined();
    const priv = JSON.parse(readFileSync(join(dir, 'key.jwk'), 'utf8')) as JWK;
    expect(typeof priv.d).toBe('string');
    expect(statSync(join(dir, 'key.jwk')).mode & 0o077).toBe(0);
    expect((await run(['keygen', '--out', f('key.jwk')])).status).toBe(1); // no overwrite without --force

    expect((await run(['register', '--key', f('key.jwk')])).status).toBe(1); // no SUANLI_TOKEN
    const reg = await run(['register', '--key', f('key.jwk')], { SUANLI_TOKEN: token });
    expect(reg.status).toBe(0);
    expect(JSON.parse(reg.stdout)).toMatchObject({ kid: pub.kid, status: 'active' });

    const iat = Math.floor(api.clock.now().getTime() / 1000);
    writeFileSync(
      join(dir, 'eval.json'),
      JSON.stringify({
        iss: orgId,
        sub: resource.cri,
        iat,
        method: 'suanli.bench.v1',
        metrics: { perf_ratio: '0.97' },
        summary: 'bench run',
      }),
    );
    const signed = await run([
      'sign',
      f('eval.json'),
      '--key',
      f('key.jwk'),
      '--out',
      f('eval.jws'),
    ]);
    expect(signed.status).toBe(0);
    const jws = signed.stdout.trim();
    const { payload } = await verifyJws<{ exp: number; jti: string }>(jws, [pub]);
    expect(payload.exp).toBe(iat + 30 * 86400);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);

    const sub = await run(['submit', f('eval.jws')], { SUANLI_TOKEN: token });
    expect(sub.status).toBe(0);
    const stored = JSON.parse(sub.stdout) as EvaluationView;
    expect(stored.jws).toBe(jws);
    expect(stored.subject.id).toBe(resource.id);
    const again = await run(['submit', f('eval.jws')], { SUANLI_TOKEN: token });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('jti_replayed');
  });

  it('generates P-256 keys and explains usage errors', async () => {
    const gen = await run([
      'keygen',
      '--alg',
      'ES256',
      '--out',
      f('p256.jwk'),
      '--kid',
      'lab-p256',
    ]);
    expect(gen.status).toBe(0);
    expect(JSON.parse(gen.stdout)).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'lab-p256' });
    const help = await run(['help']);
    expect(help.stdout).toContain('suanli assessor keygen');
    expect((await run(['sign'])).status).toBe(2);
    expect((await run(['frobnicate'])).status).toBe(2);
  });
});
