'use server';

import { generateKeyPairSync } from 'node:crypto';
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import type { SupportedCurrency } from '@suanli/contracts';
import type { ApiError } from './api';
import { apiBaseUrl } from './api';
import { call, fieldErrors, marketApi } from './client';
import type { FormState } from './form-state';
import { priceFieldFor, priceRows, pricingModel } from './offer-prices';
import { getI18n } from './i18n/server';
import { getSession, loginUrl, storeSession } from './session';

/**
 * Server Functions behind the storefront's forms (sign-up, seller, operator). Each answers a
 * `FormState`: the API's error and field errors on failure (shown in place by `<LiveForm>`),
 * or redirects / a notice on success.
 */

function str(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

function all(form: FormData, name: string): string[] {
  return form.getAll(name).filter((v): v is string => typeof v === 'string');
}

/** A whole count typed by a person (not money): digits only, else undefined. */
function count(form: FormData, name: string): number | undefined {
  const raw = str(form, name);
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

function values(form: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of form.entries()) {
    if (typeof value === 'string' && !key.startsWith('$') && !/password|secret/i.test(key)) {
      out[key] = value;
    }
  }
  return out;
}

function failed(error: ApiError, form: FormData): FormState {
  return {
    error: { code: error.code, message: error.message, correlationId: error.correlationId },
    fields: fieldErrors(error),
    values: values(form),
  };
}

async function sessionOr(next: string) {
  const session = await getSession();
  if (!session) redirect(loginUrl(next));
  return session;
}

// ---------- sign-up ----------

export async function signUp(_prev: FormState, form: FormData): Promise<FormState> {
  const roles = all(form, 'organization.roles').filter(
    (r): r is 'buyer' | 'seller' => r === 'buyer' || r === 'seller',
  );
  const result = await call(
    marketApi().POST('/v1/auth/signup', {
      body: {
        email: str(form, 'email'),
        password: typeof form.get('password') === 'string' ? String(form.get('password')) : '',
        displayName: str(form, 'displayName'),
        organization: {
          name: str(form, 'organization.name'),
          roles,
          industry: str(form, 'organization.industry') || 'I',
        },
      },
    }),
  );
  if (!result.ok) return failed(result.error, form);
  await storeSession(result.data);
  redirect(roles.includes('seller') && !roles.includes('buyer') ? '/seller/resources' : '/wallet');
}

// ---------- seller ----------

export async function registerResource(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/seller/resources/new');
  const accelCount = count(form, 'spec.accel.count');
  const accelModel = str(form, 'spec.accel.model');
  const spec = {
    ...(count(form, 'spec.cpu') !== undefined ? { cpu: count(form, 'spec.cpu') } : {}),
    ...(count(form, 'spec.memGiB') !== undefined ? { memGiB: count(form, 'spec.memGiB') } : {}),
    ...(accelCount !== undefined || accelModel
      ? { accel: { count: accelCount ?? 0, model: accelModel } }
      : {}),
    ...(count(form, 'spec.storageGiB') !== undefined
      ? { storageGiB: count(form, 'spec.storageGiB') }
      : {}),
  };
  const result = await call(
    marketApi(session.token).POST('/v1/resources', {
      body: {
        name: str(form, 'name'),
        class: str(form, 'class') as 'GEN' | 'AI' | 'HPC',
        form: str(form, 'form') as 'BM' | 'VM' | 'CTR' | 'API' | 'JOB',
        location: {
          country: str(form, 'location.country').toUpperCase(),
          subdivision: str(form, 'location.subdivision').toUpperCase(),
          site: str(form, 'location.site').toUpperCase(),
        },
        spec,
        capacity: count(form, 'capacity') ?? 1,
      },
    }),
  );
  if (!result.ok) return failed(result.error, form);
  revalidatePath('/seller/resources');
  redirect(`/seller/resources/${(result.data as { id: string }).id}/agent`);
}

/**
 * Enrols an agent for a resource: the key pair is made here, only the public key goes to the
 * API, and the private key is answered once (in the command to copy) and never stored.
 */
export async function enrolAgent(_prev: FormState, form: FormData): Promise<FormState> {
  const resourceId = str(form, 'resourceId');
  const session = await sessionOr(`/seller/resources/${resourceId}/agent`);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  const result = await call(
    marketApi(session.token).POST('/v1/resources/{id}/agents', {
      params: { path: { id: resourceId } },
      body: { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String(publicJwk.x) } },
    }),
  );
  if (!result.ok) return failed(result.error, form);
  const agent = result.data as { id: string; kid: string; handle: string };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: agent.kid };
  const file = `agent-${agent.id.slice(0, 8)}.jwk.json`;
  const marketUrl = process.env.PUBLIC_MARKET_API_URL || apiBaseUrl();
  const brokers =
    process.env.PUBLIC_KAFKA_BROKERS || process.env.KAFKA_BROKERS || 'KAFKA_HOST:9092';
  const command = [
    `cat > ${file} <<'EOF'`,
    JSON.stringify(privateJwk),
    'EOF',
    `npx suanli agent --agent-id ${agent.id} --key-file ${file} \\`,
    `  --resource-cri '${str(form, 'cri')}' --class ${str(form, 'class') || 'AI'} \\`,
    `  --market-api ${marketUrl} --brokers ${brokers}`,
  ].join('\n');
  revalidatePath('/seller/resources');
  const { t } = await getI18n();
  return { notice: t.j.agent.enrolled, result: { agentId: agent.id, command } };
}

