'use server';

import { revalidatePath } from 'next/cache';
import { call, marketApi } from './client';
import { getSession } from './session';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTIONS = ['pause', 'resume', 'close'] as const;

/** Pauses, resumes or closes one of the seller's offers (form: offerId, action). */
export async function changeOfferStatus(form: FormData): Promise<void> {
  const session = await getSession();
  const offerId = String(form.get('offerId') ?? '');
  const action = String(form.get('action') ?? '');
  if (!session || !UUID.test(offerId) || !(ACTIONS as readonly string[]).includes(action)) return;
  const client = marketApi(session.token);
  const path = { params: { path: { id: offerId } } };
  await call(
    action === 'pause'
      ? client.POST('/v1/offers/{id}/pause', path)
      : action === 'resume'
        ? client.POST('/v1/offers/{id}/resume', path)
        : client.POST('/v1/offers/{id}/close', path),
  );
  revalidatePath('/seller/offers');
}
