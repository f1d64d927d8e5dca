'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import type { LoginState, OrderState } from './action-types';
import { call, marketApi } from './client';
import { getSession, safeNext, storeSession } from './session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

export async function logIn(_prev: LoginState, form: FormData): Promise<LoginState> {
  const email = field(form, 'email');
  const password = typeof form.get('password') === 'string' ? String(form.get('password')) : '';
  if (!email || !password) return { email, error: { code: 'missing', message: '' } };

  const result = await call(marketApi().POST('/v1/auth/login', { body: { email, password } }));
  if (!result.ok) {
    const { code, message, correlationId } = result.error;
    return { email, error: { code, message, correlationId } };
  }
  await storeSession(result.data);
  redirect(safeNext(field(form, 'next')));
}

function positiveInt(raw: string, max: number): number | null {
  if (!/^\d{1,6}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : null;
}

export async function placeOrder(_prev: OrderState, form: FormData): Promise<OrderState> {
  const session = await getSession();
  if (!session) return { error: { code: 'unauthenticated', message: '' } };

  const offerId = field(form, 'offerId');
  const idempotencyKey = field(form, 'idempotencyKey');
  const slots = positiveInt(field(form, 'slots'), 10000);
  const hours = positiveInt(field(form, 'hours'), 8760);
  // Interruptible offers: the bid per slot-hour, an exact decimal string (never a float).
  const bid = form.get('bid');
  const bidText = typeof bid === 'string' && bid.trim() !== '' ? bid.trim() : undefined;
  if (!UUID.test(offerId) || !UUID.test(idempotencyKey) || slots === null || hours === null) {
    return { error: { code: 'invalid', message: '' } };
  }
  if (bidText !== undefined && !/^\d+(\.\d+)?$/.test(bidText)) {
    return { error: { code: 'invalid', message: '' } };
  }

  const result = await call(
    marketApi(session.token).POST('/v1/orders', {
      params: { header: { 'Idempotency-Key': idempotencyKey } },
      body: { offerId, slots, hours, ...(bidText !== undefined ? { bid: bidText } : {}) },
    }),
  );
  if (!result.ok) {
    const { code, message, correlationId } = result.error;
    return { error: { code, message, correlationId } };
  }
  revalidatePath(`/offers/${offerId}`);
  const order = result.data;
  return {
    order: {
      id: order.id,
      status: order.status,
      leaseId: order.lease?.id ?? '',
      leaseState: order.lease?.state ?? '',
    },
  };
}
