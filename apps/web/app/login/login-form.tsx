'use client';

import { useActionState } from 'react';
import { ErrorBox } from '@/components/error-box';
import { logIn } from '@/lib/actions';
import type { LoginState } from '@/lib/action-types';
import type { Dict } from '@/lib/i18n/en';

interface Props {
  next: string;
  labels: Dict['login'];
  errors: Dict['errors'];
}

export function LoginForm({ next, labels, errors }: Props) {
  const [state, action, pending] = useActionState<LoginState, FormData>(logIn, {});
  return (
    <form action={action} className="stack">
      <input type="hidden" name="next" value={next} />
      <label>
        <span>{labels.email}</span>
        <input
          type="email"
          name="email"
          autoComplete="username"
          defaultValue={state.email}
          required
          maxLength={254}
        />
      </label>
      <label>
        <span>{labels.password}</span>
        <input type="password" name="password" autoComplete="current-password" required />
      </label>
      {state.error ? (
        state.error.code === 'missing' ? (
          <p className="notice notice-error" role="alert">
            {labels.missing}
          </p>
        ) : (
          <ErrorBox
            error={state.error}
            labels={{ ...errors, codes: { ...errors.codes, unauthenticated: labels.failed } }}
          />
        )
      ) : null}
      <button type="submit" className="button" disabled={pending}>
        {pending ? labels.submitting : labels.submit}
      </button>
    </form>
  );
}
