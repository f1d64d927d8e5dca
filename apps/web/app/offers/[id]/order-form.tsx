'use client';

import { useActionState } from 'react';
import Link from 'next/link';
import { ErrorBox } from '@/components/error-box';
import { placeOrder } from '@/lib/actions';
import type { OrderState } from '@/lib/action-types';
import type { Dict } from '@/lib/i18n/en';

interface Props {
  offerId: string;
  /** Generated once per render of the offer page; a resubmission of this form is a replay. */
  idempotencyKey: string;
  maxSlots: number;
  minHours: number;
  maxHours: number;
  /** Interruptible offers: the floor for bids (a decimal string), else null. */
  bidFloor: string | null;
  /** The bid's help text, rendered on the server (functions cannot cross to the client). */
  bidHelp: string;
  labels: Dict['offer']['order'];
  errors: Dict['errors'];
}

export function OrderForm(props: Props) {
  const { labels } = props;
  const [state, action, pending] = useActionState<OrderState, FormData>(placeOrder, {});
  return (
    <form action={action} className="stack">
      <input type="hidden" name="offerId" value={props.offerId} />
      <input type="hidden" name="idempotencyKey" value={props.idempotencyKey} />
      <div className="row">
        <label>
          <span>{labels.slots}</span>
          <input
            type="number"
            name="slots"
            min={1}
            max={props.maxSlots}
            step={1}
            defaultValue={1}
            required
          />
        </label>
        <label>
          <span>{labels.hours}</span>
          <input
            type="number"
            name="hours"
            min={props.minHours}
            max={props.maxHours}
            step={1}
            defaultValue={props.minHours}
            required
          />
        </label>
      </div>
      {props.bidFloor !== null ? (
        <label>
          <span>{labels.bid}</span>
          <input
            type="text"
            name="bid"
            inputMode="decimal"
            pattern={'\\d+(\\.\\d+)?'}
            defaultValue={props.bidFloor}
            required
            aria-describedby="bid-help"
          />
          <small id="bid-help" className="muted">
            {props.bidHelp}
          </small>
        </label>
      ) : null}
      <button type="submit" className="button" disabled={pending || Boolean(state.order)}>
        {pending ? labels.submitting : labels.submit}
      </button>
      {state.error ? (
        state.error.code === 'invalid' ? (
          <p className="notice notice-error" role="alert">
            {labels.invalid}
          </p>
        ) : (
          <ErrorBox error={state.error} labels={props.errors} />
        )
      ) : null}
      {state.order ? (
        <div
          className={`notice ${state.order.status === 'accepted' ? 'notice-ok' : 'notice-error'}`}
          role="status"
        >
          <strong className="notice-title">
            {state.order.status === 'accepted' ? labels.accepted : labels.rejected}
          </strong>
          {state.order.leaseId ? (
            <p className="notice-body">
              {labels.lease}: <code>{state.order.leaseId}</code> ·{' '}
              <Link href="/leases">{labels.viewLeases}</Link>
            </p>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