export async function createOffer(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/seller/offers/new');
  const model = pricingModel(str(form, 'pricingModel'));
  const { rows: prices, invalid } = priceRows(model, (name) => str(form, name));
  if (invalid.length > 0) {
    const { t } = await getI18n();
    return {
      fields: Object.fromEntries(invalid.map((name) => [name, t.j.offerForm.tiersInvalid])),
      values: values(form),
    };
  }
  const result = await call(
    marketApi(session.token).POST('/v1/offers', {
      body: {
        resourceId: str(form, 'resourceId'),
        title: str(form, 'title'),
        // Any other code is refused by the API (400), which the form shows.
        currency: str(form, 'currency') as SupportedCurrency,
        capacity: count(form, 'capacity') ?? 0,
        pricingModel: model,
        prices,
        minHours: count(form, 'minHours') ?? 1,
        maxHours: count(form, 'maxHours') ?? 720,
      },
    }),
  );
  if (!result.ok) {
    const state = failed(result.error, form);
    // "prices.0.tiers.1.upTo" names a field of the n-th priced unit: show it under that field.
    const fields: Record<string, string> = {};
    for (const [path, message] of Object.entries(state.fields ?? {})) {
      fields[priceFieldFor(model, path, prices)] ??= message;
    }
    return { ...state, fields };
  }
  revalidatePath('/seller/offers');
  redirect('/seller/offers?created=1');
}

// ---------- operator ----------

export async function admitOrganization(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/operator/members');
  const roles = all(form, 'organization.roles') as ('buyer' | 'seller' | 'assessor' | 'operator')[];
  const result = await call(
    marketApi(session.token).POST('/v1/admin/organizations', {
      body: {
        email: str(form, 'email'),
        password: typeof form.get('password') === 'string' ? String(form.get('password')) : '',
        displayName: str(form, 'displayName'),
        organization: {
          name: str(form, 'organization.name'),
          roles,
          industry: str(form, 'organization.industry') || 'I',
        },
        // The OpenAPI document does not describe this body yet (typed `undefined` there).
      } as never,
    }),
  );
  if (!result.ok) return failed(result.error, form);
  revalidatePath('/operator/members');
  revalidatePath('/operator/assessors');
  const { t } = await getI18n();
  return { notice: t.j.members.admitted(str(form, 'organization.name')) };
}

export async function grantRoles(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/operator/members');
  const result = await call(
    marketApi(session.token).POST('/v1/admin/organizations/{id}/roles', {
      params: { path: { id: str(form, 'orgId') } },
      // The OpenAPI document does not describe this body yet (typed `undefined` there).
      body: { roles: all(form, 'roles') } as never,
    }),
  );
  if (!result.ok) return failed(result.error, form);
  revalidatePath('/operator/members');
  const { t } = await getI18n();
  return { notice: t.j.members.granted };
}

export async function accreditAssessor(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/operator/assessors');
  const result = await call(
    marketApi(session.token).POST('/v1/admin/assessors/{orgId}/accreditation', {
      params: { path: { orgId: str(form, 'orgId') } },
      body: { level: count(form, 'level') ?? 0 },
    }),
  );
  if (!result.ok) return failed(result.error, form);
  revalidatePath('/operator/assessors');
  const { t } = await getI18n();
  return { notice: t.j.assessors.accredited };
}

export async function setFees(_prev: FormState, form: FormData): Promise<FormState> {
  const session = await sessionOr('/operator/fees');
  const note = str(form, 'note');
  const result = await call(
    marketApi(session.token).PUT('/v1/admin/fees', {
      body: { takeRate: str(form, 'takeRate'), ...(note ? { note } : {}) },
    }),
  );
  if (!result.ok) return failed(result.error, form);
  revalidatePath('/operator/fees');
  const { t } = await getI18n();
  return { notice: t.j.fees.saved };
}
