// `suanli assessor …`: keys and signed evaluations for credibility assessors.
import { randomUUID, webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  CryptoError,
  generateSigningKey,
  type JWK,
  jwkThumbprint,
  publicJwkOf,
  signJws,
} from '@suanli/crypto';

export const ASSESSOR_HELP = `suanli assessor — keys and signed evaluations (credibility assessors)

Usage:
  suanli assessor keygen [--out FILE] [--alg EdDSA|ES256] [--kid KID] [--force]
      Writes a private JWK to FILE (default assessor-key.jwk.json, mode 0600) and prints
      the public JWK (register it with \`assessor register\` or in the assessor portal).
  suanli assessor register --key FILE [--api URL]
      Registers the public part of the key in FILE as one of your assessor keys.
  suanli assessor sign PAYLOAD.json --key FILE [--out FILE]
      Signs the evaluation payload as a compact JWS (EdDSA or ES256, header kid = the key's).
      Missing iat (now), exp (iat + 30 days) and jti (a random UUID) are filled in.
  suanli assessor submit FILE.jws|- [--api URL]
      Submits the JWS (application/jose) to POST /v1/evaluations; prints the stored evaluation.

register and submit authenticate with the access token in $SUANLI_TOKEN.
--api defaults to $MARKET_API_URL or http://127.0.0.1:3100.
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function apiBase(args: string[]): string {
  return option(args, '--api') ?? process.env.MARKET_API_URL ?? 'http://127.0.0.1:3100';
}

function token(): string | null {
  const t = process.env.SUANLI_TOKEN;
  if (!t) {
    process.stderr.write('SUANLI_TOKEN is not set: log in as an assessor and export the token\n');
    return null;
  }
  return t;
}

function readJwk(path: string | undefined): JWK {
  if (!path) throw new UsageError('--key FILE is required');
  const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') {
    throw new UsageError(`${path} does not hold a JWK`);
  }
  return jwk;
}

class UsageError extends Error {}

async function keygen(args: string[]): Promise<number> {
  const out = option(args, '--out') ?? 'assessor-key.jwk.json';
  const alg = option(args, '--alg') ?? 'EdDSA';
  if (existsSync(out) && !args.includes('--force')) {
    process.stderr.write(`${out} exists; pass --force to overwrite it\n`);
    return 1;
  }
  let privateJwk: JWK;
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    privateJwk = (await generateSigningKey(option(args, '--kid'))).privateJwk;
  } else if (alg === 'ES256') {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
    const base = { kty, crv, x, y, d } as JWK;
    const kid = option(args, '--kid') ?? (await jwkThumbprint(base));
    privateJwk = { ...base, kid, alg: 'ES256', use: 'sig' };
  } else {
    throw new UsageError(`unknown --alg ${alg} (EdDSA or ES256)`);
  }
  writeFileSync(out, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  process.stderr.write(`private key written to ${out} (keep it secret)\n`);
  console.log(JSON.stringify(publicJwkOf(privateJwk), null, 2));
  return 0;
}

async function sign(args: string[]): Promise<number> {
  const file = args[0];
  if (!file || file.startsWith('--')) throw new UsageError('PAYLOAD.json is required');
  const key = readJwk(option(args, '--key'));
  const payload = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const iat = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
  const filled = {
    ...payload,
    iat,
    exp: typeof payload.exp === 'number' ? payload.exp : iat + 30 * 86400,
    jti: typeof payload.jti === 'string' ? payload.jti : randomUUID(),
  };
  const jws = await signJws(filled, key);
  const out = option(args, '--out');
  if (out) writeFileSync(out, `${jws}\n`);
  console.log(jws);
  return 0;
}

async function post(url: string, auth: string, body: string, type: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': type, authorization: `Bearer ${auth}` },
    body,
  });
  const text = await res.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as is
  }
  (res.ok ? process.stdout : process.stderr).write(`${shown}\n`);
  return res.ok ? 0 : 1;
}

async function register(args: string[]): Promise<number> {
  const key = readJwk(option(args, '--key'));
  const auth = token();
  if (!auth) return 1;
  return post(
    `${apiBase(args)}/v1/assessors/me/keys`,
    auth,
    JSON.stringify({ publicJwk: publicJwkOf(key) }),
    'application/json',
  );
}

async function submit(args: string[]): Promise<number> {
  const file = args[0];
  if (!file || (file.startsWith('--') && file !== '-'))
    throw new UsageError('FILE.jws is required');
  const jws = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  const auth = token();
  if (!auth) return 1;
  return post(`${apiBase(args)}/v1/evaluations`, auth, jws, 'application/jose');
}

/** Runs `suanli assessor <args>`; returns the exit code. */
export async function runAssessor(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'keygen':
        return await keygen(rest);
      case 'register':
        return await register(rest);
      case 'sign':
        return await sign(rest);
      case 'submit':
        return await submit(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(ASSESSOR_HELP);
        return 0;
      default:
        throw new UsageError(`unknown assessor command: ${sub}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${ASSESSOR_HELP}`);
      return 2;
    }
    if (e instanceof CryptoError || e instanceof SyntaxError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
