'use server';

import { redirect } from 'next/navigation';
import { call, marketApi } from './client';
import { loginUrl, getSession } from './session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AMOUNT = /^\d{1,9}(\.\d{1,2})?$/;
const CURRENCY = /^[A-Z]{3}$/;

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Starts a wallet top-up: Stripe Checkout (the buyer is sent to its page), or in test mode an
 * immediate credit (back to the wallet). The form carries a rendered UUID as Idempotency-Key.
 */
export async function startTopUp(form: FormData): Promise<void> {
  const session = await getSession();
  if (!session) redirect(loginUrl('/wallet'));
  const amount = field(form, 'amount');
  const currency = field(form, 'currency');
  const key = field(form, 'idempotencyKey');
  if (!AMOUNT.test(amount) || !CURRENCY.test(currency) || !UUID.test(key)) {
    redirect('/wallet?topup=invalid');
  }
  const result = await call(
    marketApi(session.token).POST('/v1/wallet/top-ups', {
      params: { header: { 'Idempotency-Key': key } },
      // The OpenAPI document does not describe this body yet (typed `undefined` there).
      body: { currency, amount } as never,
    }),
  );
  if (!result.ok) redirect(`/wallet?topup=error&code=${encodeURIComponent(result.error.code)}`);
  if (result.data.checkoutUrl) redirect(result.data.checkoutUrl);
  redirect(`/wallet?topup=${result.data.status === 'paid' ? 'success' : 'pending'}`);
}

/** Seller: creates the Connect account (once) and goes to Stripe's onboarding page. */
export async function connectPayouts(): Promise<void> {
  const session = await getSession();
  if (!session) redirect(loginUrl('/seller/earnings'));
  const result = await call(marketApi(session.token).POST('/v1/earnings/connect-account'));
  if (!result.ok) redirect(`/seller/earnings?connect=error`);
  redirect(result.data.url ?? '/seller/earnings?connect=done');
}
