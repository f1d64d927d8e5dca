import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { SignJWT, type JWTPayload } from 'jose';
import { PlatformKeys } from '../auth/platform-keys.js';
import { TOKEN_AUDIENCE } from '../auth/tokens.service.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { signUpActor } from '../../../../test/support/actors.js';

jest.setTimeout(90_000);

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const decode = (part: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * JWT handling under attack: every forged, altered or out-of-window access token is refused
 * with 401 (never 200, never 500), on a JWT-only endpoint and on a role-checked one.
 */
describe('access tokens under attack', () => {
  let api: TestMarketApi;
  let keys: PlatformKeys;
  let valid: string;
  let claims: JWTPayload & { org: string; roles: string[] };
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    api = await startMarketApi();
    keys = api.app.get(PlatformKeys);
    const seller = await signUpActor(api, ['seller']);
    valid = seller.token;
    claims = decode(valid.split('.')[1]) as typeof claims;
  });
  afterAll(async () => {
    await api?.close();
  });

  const sign = (
    payload: Record<string, unknown>,
    opts: { header?: Record<string, unknown>; key?: Parameters<SignJWT['sign']>[0] } = {},
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: 'at+jwt', ...opts.header })
      .sign(opts.key ?? keys.privateKey);

  const base = (): Record<string, unknown> => ({
    sub: claims.sub,
    org: claims.org,
    roles: claims.roles,
    iss: claims.iss,
    aud: TOKEN_AUDIENCE,
    iat: now(),
    exp: now() + 600,
  });

  async function statusWith(token: string, path = '/v1/me'): Promise<number> {
    const r = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return r.status;
  }

  it('accepts the genuine token (the attacks below are refused for what they change)', async () => {
    expect(await statusWith(valid)).toBe(200);
    expect(await statusWith(await sign(base()))).toBe(200);
  });

  const attacks: [string, () => Promise<string>][] = [
    [
      'alg none, no signature',
      async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(base())}.`,
    ],
    [
      'alg none with the original signature',
      async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(base())}.${valid.split('.')[2]}`,
    ],
    [
      'HS256 signed with the platform public key (key confusion)',
      async () => {
        const jwks = (await (await fetch(`${api.url}/.well-known/jwks.json`)).json()) as {
          keys: Record<string, unknown>[];
        };
        const pem = createPublicKey({ key: jwks.keys[0], format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        return sign(base(), {
          header: { alg: 'HS256' },
          key: new TextEncoder().encode(pem),
        });
      },
    ],
    [
      'HS256 signed with the public JWK x value',
      async () =>
        sign(base(), {
          header: { alg: 'HS256' },
          key: new TextEncoder().encode(String(keys.publicJwk.x)),
        }),
    ],
    [
      'signed by another Ed25519 key with the platform kid',
      async () => sign(base(), { key: generateKeyPairSync('ed25519').privateKey }),
    ],
    ['expired', async () => sign({ ...base(), iat: now() - 7200, exp: now() - 3600 })],
    ['not valid yet (nbf in the future)', async () => sign({ ...base(), nbf: now() + 3600 })],
    ['wrong audience', async () => sign({ ...base(), aud: 'another-service' })],
    ['wrong issuer', async () => sign({ ...base(), iss: 'suanli:99.X00' })],
    ['no expiry', async () => sign({ ...base(), exp: undefined })],
    [
      'wrong token type (not an access token)',
      async () => sign(base(), { header: { typ: 'JWT' } }),
    ],
    [
      'tampered payload (operator role added, signature kept)',
      async () => {
        const [h, , s] = valid.split('.');
        return `${h}.${b64({ ...claims, roles: ['operator', 'seller'] })}.${s}`;
      },
    ],
    [
      'tampered payload (another organization, signature kept)',
      async () => {
        const [h, , s] = valid.split('.');
        return `${h}.${b64({ ...claims, org: '00000000-0000-4000-8000-000000000000' })}.${s}`;
      },
    ],
    ['truncated signature', async () => valid.slice(0, -10)],
    ['garbage', async () => 'not.a.jwt'],
  ];

  it.each(attacks)('refuses %s with 401', async (_name, make) => {
    const token = await make();
    expect(await statusWith(token)).toBe(401);
    // and on an operator-only endpoint: 401 (not 403: the token is not believed at all)
    expect(await statusWith(token, '/v1/admin/ledger/trial-balance')).toBe(401);
  });

  it('answers 401 in the error envelope', async () => {
    const r = await fetch(`${api.url}/v1/me`, {
      headers: { authorization: `Bearer ${await sign({ ...base(), exp: now() - 10 })}` },
    });
    expect(r.status).toBe(401);
    const body = (await r.json()) as { error: { code: string } };
    expect(body.error.code).toBe('unauthenticated');
  });
});
