'use server';

import { randomUUID } from 'node:crypto';
import { redirect } from 'next/navigation';
import type { ApiResult } from './api';
import { call, marketApi } from './client';
import { signJws, type JWK } from '@suanli/crypto';
import { getSession, loginUrl } from './session';

// Server Functions of the assessor portal (/assessor). Each answers with a redirect back to the
// portal carrying `?notice=` or `?error=&message=`, so the forms work without client JavaScript.

const PORTAL = '/assessor';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_UPLOAD = 64 * 1024;

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** A textarea's value, or else the text of the file input `fileName` (when one was chosen). */
async function textOrFile(form: FormData, name: string, fileName: string): Promise<string> {
  const text = field(form, name);
  if (text) return text;
  const file = form.get(fileName);
  if (file && typeof file === 'object' && 'text' in file && file.size > 0) {
    if (file.size > MAX_UPLOAD) return '';
    return (await file.text()).trim();
  }
  return '';
}

function back(params: Record<string, string>): never {
  redirect(`${PORTAL}?${new URLSearchParams(params).toString()}`);
}

function failed(code: string, message: string): never {
  back({ error: code, message: message.slice(0, 400) });
}

async function token(): Promise<string> {
  const session = await getSession();
  if (!session) redirect(loginUrl(PORTAL));
  return session.token;
}

function settle(result: ApiResult<unknown>, notice: string): never {
  if (result.ok) back({ notice });
  if (result.error.status === 401) redirect(loginUrl(PORTAL));
  failed(result.error.code, result.error.message);
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export async function registerKey(form: FormData): Promise<void> {
  const auth = await token();
  const jwk = parseJson(await textOrFile(form, 'publicJwk', 'publicJwkFile'));
  if (!jwk) failed('validation_failed', 'the public key is not a JSON object (JWK)');
  const rotate = field(form, 'rotate') === 'on';
  const client = marketApi(auth);
  const body = { publicJwk: jwk as { kty: 'OKP'; crv: 'Ed25519'; x: string } };
  const result = rotate
    ? await call(client.POST('/v1/assessors/me/keys/rotate', { body }))
    : await call(client.POST('/v1/assessors/me/keys', { body }));
  settle(result, 'keyRegistered');
}

export async function retireKey(form: FormData): Promise<void> {
  const auth = await token();
  const kid = field(form, 'kid');
  if (!kid) failed('validation_failed', 'kid is missing');
  const result = await call(
    marketApi(auth).POST('/v1/assessors/me/keys/{kid}/retire', { params: { path: { kid } } }),
  );
  settle(result, 'keyRetired');
}

export async function publishJws(form: FormData): Promise<void> {
  const auth = await token();
  const jws = await textOrFile(form, 'jws', 'jwsFile');
  if (!jws) failed('invalid_jws', 'paste a compact JWS or choose a file');
  const result = await call(marketApi(auth).POST('/v1/evaluations', { body: { jws } }));
  settle(result, 'published');
}

/**
 * Builds an evaluation from the form and signs it here with the private key sent along with
 * this one request. The key lives only in this function's memory: it is not stored, logged or
 * forwarded; only the resulting JWS goes to the market.
 */
export async function signAndPublish(form: FormData): Promise<void> {
  const auth = await token();
  const me = await call(marketApi(auth).GET('/v1/assessors/me'));
  if (!me.ok) settle(me, '');
  const privateJwk = parseJson(await textOrFile(form, 'privateJwk', 'privateJwkFile'));
  if (!privateJwk || typeof privateJwk.d !== 'string') {
    failed('invalid_jwk', 'a private JWK (with "d") is required to sign');
  }
  const metrics: Record<string, string> = {};
  for (const name of ['availability', 'perf_ratio', 'latency_ms_p50', 'security']) {
    const v = field(form, name);
    if (v) metrics[name] = v;
  }
  const days = Math.min(365, Math.max(1, Number(field(form, 'validDays')) || 30));
  const iat = Math.floor(Date.now() / 1000);
  const summary = field(form, 'summary');
  const payload = {
    iss: me.data.orgId,
    sub: field(form, 'subject'),
    iat,
    exp: iat + days * 86400,
    jti: randomUUID(),
    method: field(form, 'method'),
    metrics,
    ...(summary ? { summary: summary.slice(0, 1000) } : {}),
  };
  let jws: string;
  try {
    jws = await signJws(payload, privateJwk as JWK);
  } catch (e) {
    failed('invalid_jwk', e instanceof Error ? e.message : 'cannot sign with this key');
  }
  const result = await call(marketApi(auth).POST('/v1/evaluations', { body: { jws } }));
  settle(result, 'published');
}

export async function revokeEvaluation(form: FormData): Promise<void> {
  const auth = await token();
  const id = field(form, 'id');
  if (!UUID.test(id)) failed('validation_failed', 'evaluation id is missing');
  const reason = field(form, 'reason');
  const result = await call(
    marketApi(auth).POST('/v1/evaluations/{id}/revoke', {
      params: { path: { id } },
      body: reason ? { reason: reason.slice(0, 500) } : {},
    }),
  );
  settle(result, 'revoked');
}
